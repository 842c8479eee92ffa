// The ARI answer CheckExpiry keeps in a certificate's tags, so the "nothing due"
// path asks the CA only when the cached answer is stale (its Retry-After passed,
// or it is for another certificate), and the random renewal time stays put while
// the window does not move. Pure: the tag's text, what to do, the next cache.
import type { RenewalWindow } from '../renewal.js';
import { type AriWindow, nextAriCheck, renewalTimeInWindow } from './ari.js';

/** What one renewalInfo answer left us, for one certificate. */
export interface AriCache {
  /** The certificate the answer is for (RFC 9773 §4.1). */
  readonly certId: string;
  readonly window: AriWindow;
  /** Chosen once inside the window; kept while the window is the same. */
  readonly renewalTime: Date;
  /** When the answer goes stale (the CA's Retry-After, bounded). */
  readonly nextCheck: Date;
}

// Secrets Manager tag values allow letters, digits, spaces and _ . : / = + - @ only:
// the fields are separated by spaces, and an explanation URL with other characters is left out.
const TAG_SAFE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const MAX_TAG_VALUE = 255;

/** The cache tag's value: `<certId> <start> <end> <renewalTime> <nextCheck>`. */
export function encodeAriCache(cache: AriCache): string {
  const iso = (d: Date) => d.toISOString();
  return [cache.certId, iso(cache.window.start), iso(cache.window.end), iso(cache.renewalTime), iso(cache.nextCheck)].join(' ');
}

/** The explanation tag's value, when the URL fits in a tag. */
export function encodeExplanation(url: string | undefined): string | undefined {
  return url && url.length <= MAX_TAG_VALUE && TAG_SAFE.test(url) ? url : undefined;
}

export function decodeAriCache(value: string | undefined, explanationUrl?: string): AriCache | undefined {
  const parts = value?.split(' ');
  if (!parts || parts.length !== 5) return undefined;
  const [certId, ...times] = parts as [string, string, string, string, string];
  const [start, end, renewalTime, nextCheck] = times.map((t) => new Date(t)) as [Date, Date, Date, Date];
  if ([start, end, renewalTime, nextCheck].some((d) => Number.isNaN(d.getTime()))) return undefined;
  return { certId, window: { start, end, ...(explanationUrl ? { explanationUrl } : {}) }, renewalTime, nextCheck };
}

/** Whether CheckExpiry asks the CA for this certificate in this run. */
export function ariNeedsFetch(certId: string, cache: AriCache | undefined, now: Date): boolean {
  return !cache || cache.certId !== certId || now.getTime() >= cache.nextCheck.getTime();
}

/**
 * The cache after an answer: the same window keeps its renewal time; a moved one
 * gets a new time from `fraction` (drawn in [0, 1) by the caller). A window that
 * lies in the past gives a time in the past: the certificate is due now.
 */
export function ariCacheAfter(
  certId: string,
  previous: AriCache | undefined,
  window: AriWindow,
  retryAfter: string | null | undefined,
  now: Date,
  fraction: number,
): AriCache {
  const same =
    previous?.certId === certId &&
    previous.window.start.getTime() === window.start.getTime() &&
    previous.window.end.getTime() === window.end.getTime();
  return {
    certId,
    window,
    renewalTime: same ? previous.renewalTime : renewalTimeInWindow(window, fraction),
    nextCheck: nextAriCheck(retryAfter, now),
  };
}

/**
 * Let's Encrypt exempts a renewal from its rate limits when it names the
 * certificate it replaces and comes inside (or after) the suggested window.
 */
export function ariExempt(cache: AriCache | undefined, now: Date): boolean {
  return !!cache && now.getTime() >= cache.window.start.getTime();
}

/** The window to decide with, from what is kept: the last answer for the current certificate, stale or not. */
export function keptWindow(facts: { ariCertId?: string; ariCache?: AriCache } | undefined): RenewalWindow | undefined {
  const cache = facts?.ariCache;
  return cache && cache.certId === facts.ariCertId ? asRenewalWindow(cache) : undefined;
}

export function asRenewalWindow(cache: AriCache): RenewalWindow {
  return { ...cache.window, renewalTime: cache.renewalTime };
}
