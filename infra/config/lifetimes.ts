// Short lifetimes: the schedule must run often enough for the shortest certificate
// lifetime configured. The lifetime is not in the config (the CA decides it), so it
// is expected from the profile as Let's Encrypt documents its profiles, or from the
// issuer's `lifetime` hint; with neither, the classic 90 days.
import { parseRenewBefore } from './formats.js';
import type { CrossProblem } from './checks.js';

const HOUR = 3600;
const DAY = 24 * HOUR;

/** Let's Encrypt's profiles: classic 90 days (until 2027), tlsserver 45 days, shortlived 160 hours. */
export const PROFILE_LIFETIME_SECONDS: Readonly<Record<string, number>> = {
  classic: 90 * DAY,
  tlsserver: 45 * DAY,
  shortlived: 160 * HOUR,
};
export const DEFAULT_LIFETIME_SECONDS = 90 * DAY;

/**
 * Runs per default renewal window (a third of the lifetime): six leave room for a
 * few failed runs and for a CA that defers with Retry-After, and still renew with
 * days (or, for 160 h, a day) to spare.
 */
export const RUNS_PER_RENEWAL_WINDOW = 6;
const MAX_INTERVAL_SHARE = 1 / (3 * RUNS_PER_RENEWAL_WINDOW);

const RATE_UNIT_SECONDS: Record<string, number> = { minute: 60, minutes: 60, hour: HOUR, hours: HOUR, day: DAY, days: DAY };

/** Seconds between runs of a `rate()` schedule; undefined for cron (its gaps vary) or anything else. */
export function rateIntervalSeconds(schedule: string): number | undefined {
  const m = /^rate\((\d+)\s+([a-z]+)\)$/.exec(schedule.trim());
  const seconds = m ? Number(m[1]) * (RATE_UNIT_SECONDS[m[2]!] ?? Number.NaN) : Number.NaN;
  return Number.isFinite(seconds) && seconds > 0 ? seconds : undefined;
}

/** The lifetime to expect: a known profile's, else the issuer's `lifetime` hint, else 90 days. */
export function expectedLifetimeSeconds(profile: string | undefined, lifetimeHint: string | undefined): number {
  const known = profile !== undefined ? PROFILE_LIFETIME_SECONDS[profile] : undefined;
  if (known !== undefined) return known;
  const hinted = lifetimeHint !== undefined ? parseRenewBefore(lifetimeHint) : undefined;
  return hinted && 'seconds' in hinted ? hinted.seconds : DEFAULT_LIFETIME_SECONDS;
}

/** The longest `rate()` that still runs RUNS_PER_RENEWAL_WINDOW times in a third of `lifetimeSeconds`. */
export function scheduleFor(lifetimeSeconds: number): string {
  const max = lifetimeSeconds * MAX_INTERVAL_SHARE;
  if (max >= DAY) return rateExpression(Math.floor(max / DAY), 'day');
  if (max >= HOUR) return rateExpression(Math.floor(max / HOUR), 'hour');
  return rateExpression(Math.max(1, Math.floor(max / 60)), 'minute');
}

const rateExpression = (n: number, unit: string) => `rate(${n} ${unit}${n === 1 ? '' : 's'})`;

const duration = (s: number) => (s % DAY === 0 ? `${s / DAY} days` : `${Math.round((s / HOUR) * 10) / 10} hours`);

export interface LifetimeUse {
  /** Where it is configured, for the message: `certificate "web"` or `issuer "le"`. */
  readonly what: string;
  readonly lifetimeSeconds: number;
}

/** A problem when the schedule runs less often than the shortest lifetime needs; cron schedules are not compared. */
export function scheduleLifetimeProblem(schedule: string, uses: readonly LifetimeUse[]): CrossProblem | undefined {
  const interval = rateIntervalSeconds(schedule);
  if (interval === undefined || uses.length === 0) return undefined;
  const shortest = uses.reduce((a, b) => (b.lifetimeSeconds < a.lifetimeSeconds ? b : a));
  if (interval <= shortest.lifetimeSeconds * MAX_INTERVAL_SHARE) return undefined;
  return {
    path: ['pipeline', 'schedule'],
    message:
      `"${schedule}" runs too rarely for ${shortest.what}, whose certificates live about ${duration(shortest.lifetimeSeconds)}: ` +
      `it needs ${RUNS_PER_RENEWAL_WINDOW} runs in the last third of that lifetime — use "${scheduleFor(shortest.lifetimeSeconds)}" or shorter`,
  };
}

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Each certificate's expected lifetime, read defensively from the raw document (it may have failed other checks). */
export function lifetimeUses(doc: unknown): LifetimeUse[] {
  if (!isRec(doc)) return [];
  const issuers = (Array.isArray(doc.issuers) ? doc.issuers : []).filter(isRec);
  const onlyIssuer = issuers.length === 1 ? issuers[0] : undefined;
  const certificates = (Array.isArray(doc.certificates) ? doc.certificates : []).filter(isRec);
  return certificates.map((c) => {
    const issuer = issuers.find((i) => i.name === c.issuer) ?? onlyIssuer;
    const profile = str(c.profile) ?? str(issuer?.profile);
    return {
      what: `certificate "${str(c.name) ?? '?'}"${profile ? ` (profile ${profile})` : ''}`,
      lifetimeSeconds: expectedLifetimeSeconds(profile, str(issuer?.lifetime)),
    };
  });
}

/** The schedule check of the whole document (config.ts runs it with the cross-field checks). */
export function scheduleLifetimeCheck(doc: unknown): CrossProblem[] {
  const pipeline = isRec(doc) && isRec(doc.pipeline) ? doc.pipeline : {};
  const problem = scheduleLifetimeProblem(str(pipeline.schedule) ?? DEFAULT_SCHEDULE, lifetimeUses(doc));
  return problem ? [problem] : [];
}

export const DEFAULT_SCHEDULE = 'rate(12 hours)';
