// The synth check that one certificate's waits fit the execution timeout: the
// Retry schedules as ASL computes them, and the budget of the real workflow.
import { describe, expect, it } from 'vitest';
import { checkExecutionBudget, executionBudget, retryScheduleSeconds } from '../../infra/constructs/execution-budget.js';
import { renderDefinition } from '../../statemachines/definition.js';

describe('retryScheduleSeconds', () => {
  it.each([
    ['ASL defaults: 1 s, 3 attempts, rate 2', {}, 1 + 2 + 4],
    ['PlaceChallenges: 3 s × 2ⁿ, 5 attempts, capped at 60 s', { IntervalSeconds: 3, MaxAttempts: 5, BackoffRate: 2, MaxDelaySeconds: 60 }, 3 + 6 + 12 + 24 + 48],
    ['the cap bites', { IntervalSeconds: 10, MaxAttempts: 4, BackoffRate: 3, MaxDelaySeconds: 60 }, 10 + 30 + 60 + 60],
    ['no retries', { MaxAttempts: 0 }, 0],
  ])('%s', (_name, retrier, seconds) => {
    expect(retryScheduleSeconds(retrier)).toBe(seconds);
  });
});

describe('the budget of renewal.asl.json', () => {
  const definition = JSON.parse(renderDefinition({ maxConcurrency: 5, propagationWaitSeconds: 10, executionTimeoutSeconds: 21600 }));

  it('counts the propagation loop and each function\'s longest Retry schedule once (the three cleanups are one function)', () => {
    const budget = executionBudget(definition, { maxAttempts: 30, waitSeconds: 10 });
    expect(budget.propagationSeconds).toBe(300);
    // CheckExpiry 30, PlaceChallenges 93, CheckPropagation 30, FinalizeOrder 93 + 15, PublishCertificate 62, CleanupChallenges 30, Summarize 14.
    expect(budget.retrySeconds).toBe(30 + 93 + 30 + 108 + 62 + 30 + 14);
    expect(budget.neededSeconds).toBe(300 + 367);
  });

  it('passes the defaults (6 hours) and fails, naming the fix, when the waits do not fit', () => {
    expect(() => checkExecutionBudget(definition, { propagationMaxAttempts: 30, propagationWaitSeconds: 10, executionTimeoutSeconds: 21600 })).not.toThrow();
    expect(() => checkExecutionBudget(definition, { propagationMaxAttempts: 30, propagationWaitSeconds: 10, executionTimeoutSeconds: 600 })).toThrow(
      /at least 12 minutes, or lower pipeline\.propagation\.maxAttempts × waitSeconds/,
    );
  });
});
