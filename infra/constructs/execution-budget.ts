// Whether one certificate's slowest path fits the execution's TimeoutSeconds:
// the propagation loop (maxAttempts × the Wait) plus every Retry schedule of the
// workflow, each taken to its last attempt. A workflow that cannot finish its
// own retries before the timeout times out instead of failing with a typed error.
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
