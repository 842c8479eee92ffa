// Who still needs a certificate's challenge TXT values, kept in tags of its
// primary secret so CleanupChallenges needs neither the ACME account nor the
// private key in AWSPENDING to know what to remove and whether it may. Pure.
//
//   certpipe:challenge-values:<order digest>:<n>  the values PlaceChallenges is about
//       to write for one order, as space-separated prefixes (tag values allow no
//       comma); written BEFORE the DNS change, so a run that fails halfway is
//       still cleaned up, whatever state the order is in at the CA.
//   certpipe:challenge-holder:<execution digest>  an execution working on the
//       values, with the time its lease ends (the execution can run no longer).
//
// Two executions may share one order (the second resumes the first's claim) and
// so the same TXT values: the values are removed only by the last holder out.
import { createHash } from 'node:crypto';
import { TAG } from '../tagNames.js';

export const VALUES_TAG_PREFIX = TAG.challengeValuesPrefix;
export const HOLDER_TAG_PREFIX = TAG.challengeHolderPrefix;

// A DNS-01 value is base64url(SHA-256), 43 characters: 16 of them (96 bits) tell
// ours from any other writer's value, and 15 fit one 255-character tag value.
export const VALUE_PREFIX_LENGTH = 16;
const PREFIXES_PER_TAG = 15;
const DNS01_VALUE = /^[A-Za-z0-9_-]{43}$/;

const digest = (text: string, length: number) => createHash('sha256').update(text).digest('hex').slice(0, length);

export const holderTagKey = (executionId: string) => `${HOLDER_TAG_PREFIX}${digest(executionId, 16)}`;

/** The tags recording the values written for `orderUrl` (one tag per 15 values). */
export function valuesTags(orderUrl: string, values: readonly string[]): { Key: string; Value: string }[] {
  const prefixes = [...new Set(values.map((v) => v.slice(0, VALUE_PREFIX_LENGTH)))].sort();
  const tags: { Key: string; Value: string }[] = [];
  for (let i = 0; i < prefixes.length; i += PREFIXES_PER_TAG) {
    tags.push({ Key: `${VALUES_TAG_PREFIX}${digest(orderUrl, 8)}:${i / PREFIXES_PER_TAG}`, Value: prefixes.slice(i, i + PREFIXES_PER_TAG).join(' ') });
  }
  return tags;
}

/** True when a TXT value is one whose prefix was recorded (only full DNS-01 values can match). */
export function matchesRecorded(prefixes: ReadonlySet<string>, value: string): boolean {
  return DNS01_VALUE.test(value) && prefixes.has(value.slice(0, VALUE_PREFIX_LENGTH));
}

/** What the secret's tags say about challenge values in flight. */
export interface ChallengeTags {
  /** certpipe:pending-order: the order in flight, if any. */
  orderUrl?: string;
  /** Recorded value prefixes, with the tag keys that hold them. */
  valuePrefixes: Set<string>;
  valueTagKeys: string[];
  /** Holder tag key → end of its lease (ms since epoch; NaN when unreadable). */
  holders: Map<string, number>;
}

export function readChallengeTags(tags: ReadonlyMap<string, string>, pendingOrderTag: string): ChallengeTags {
  const result: ChallengeTags = { valuePrefixes: new Set(), valueTagKeys: [], holders: new Map() };
  const orderUrl = tags.get(pendingOrderTag);
  if (orderUrl) result.orderUrl = orderUrl;
  for (const [key, value] of tags) {
    if (key.startsWith(VALUES_TAG_PREFIX)) {
      result.valueTagKeys.push(key);
      for (const p of value.split(' ')) if (p) result.valuePrefixes.add(p);
    } else if (key.startsWith(HOLDER_TAG_PREFIX)) {
      result.holders.set(key, Date.parse(value));
    }
  }
  return result;
}

export interface CleanupDecision {
  /** Remove our TXT values from DNS now. */
  removeRecords: boolean;
  /** 'last-holder' | 'others-hold': why, for the log and the result. */
  reason: 'last-holder' | 'others-hold';
  /** Holders still working on the values (not this execution, lease not ended). */
  liveHolders: string[];
  /** Tags to drop: expired holders' always; the value tags only together with the records. */
  untag: string[];
}

/**
 * Decide, AFTER this execution's own holder tag is gone, whether the values may
 * go. Another holder whose lease has not ended may still need them (its
 * propagation check or the CA's validation reads them): leave them, it removes
 * them when it cleans up. A holder whose lease ended belongs to an execution
 * that cannot still run (it was stopped or timed out before cleaning up): ignore
 * it and drop its tag. An unreadable lease counts as ended.
 */
export function decideCleanup(input: { holders: ReadonlyMap<string, number>; valueTagKeys: readonly string[]; nowMs: number }): CleanupDecision {
  const live: string[] = [];
  const expired: string[] = [];
  for (const [key, until] of input.holders) (until > input.nowMs ? live : expired).push(key);
  live.sort();
  expired.sort();
  if (live.length) return { removeRecords: false, reason: 'others-hold', liveHolders: live, untag: expired };
  return { removeRecords: true, reason: 'last-holder', liveHolders: [], untag: [...expired, ...input.valueTagKeys] };
}
