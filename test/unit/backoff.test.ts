// Retry-After and order polling: when to wait inside the execution and when to defer past it.
import { describe, expect, it } from 'vitest';
import { orderCheckDelay, pauseForRetryAfter, reservedSeconds, retryAfterOf, MAX_ORDER_CHECKS, MAX_RETRY_AFTER_WAITS } from '../../functions/lib/backoff.js';
import { AcmeUnavailable, AwsTransient, RateLimited } from '../../functions/lib/workflow/errors.js';

const start = '2026-03-01T00:00:00.000Z';
const at = (seconds: number) => new Date(Date.parse(start) + seconds * 1000);
const window = { startTime: start, timeoutSeconds: 6 * 3600 };

describe('pauseForRetryAfter', () => {
  it.each([
    ['a short Retry-After early in the run waits exactly that long', 5, 60, window, { status: 'waiting', waitSeconds: 5 }],
    ['Retry-After 0 still waits a second (a Wait state needs one)', 0, 60, window, { status: 'waiting', waitSeconds: 1 }],
    ['fractional seconds round up: never ask before the CA allows', 2.2, 60, window, { status: 'waiting', waitSeconds: 3 }],
    ['a wait ending just inside the reserve waits', 6 * 3600 - 900 - 60, 60, window, { status: 'waiting', waitSeconds: 6 * 3600 - 960 }],
    ['a wait ending inside the last 15 minutes defers', 6 * 3600 - 900 - 59, 60, window, { status: 'deferred', retryAfter: at(6 * 3600 - 899).toISOString() }],
    ['an hour of Retry-After in a 10-minute execution defers', 3600, 10, { startTime: start, timeoutSeconds: 600 }, { status: 'deferred', retryAfter: at(3610).toISOString() }],
  ])('%s', (_case, retryAfterSeconds, nowSeconds, w, expected) => {
    expect(pauseForRetryAfter({ retryAfterSeconds, cause: 'RateLimited', now: at(nowSeconds), window: w })).toMatchObject(expected);
  });

  it('counts its waits and defers once the step has waited maxWaits times (each loop adds history events)', () => {
    const base = { retryAfterSeconds: 5, cause: 'RateLimited', now: at(60), window };
    expect(pauseForRetryAfter({ ...base, attempt: 0 })).toMatchObject({ status: 'waiting', attempt: 1 });
    expect(pauseForRetryAfter({ ...base, attempt: MAX_RETRY_AFTER_WAITS - 2 })).toMatchObject({ status: 'waiting', attempt: MAX_RETRY_AFTER_WAITS - 1 });
    expect(pauseForRetryAfter({ ...base, attempt: MAX_RETRY_AFTER_WAITS - 1 })).toEqual({ status: 'deferred', cause: 'RateLimited', retryAfter: at(65).toISOString() });
    expect(pauseForRetryAfter({ ...base, attempt: 3, maxWaits: 4 })).toMatchObject({ status: 'deferred' });
  });

  it('without an execution window assumes the default timeout from now', () => {
    expect(pauseForRetryAfter({ retryAfterSeconds: 3600, cause: 'RateLimited', now: at(0) })).toMatchObject({ status: 'waiting' });
    expect(pauseForRetryAfter({ retryAfterSeconds: 6 * 3600, cause: 'RateLimited', now: at(0) })).toMatchObject({ status: 'deferred' });
  });

  it('reserves a quarter of a short execution and at most 15 minutes of a long one', () => {
    expect(reservedSeconds(600)).toBe(150);
    expect(reservedSeconds(6 * 3600)).toBe(900);
  });
});

describe('retryAfterOf', () => {
  it.each([
    ['a 429 with Retry-After', new RateLimited('slow down', 30), { seconds: 30, cause: 'RateLimited' }],
    ['a 503 with Retry-After', new AcmeUnavailable('down', { retryAfterSeconds: 120 }), { seconds: 120, cause: 'AcmeUnavailable' }],
    ['a 429 without Retry-After (the ASL Retry backs off)', new RateLimited('slow down'), undefined],
    ['an AWS throttle', new AwsTransient('Throttling'), undefined],
  ])('%s', (_case, err, expected) => {
    expect(retryAfterOf(err)).toEqual(expected);
  });
});

describe('orderCheckDelay', () => {
  it('grows from a second to a 30-second cap, a few minutes over all checks', () => {
    expect([0, 1, 2, 3, 4].map(orderCheckDelay)).toEqual([1, 2, 3, 4, 6]);
    expect(orderCheckDelay(50)).toBe(30);
    const total = Array.from({ length: MAX_ORDER_CHECKS }, (_, i) => orderCheckDelay(i)).reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(180);
    expect(total).toBeLessThan(600);
  });
});
