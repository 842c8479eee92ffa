// The rate-limit budget: which due certificates may place an order in this run, and
// when the others' next slot opens. Pure: plain data and `now`, no clock, no I/O.
// The most urgent go first (expired, emergency and forced renewals, then the soonest
// expiry, first issuances last), so a less urgent certificate never takes the slot of
// a more urgent one. Each limit is a sliding window, as the CA counts it.
import { LIMIT_WINDOW_MS, type IssuerLimits, type LimitName } from './limits.js';
import { authorizationIdentifier } from './ledger.js';
import { registeredDomain } from './registeredDomain.js';

export interface BudgetCandidate {
  name: string;
  issuer: string;
  dnsNames: readonly string[];
  /** Expired, emergency or forced: ahead of every ordinary renewal. */
  urgent: boolean;
  /** When the current certificate expires; absent for a first issuance. */
  notAfter?: Date;
  /** The same set of names was issued before: the CA's renewal exemption from certificates per registered domain. */
  renewal: boolean;
  /** Spends nothing the CA counts: an ARI renewal with `replaces`, or no new order at all (resume, re-publish). */
  exempt?: boolean;
}

/** A certificate or an order already counted against the issuer: from the issued-at tags and the ledger. */
export interface Spend {
  issuer: string;
  at: Date;
  dnsNames: readonly string[];
  /** `order`: counts only as a new order; `certificate`: only in the certificate limits; absent: both. */
  counts?: 'order' | 'certificate';
}

export interface FailedAuthorization {
  issuer: string;
  identifier: string;
  at: Date;
}

export interface BudgetInput {
  candidates: readonly BudgetCandidate[];
  spent: readonly Spend[];
  failedAuthorizations?: readonly FailedAuthorization[];
  /** Per issuer name; an issuer without limits is not budgeted. */
  limits: Readonly<Record<string, IssuerLimits | undefined>>;
  now: Date;
}

export interface BudgetDeferral {
  name: string;
  /** The limit that is spent (the one whose slot opens last when several are). */
  limit: LimitName;
  nextSlot: Date;
}

export interface BudgetPlan {
  /** In urgency order. */
  admitted: string[];
  deferred: BudgetDeferral[];
  /** The earliest next slot over all deferrals. */
  nextSlot?: Date;
}

/** Urgency order: urgent first, then the soonest expiry, first issuances last; the name breaks ties. */
export function byUrgency(a: BudgetCandidate, b: BudgetCandidate): number {
  if (a.urgent !== b.urgent) return a.urgent ? -1 : 1;
  const ea = a.notAfter?.getTime() ?? Infinity;
  const eb = b.notAfter?.getTime() ?? Infinity;
  if (ea !== eb) return ea < eb ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** One limit for one scope (account, registered domain, name set, identifier): the spend times inside its window. */
class Window {
  private readonly times: number[];
  private waiting = 0;
  constructor(
    readonly limit: LimitName,
    private readonly max: number,
    times: number[],
  ) {
    this.times = times.sort((x, y) => x - y);
  }
  get full(): boolean {
    return this.times.length >= this.max;
  }
  take(now: number): void {
    this.times.push(now);
  }
  /** When the next deferred certificate in line gets a slot; each call is the next one in line. */
  nextSlot(now: number): number {
    const windowMs = LIMIT_WINDOW_MS[this.limit];
    const index = this.times.length - this.max + this.waiting++;
    if (this.times.length === 0) return now + windowMs;
    const at = this.times[index % this.times.length]!;
    return at + windowMs * (1 + Math.floor(index / this.times.length));
  }
}

const nameSetKey = (names: readonly string[]) => [...new Set(names.map((n) => n.toLowerCase()))].sort().join(',');
const domainsOf = (names: readonly string[]) => [...new Set(names.map(registeredDomain))];

export function planBudget(input: BudgetInput): BudgetPlan {
  const now = input.now.getTime();
  const windows = new Map<string, Window>();
  // No upper bound: a spend stamped ahead of this clock (the ledger rounds up to the second, or another function's clock) is spent all the same.
  const inWindow = (limit: LimitName, at: Date) => at.getTime() > now - LIMIT_WINDOW_MS[limit];

  // The spend already on record, grouped by the scope each limit counts in.
  const recorded = new Map<string, { limit: LimitName; times: number[] }>();
  const record = (key: string, limit: LimitName, at: Date) => {
    if (!inWindow(limit, at)) return;
    const entry = recorded.get(key) ?? { limit, times: [] };
    entry.times.push(at.getTime());
    recorded.set(key, entry);
  };
  for (const s of input.spent) {
    const limits = input.limits[s.issuer];
    if (!limits) continue;
    if (limits.newOrdersPer3Hours && s.counts !== 'certificate') record(`${s.issuer}|orders`, 'newOrdersPer3Hours', s.at);
    if (s.counts === 'order') continue;
    // Whether a recorded issuance was itself a renewal is not stored: count it (an estimate errs towards waiting, never towards a 429).
    if (limits.certificatesPerRegisteredDomainPer7Days) {
      for (const d of domainsOf(s.dnsNames)) record(`${s.issuer}|domain|${d}`, 'certificatesPerRegisteredDomainPer7Days', s.at);
    }
    if (limits.duplicateCertificatesPer7Days) record(`${s.issuer}|names|${nameSetKey(s.dnsNames)}`, 'duplicateCertificatesPer7Days', s.at);
  }
  for (const f of input.failedAuthorizations ?? []) {
    if (input.limits[f.issuer]?.failedAuthorizationsPerIdentifierPerHour) {
      record(`${f.issuer}|authz|${authorizationIdentifier(f.identifier)}`, 'failedAuthorizationsPerIdentifierPerHour', f.at);
    }
  }
  const windowFor = (key: string, limit: LimitName, max: number) => {
    let w = windows.get(key);
    if (!w) {
      w = new Window(limit, max, recorded.get(key)?.times ?? []);
      windows.set(key, w);
    }
    return w;
  };

  const admitted: string[] = [];
  const deferred: BudgetDeferral[] = [];
  for (const c of [...input.candidates].sort(byUrgency)) {
    const limits = input.limits[c.issuer];
    if (!limits || c.exempt) {
      admitted.push(c.name);
      continue;
    }
    const applicable: Window[] = [];
    if (limits.newOrdersPer3Hours) applicable.push(windowFor(`${c.issuer}|orders`, 'newOrdersPer3Hours', limits.newOrdersPer3Hours));
    if (limits.certificatesPerRegisteredDomainPer7Days && !c.renewal) {
      for (const d of domainsOf(c.dnsNames)) {
        applicable.push(windowFor(`${c.issuer}|domain|${d}`, 'certificatesPerRegisteredDomainPer7Days', limits.certificatesPerRegisteredDomainPer7Days));
      }
    }
    if (limits.duplicateCertificatesPer7Days) {
      applicable.push(windowFor(`${c.issuer}|names|${nameSetKey(c.dnsNames)}`, 'duplicateCertificatesPer7Days', limits.duplicateCertificatesPer7Days));
    }
    if (limits.failedAuthorizationsPerIdentifierPerHour) {
      // Only read: an order's failures are not known before it is placed.
      for (const id of new Set(c.dnsNames.map(authorizationIdentifier))) {
        const w = windowFor(`${c.issuer}|authz|${id}`, 'failedAuthorizationsPerIdentifierPerHour', limits.failedAuthorizationsPerIdentifierPerHour);
        if (w.full) applicable.push(w);
      }
    }
    const spent = applicable.filter((w) => w.full);
    if (spent.length === 0) {
      for (const w of applicable) if (w.limit !== 'failedAuthorizationsPerIdentifierPerHour') w.take(now);
      admitted.push(c.name);
      continue;
    }
    let latest = { limit: spent[0]!.limit, at: -Infinity };
    for (const w of spent) {
      const at = w.nextSlot(now);
      if (at > latest.at) latest = { limit: w.limit, at };
    }
    deferred.push({ name: c.name, limit: latest.limit, nextSlot: new Date(latest.at) });
  }
  const first = deferred.reduce((min, d) => Math.min(min, d.nextSlot.getTime()), Infinity);
  return { admitted, deferred, ...(deferred.length ? { nextSlot: new Date(first) } : {}) };
}
