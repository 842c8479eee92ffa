// The account key rollover decision: from any point a run can stop at, the
// next run finds a step that ends with the CA and the store on the same key.
import { describe, expect, it } from 'vitest';
import type { AcmeAccountSecret } from '../../functions/lib/acme/account.js';
import { mayBeRolledOverKey, needsCaProbe, rolloverStep, shouldAdoptStoredKey, type RolloverFacts } from '../../functions/lib/acme/rollover.js';

const DIR = 'https://ca.test/dir';
const URL = 'https://ca.test/acct/1';
const current: AcmeAccountSecret = { accountKey: 'OLD', accountUrl: URL, directoryUrl: DIR };
const pending: AcmeAccountSecret = { accountKey: 'NEW', accountUrl: URL, directoryUrl: DIR };

describe('rolloverStep', () => {
  it.each<[string, RolloverFacts, string]>([
    ['never registered: nothing to roll over', { current: { accountKey: 'OLD', directoryUrl: DIR } }, 'refuse'],
    ['nothing pending: store the new key first', { current }, 'stage'],
    ['stopped after storing, before the CA heard of it', { current, pending, caAcceptsPending: false }, 'keyChange'],
    ['stopped after the CA accepted, before promoting', { current, pending, caAcceptsPending: true }, 'promote'],
    ['stopped between promoting and dropping the pending label', { current: pending, pending }, 'promote'],
    ['a pending key of another account', { current, pending: { ...pending, accountUrl: 'https://ca.test/acct/2' } }, 'discard'],
    ['a pending key for another directory', { current, pending: { ...pending, directoryUrl: 'https://other.test/dir' } }, 'discard'],
  ])('%s → %s', (_case, facts, action) => {
    expect(rolloverStep(facts).action).toBe(action);
  });

  it('asks the CA only when the answer decides between keyChange and promote', () => {
    expect(needsCaProbe({ current })).toBe(false);
    expect(needsCaProbe({ current, pending })).toBe(true);
    expect(needsCaProbe({ current: pending, pending })).toBe(false);
    expect(needsCaProbe({ current, pending: { ...pending, accountUrl: 'https://ca.test/acct/2' } })).toBe(false);
  });

  it('a run that stops at each point is finished by the next: stage → keyChange → promote', () => {
    // Simulated store and CA: the state after each step, as the next run would find it.
    let stored: RolloverFacts = { current };
    let caKey = 'OLD';
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) {
      const facts = { ...stored, ...(stored.pending && needsCaProbe(stored) ? { caAcceptsPending: caKey === stored.pending.accountKey } : {}) };
      const step = rolloverStep(facts);
      seen.push(step.action);
      if (step.action === 'stage') stored = { current, pending };
      else if (step.action === 'keyChange') caKey = stored.pending!.accountKey; // then "crash" before promoting
      else if (step.action === 'promote') break;
    }
    expect(seen).toEqual(['stage', 'keyChange', 'promote']);
    expect(caKey).toBe('NEW');
  });
});

describe('a warm session after a rollover elsewhere', () => {
  const signedWith = { key: 'OLD', url: URL };

  it.each([
    ['malformed (Pebble: JWS verification error)', 'urn:ietf:params:acme:error:malformed', true],
    ['unauthorized', 'urn:ietf:params:acme:error:unauthorized', true],
    ['rate limited', 'urn:ietf:params:acme:error:rateLimited', false],
    ['no type', undefined, false],
  ])('a %s refusal may mean the key was rolled over: %s', (_case, type, expected) => {
    expect(mayBeRolledOverKey(type ? { type } : {})).toBe(expected);
  });

  it.each<[string, AcmeAccountSecret | undefined, boolean]>([
    ['same account, another key stored: adopt it', pending, true],
    ['the same key stored: nothing to adopt (the refusal is about something else)', current, false],
    ['another account stored (registered again elsewhere): not a rollover', { ...pending, accountUrl: 'https://ca.test/acct/2' }, false],
    ['another directory stored', { ...pending, directoryUrl: 'https://other.test/dir' }, false],
    ['nothing stored', undefined, false],
  ])('%s', (_case, stored, expected) => {
    expect(shouldAdoptStoredKey(signedWith, stored, DIR)).toBe(expected);
  });
});
