// Account key rollover (RFC 8555 §7.3.5) as a decision over what is stored and
// what the CA says. The new key is stored (AWSPENDING of the account secret)
// before the CA hears of it and promoted to AWSCURRENT only after the CA
// accepted it, so a crash at any point leaves a key the CA accepts stored:
// the next `certpipe account rollover` reads where it stopped and goes on.
import type { AcmeAccountSecret } from './account.js';

export type RolloverStep =
  /** No rollover in flight: store a new key as pending. */
  | { action: 'stage'; message: string }
  /** A pending key the CA has not heard of (or refused): send keyChange with it. */
  | { action: 'keyChange'; message: string }
  /** The CA already binds the account to the pending key: make it current. */
  | { action: 'promote'; message: string }
  /** The pending key belongs to another account or directory: drop it, then stage afresh. */
  | { action: 'discard'; message: string }
  /** The account was never registered: nothing to roll over. */
  | { action: 'refuse'; message: string };

export interface RolloverFacts {
  current: AcmeAccountSecret;
  pending?: AcmeAccountSecret;
  /** Asked only when `pending` belongs to the current account: does the CA accept its key for the account URL? */
  caAcceptsPending?: boolean;
}

export function rolloverStep({ current, pending, caAcceptsPending }: RolloverFacts): RolloverStep {
  if (!current.accountUrl) return { action: 'refuse', message: 'the account is not registered at the CA yet; a first renewal registers it' };
  if (!pending) return { action: 'stage', message: 'storing a new key as pending before telling the CA' };
  if (pending.accountUrl !== current.accountUrl || pending.directoryUrl !== current.directoryUrl) {
    return { action: 'discard', message: `the pending key is for ${pending.accountUrl ?? 'no account'} at ${pending.directoryUrl}, not this account` };
  }
  if (pending.accountKey === current.accountKey) return { action: 'promote', message: 'the pending key is already current' };
  return caAcceptsPending
    ? { action: 'promote', message: 'the CA already accepts the pending key (an earlier rollover stopped before promoting it)' }
    : { action: 'keyChange', message: 'asking the CA to bind the account to the pending key' };
}

/** Whether `rolloverStep` needs the CA's view of the pending key. */
export function needsCaProbe({ current, pending }: Omit<RolloverFacts, 'caAcceptsPending'>): boolean {
  return (
    current.accountUrl !== undefined &&
    pending !== undefined &&
    pending.accountUrl === current.accountUrl &&
    pending.directoryUrl === current.directoryUrl &&
    pending.accountKey !== current.accountKey
  );
}

/** A refusal of the signature itself (`malformed` or `unauthorized`, per CA): maybe the key was rolled over meanwhile. */
export function mayBeRolledOverKey(refusal: { type?: string }): boolean {
  const type = refusal.type?.replace('urn:ietf:params:acme:error:', '');
  return type === 'malformed' || type === 'unauthorized';
}

/**
 * A warm function signing with a key that a rollover replaced meanwhile: the
 * stored account is the same account with another key. Then the stored key is
 * used, never a new registration (which would give the old key a new account).
 */
export function shouldAdoptStoredKey(signedWith: { key: string; url: string }, stored: AcmeAccountSecret | undefined, directoryUrl: string): boolean {
  return stored !== undefined && stored.directoryUrl === directoryUrl && stored.accountUrl === signedWith.url && stored.accountKey !== signedWith.key;
}
