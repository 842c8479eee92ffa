// The budget's ledger: what the CA counts that no issued certificate shows, the orders
// placed and the authorizations that failed, kept in two tags on the certificate's own
// secret (no database; CheckExpiry already reads these tags with its one ListSecrets).
// A tag value holds 255 characters, so times are epoch seconds in base 36, rounded up
// (a slot then opens a second late rather than early), and only what is still inside
// the limit's window is kept; when more would not fit, the oldest go first. Pure.
import { createHash } from 'node:crypto';
import { LIMIT_WINDOW_MS } from './limits.js';

const MAX_TAG_VALUE = 255;
/** Failed identifiers are kept as a digest: a name may be 253 characters, a tag value only 255. */
const IDENTIFIER_DIGEST_CHARS = 6;

export interface LedgerFailure {
  /** The identifier as the CA names it (a wildcard's authorization is for its base name). */
  identifier: string;
  at: Date;
}

const toSeconds36 = (at: Date) => Math.ceil(at.getTime() / 1000).toString(36);
const fromSeconds36 = (text: string): Date | undefined => {
  if (!/^[0-9a-z]{1,8}$/.test(text)) return undefined;
  return new Date(parseInt(text, 36) * 1000);
};

/** The identifier an authorization for `name` is counted under: lower case, a wildcard's base name. */
export function authorizationIdentifier(name: string): string {
  return name.toLowerCase().replace(/^\*\./, '');
}

export function identifierDigest(identifier: string): string {
  return createHash('sha256').update(authorizationIdentifier(identifier)).digest('hex').slice(0, IDENTIFIER_DIGEST_CHARS);
}

/** Newest entries that fit in one tag value, written oldest first. */
function fit(entries: { at: number; text: string }[]): string {
  const kept: string[] = [];
  let length = -1;
  for (const e of [...entries].sort((a, b) => b.at - a.at)) {
    if (length + 1 + e.text.length > MAX_TAG_VALUE) break;
    kept.unshift(e.text);
    length += 1 + e.text.length;
  }
  return kept.join(' ');
}

const inside = (windowMs: number, now: Date) => (at: Date) => at.getTime() > now.getTime() - windowMs;

/** The `certpipe:orders` value after adding `placed`: the order times inside the 3-hour window. */
export function appendOrder(previous: string | undefined, placed: Date): string {
  return encodeOrders([...decodeOrders(previous), placed].filter(inside(LIMIT_WINDOW_MS.newOrdersPer3Hours, placed)));
}

export function encodeOrders(times: readonly Date[]): string {
  return fit(times.map((at) => ({ at: at.getTime(), text: toSeconds36(at) })));
}

export function decodeOrders(value: string | undefined): Date[] {
  return (value ?? '').split(' ').flatMap((t) => fromSeconds36(t) ?? []);
}

/** The `certpipe:failed-authz` value after adding failures of `identifiers` at `at`: those inside the hour. */
export function appendFailures(previous: string | undefined, identifiers: readonly string[], at: Date): string {
  const keep = inside(LIMIT_WINDOW_MS.failedAuthorizationsPerIdentifierPerHour, at);
  const entries = decodeFailureEntries(previous).filter((e) => keep(e.at));
  for (const id of new Set(identifiers.map(authorizationIdentifier))) entries.push({ at, digest: identifierDigest(id) });
  return fit(entries.map((e) => ({ at: e.at.getTime(), text: `${toSeconds36(e.at)}:${e.digest}` })));
}

function decodeFailureEntries(value: string | undefined): { at: Date; digest: string }[] {
  return (value ?? '').split(' ').flatMap((entry) => {
    const [time = '', digest = ''] = entry.split(':');
    const at = fromSeconds36(time);
    return at && /^[0-9a-f]+$/.test(digest) ? [{ at, digest }] : [];
  });
}

/**
 * The failures recorded on a certificate's secret, named by the certificate's own names
 * (`names`: the digests are resolved against them). A digest that matches none of them
 * (the names changed since) cannot concern any order this certificate places: dropped.
 */
export function decodeFailures(value: string | undefined, names: readonly string[]): LedgerFailure[] {
  const byDigest = new Map(names.map((n) => [identifierDigest(n), authorizationIdentifier(n)]));
  return decodeFailureEntries(value).flatMap((e) => {
    const identifier = byDigest.get(e.digest);
    return identifier ? [{ identifier, at: e.at }] : [];
  });
}
