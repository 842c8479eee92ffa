// Whether one certificate's slowest path fits the execution's TimeoutSeconds:
// the propagation loop (maxAttempts × the Wait) plus every Retry schedule of the
// workflow, each taken to its last attempt. A workflow that cannot finish its
// own retries before the timeout times out instead of failing with a typed error.
import type { Inventory } from '../../functions/lib/inventory.js';
import { InfraPropsError } from './errors.js';

type AslState = Record<string, unknown>;
interface Retrier {
  readonly IntervalSeconds?: number;
  readonly MaxAttempts?: number;
  readonly BackoffRate?: number;
  readonly MaxDelaySeconds?: number;
}

/** One Retry entry's waits, all attempts used (FULL jitter waits at most this long). ASL defaults: 1 s, 3 attempts, rate 2. */
export function retryScheduleSeconds(r: Retrier): number {
  const interval = r.IntervalSeconds ?? 1;
  const rate = r.BackoffRate ?? 2;
  let total = 0;
  for (let i = 0; i < (r.MaxAttempts ?? 3); i++) total += Math.min(interval * rate ** i, r.MaxDelaySeconds ?? Infinity);
  return total;
}

function taskStates(machine: { States?: Record<string, AslState> } | undefined): AslState[] {
  return Object.values(machine?.States ?? {}).flatMap((state) =>
    state.Type === 'Task' ? [state] : state.Type === 'Map' ? taskStates((state.ItemProcessor ?? state.Iterator) as { States?: Record<string, AslState> }) : [],
  );
}

export interface ExecutionBudget {
  readonly propagationSeconds: number;
  /** Retry waits per Task resource (a function called from several states counts once, at its longest schedule). */
  readonly retrySeconds: number;
  readonly neededSeconds: number;
}

/** The slowest certificate's waits in `definition` (a rendered renewal.asl.json). */
export function executionBudget(definition: { States?: Record<string, AslState> }, propagation: { maxAttempts: number; waitSeconds: number }): ExecutionBudget {
  const byResource = new Map<string, number>();
  for (const task of taskStates(definition)) {
    const seconds = ((task.Retry as Retrier[] | undefined) ?? []).reduce((sum, r) => sum + retryScheduleSeconds(r), 0);
    const resource = String(task.Resource);
    byResource.set(resource, Math.max(byResource.get(resource) ?? 0, seconds));
  }
  const retrySeconds = [...byResource.values()].reduce((a, b) => a + b, 0);
  const propagationSeconds = propagation.maxAttempts * propagation.waitSeconds;
  return { propagationSeconds, retrySeconds, neededSeconds: propagationSeconds + retrySeconds };
}

/** Fails the synth, naming the fix, when the waits do not fit the execution timeout. */
export function checkExecutionBudget(
  definition: { States?: Record<string, AslState> },
  o: { propagationMaxAttempts: number; propagationWaitSeconds: number; executionTimeoutSeconds: number },
): ExecutionBudget {
  const budget = executionBudget(definition, { maxAttempts: o.propagationMaxAttempts, waitSeconds: o.propagationWaitSeconds });
  if (budget.neededSeconds > o.executionTimeoutSeconds) {
    throw new InfraPropsError(
      'CertificateRenewalPipeline',
      'executionTimeout',
      `${o.executionTimeoutSeconds} s cannot hold one certificate's waits: propagation ${o.propagationMaxAttempts} × ${o.propagationWaitSeconds} s = ${budget.propagationSeconds} s plus ${budget.retrySeconds} s of Retry schedules = ${budget.neededSeconds} s`,
      `raise executionTimeout to at least ${Math.ceil(budget.neededSeconds / 60)} minutes, or lower pipeline.propagation.maxAttempts × waitSeconds (the propagationWait prop)`,
    );
  }
  return budget;
}

/** Route 53's request rate per account (all operations together). */
export const ROUTE53_REQUESTS_PER_SECOND = 5;

const bare = (name: string) => name.toLowerCase().replace(/\.$/, '').replace(/^\*\./, '');

/**
 * Route 53 requests one renewal makes (functions/lib/dns/route53.ts): to place and
 * again to clean up, one read per challenge name and one change batch per zone;
 * one GetChange per zone. A wildcard shares its base name's challenge name; a name
 * outside every zone counts as its own.
 */
export function route53RequestsPerRenewal(dnsNames: readonly string[], zones: readonly string[]): number {
  const names = new Set(dnsNames.map(bare));
  const zoneOf = (name: string) =>
    zones.map(bare).filter((z) => name === z || name.endsWith(`.${z}`)).sort((a, b) => b.length - a.length)[0] ?? name;
  const zoneCount = new Set([...names].map(zoneOf)).size;
  return 2 * names.size + 3 * zoneCount;
}

/**
 * Route 53 time of a run that renews every configured certificate (a first deploy):
 * an issuer with `newOrdersPer3Hours` renews at most that many per run (its
 * costliest, to be safe). Staging rehearsals and self-service requests add to it.
 */
export function route53RunTime(inventory: {
  readonly hostedZones: Inventory['hostedZones'];
  readonly issuers: ReadonlyArray<Pick<Inventory['issuers'][number], 'name'> & { readonly limits?: { readonly newOrdersPer3Hours?: number } }>;
  readonly certificates: ReadonlyArray<Pick<Inventory['certificates'][number], 'issuer' | 'dnsNames'>>;
}): { renewals: number; requests: number; seconds: number } {
  const zones = inventory.hostedZones.map((z) => z.name);
  let renewals = 0;
  let requests = 0;
  for (const issuer of inventory.issuers) {
    const costs = inventory.certificates
      .filter((c) => c.issuer === issuer.name)
      .map((c) => route53RequestsPerRenewal(c.dnsNames, zones))
      .sort((a, b) => b - a)
      .slice(0, issuer.limits?.newOrdersPer3Hours ?? Infinity);
    renewals += costs.length;
    requests += costs.reduce((a, b) => a + b, 0);
  }
  return { renewals, requests, seconds: requests / ROUTE53_REQUESTS_PER_SECOND };
}

/** A synth warning when that run cannot fit the execution timeout; undefined when it fits. */
export function route53RunWarning(inventory: Parameters<typeof route53RunTime>[0], executionTimeoutSeconds: number): string | undefined {
  const run = route53RunTime(inventory);
  if (run.seconds <= executionTimeoutSeconds) return undefined;
  return (
    `renewing every configured certificate in one run (${run.renewals} renewals, ${run.requests} Route 53 requests at ${ROUTE53_REQUESTS_PER_SECOND} per second: ` +
    `${Math.ceil(run.seconds)} s) takes longer than executionTimeout (${executionTimeoutSeconds} s); the certificates still running then fail with States.Timeout. ` +
    `Fix: set issuers[].limits.newOrdersPer3Hours to spread first issuances over runs, or raise executionTimeout`
  );
}
