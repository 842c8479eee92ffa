// The budget for one run, from what CheckExpiry already holds: the due decisions, the
// specs, and the inventory scan (each certificate's issued-at tag is a spend). Pure.
import type { CertificateSpec, Issuer } from '../inventory.js';
import type { RenewalDecision, RenewalReason } from '../renewal.js';
import type { InventoryScan, StoredCertificateFacts } from '../store/model.js';
import { planBudget, type BudgetCandidate, type BudgetPlan, type FailedAuthorization, type Spend } from './plan.js';

/** Reasons that renew before anything else. */
const URGENT: ReadonlySet<string> = new Set<RenewalReason>(['Expired', 'EmergencyRenewal', 'Forced']);
/** Reasons that place no new order: resuming the order in flight, or publishing what is stored. */
const NO_NEW_ORDER: ReadonlySet<string> = new Set<RenewalReason>(['PendingOrder', 'PublishIncomplete']);

export interface RunBudgetInput {
  due: readonly { name: string; reason: string; exempt?: boolean }[];
  specs: readonly CertificateSpec[];
  /** The inventory scan; its `unissued` ledgers (certificates not issued yet) count too when present. */
  stored: Omit<InventoryScan, 'set' | 'delete' | 'clear'>;
  issuers: readonly Pick<Issuer, 'name' | 'limits'>[];
  failedAuthorizations?: readonly FailedAuthorization[];
  now: Date;
}

const sameNames = (a: readonly string[], b: readonly string[]) => {
  const set = new Set(a.map((n) => n.toLowerCase()));
  return b.length === set.size && b.every((n) => set.has(n.toLowerCase()));
};

export function runBudget(input: RunBudgetInput): BudgetPlan {
  const limits = Object.fromEntries(input.issuers.map((i) => [i.name, i.limits]));
  if (!input.issuers.some((i) => i.limits)) return { admitted: input.due.map((d) => d.name), deferred: [] };
  const specs = new Map(input.specs.map((s) => [s.name, s]));
  const candidates: BudgetCandidate[] = input.due.map((d) => {
    const spec = specs.get(d.name)!;
    const facts = input.stored.get(d.name);
    return {
      name: d.name,
      issuer: spec.issuer,
      dnsNames: spec.dnsNames,
      urgent: URGENT.has(d.reason),
      ...(facts ? { notAfter: facts.notAfter } : {}),
      renewal: facts !== undefined && facts.issuer === spec.issuer && sameNames(facts.dnsNames, spec.dnsNames),
      exempt: d.exempt === true || NO_NEW_ORDER.has(d.reason),
    };
  });
  const spent: Spend[] = [];
  const failedAuthorizations: FailedAuthorization[] = [...(input.failedAuthorizations ?? [])];
  for (const facts of input.stored.values()) {
    spent.push(...spendOf(facts));
    for (const f of facts.failedAuthorizations ?? []) failedAuthorizations.push({ issuer: facts.issuer, ...f });
  }
  // Not issued yet: the issuer and names are the configured ones (such a secret carries neither).
  for (const [name, ledger] of input.stored.unissued ?? []) {
    const spec = specs.get(name);
    if (!spec) continue;
    spent.push(...spendOf({ issuer: spec.issuer, dnsNames: spec.dnsNames, ordersPlaced: ledger.ordersPlaced }));
    for (const f of ledger.failedAuthorizations) failedAuthorizations.push({ issuer: spec.issuer, ...f });
  }
  return planBudget({ candidates, spent, failedAuthorizations, limits, now: input.now });
}

/**
 * What one secret has spent. Its ledger records every order placed since the ledger
 * existed, the one that became the current certificate included, so with a ledger the
 * orders come from it alone and issued-at counts only in the certificate limits (never
 * twice). A secret written before the ledger has only issued-at: it stands for its order.
 */
export function spendOf(facts: Pick<StoredCertificateFacts, 'issuer' | 'dnsNames' | 'issuedAt'> & { ordersPlaced?: readonly Date[] }): Spend[] {
  const { issuer, dnsNames } = facts;
  if (!facts.ordersPlaced) return facts.issuedAt ? [{ issuer, at: facts.issuedAt, dnsNames }] : [];
  return [
    ...facts.ordersPlaced.map((at): Spend => ({ issuer, at, dnsNames, counts: 'order' })),
    ...(facts.issuedAt ? [{ issuer, at: facts.issuedAt, dnsNames, counts: 'certificate' as const }] : []),
  ];
}

/** How `certpipe status` words a certificate the budget keeps waiting: not due before its slot, and why. */
export function budgetDeferralDecision(deferral: { limit: string; nextSlot: Date }, issuer: string): RenewalDecision {
  return {
    due: false,
    reason: 'RateLimitBudget',
    message: `Due, but issuer ${issuer}'s ${deferral.limit} budget is spent; next slot at ${deferral.nextSlot.toISOString()}`,
    renewalTime: deferral.nextSlot.toISOString(),
  };
}
