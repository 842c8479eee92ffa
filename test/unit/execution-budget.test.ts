// The synth check that one certificate's waits fit the execution timeout: the
// Retry schedules as ASL computes them, and the budget of the real workflow.
import { describe, expect, it } from 'vitest';
import { checkExecutionBudget, executionBudget, retryScheduleSeconds, route53RequestsPerRenewal, route53RunTime } from '../../infra/constructs/execution-budget.js';
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

describe("Route 53's share of a run (5 requests per second per account)", () => {
  const zones = ['example.test', 'shop.example.test', 'example.org'];
  it.each([
    ['one name', ['example.test'], 2 + 3],
    ['two names, one zone (the benchmark\'s certificate)', ['a.example.test', 'www.a.example.test'], 4 + 3],
    ['a wildcard and its base share one challenge name', ['example.org', '*.example.org'], 2 + 3],
    ['names in two zones (the longest match wins)', ['api.example.test', 'shop.example.test', 'www.shop.example.test'], 6 + 6],
  ])('%s', (_name, dnsNames, requests) => {
    expect(route53RequestsPerRenewal(dnsNames, zones)).toBe(requests);
  });

  const cert = (i: number, issuer: string) => ({ name: `c${i}`, issuer, dnsNames: [`c${i}.example.test`, `www.c${i}.example.test`] });
  it('renews every certificate at once without a new-orders limit; with one, an issuer renews at most that many per run', () => {
    const inventory = {
      hostedZones: [{ name: 'example.test' }],
      issuers: [{ name: 'custom' }, { name: 'le', limits: { newOrdersPer3Hours: 300 } }],
      certificates: [...Array.from({ length: 4000 }, (_, i) => cert(i, 'custom')), ...Array.from({ length: 1000 }, (_, i) => cert(4000 + i, 'le'))],
    };
    expect(route53RunTime(inventory)).toEqual({ renewals: 4300, requests: 4300 * 7, seconds: (4300 * 7) / 5 });
  });
});
