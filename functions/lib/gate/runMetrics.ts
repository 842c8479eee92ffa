// What a run says about the staging gate and the canary, as metrics (Summarize).
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { metrics } from '../observability.js';
import { METRIC } from '../workflow/metrics.js';
import type { ItemResult } from '../workflow/states.js';
import { CANARY_NAME } from './canary.js';
import { rehearsedName } from './rehearsal.js';

export interface GateRunOutcome {
  /** Certificates whose staging rehearsal failed in this run: production was not ordered. */
  blocked: string[];
  /** The canary's outcome, when this run tried it. */
  canary?: 'succeeded' | 'failed' | 'deferred';
}

/** Pure: the gate and canary outcome of a run's results. */
export function gateRunOutcome(results: readonly ItemResult[]): GateRunOutcome {
  const blocked = results.filter((r) => r.outcome === 'failed' && rehearsedName(r.name)).map((r) => rehearsedName(r.name)!);
  const canary = results.find((r) => r.name === CANARY_NAME);
  const canaryOutcome = { renewed: 'succeeded', failed: 'failed', deferred: 'deferred' } as const;
  return { blocked, ...(canary ? { canary: canaryOutcome[canary.outcome] } : {}) };
}

/** StagingGateBlocked every run (0 included); CanarySucceeded and its duration on runs that issued it. */
export function recordGateRun(outcome: GateRunOutcome, runSeconds: number): void {
  metrics.addMetric(METRIC.StagingGateBlocked, MetricUnit.Count, outcome.blocked.length);
  // A deferral (the CA's Retry-After) is neither: two intervals without a success page through missing data.
  if (outcome.canary === undefined || outcome.canary === 'deferred') return;
  metrics.addMetric(METRIC.CanarySucceeded, MetricUnit.Count, outcome.canary === 'succeeded' ? 1 : 0);
  if (outcome.canary === 'succeeded') metrics.addMetric(METRIC.CanaryDurationSeconds, MetricUnit.Seconds, Math.round(runSeconds));
}
