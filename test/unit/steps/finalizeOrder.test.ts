// FinalizeOrder over in-memory ports: one status call per invocation, and each answer's branch.
import { describe, expect, it } from 'vitest';
import { MAX_ORDER_CHECKS } from '../../../functions/lib/backoff.js';
import { finalizeOrder } from '../../../functions/lib/steps/finalizeOrder.js';
import { decodeFailures } from '../../../functions/lib/budget/ledger.js';
import { TAG } from '../../../functions/lib/tagNames.js';
import { AcmeOrderInvalid, AcmeOrderNotReady, AcmeUnavailable, CertificateVerificationFailed } from '../../../functions/lib/workflow/errors.js';
import type { FinalizeOrderInput } from '../../../functions/lib/workflow/states.js';
import { claimFixture, issuedFixture, memoryWorld, NOW, orderFixture } from './memoryPorts.js';

const ORDER = 'https://ca.test/order/in-flight';
const input = (finalizeAttempt = 0): FinalizeOrderInput => ({
  name: 'web',
  order: { orderUrl: ORDER, issued: false, records: [], changeIds: [], attempt: 3, origin: 'new', finalizeAttempt },
  execution: { id: 'exec-1', startTime: NOW.toISOString(), timeoutSeconds: 6 * 3600 },
});

function withClaim(status: 'pending' | 'ready' | 'processing' | 'valid' | 'invalid') {
  const w = memoryWorld();
  w.store.pending = { kind: 'claim', versionId: 'v1', claim: claimFixture() };
  w.ca.orders.set(ORDER, orderFixture({ status, ...(status === 'valid' ? { certificate: `${ORDER}/cert` } : {}) }));
  return w;
}

describe('FinalizeOrder', () => {
  it('pending: answers the challenges and waits for the CA to validate', async () => {
    const w = withClaim('pending');
    expect(await finalizeOrder(w.ctx, input())).toEqual({ status: 'waiting', waitSeconds: 1, cause: 'OrderNotReady', attempt: 1 });
    expect(w.ca.calls).toEqual([`orderStatus ${ORDER}`, `completeChallenges ${ORDER}`]);
  });

  it('ready: finalizes with a CSR of the claimed key, downloads, verifies and stores over the claim', async () => {
    const w = withClaim('ready');
    const out = await finalizeOrder(w.ctx, input());
    expect(out).toEqual({ status: 'issued', serial: '0a1b2c', notBefore: '2026-03-01T00:00:00.000Z', notAfter: '2026-05-30T00:00:00.000Z', dnsNames: ['example.test', '*.example.test'] });
    expect(w.ca.calls).toContain(`finalize ${ORDER} csr(claimed-key-1;*.example.test,example.test)`);
    expect(w.store.calls).toEqual(['storeIssued 0a1b2c over v1']);
    expect(w.store.pending).toMatchObject({ kind: 'issued', issued: { privateKey: 'claimed-key-1', orderUrl: ORDER } });
  });

  it('ready, then processing after finalize: waits', async () => {
    const w = withClaim('ready');
    w.ca.afterFinalize = 'processing';
    expect(await finalizeOrder(w.ctx, input(4))).toMatchObject({ status: 'waiting', cause: 'OrderNotReady', attempt: 5 });
    expect(w.store.calls).toEqual([]);
  });

  it('processing: waits, and gives up with AcmeOrderNotReady after MAX_ORDER_CHECKS checks', async () => {
    const w = withClaim('processing');
    expect(await finalizeOrder(w.ctx, input(2))).toMatchObject({ status: 'waiting', attempt: 3 });
    await expect(finalizeOrder(w.ctx, input(MAX_ORDER_CHECKS - 1))).rejects.toThrow(AcmeOrderNotReady);
  });

  it('valid: downloads without finalizing again', async () => {
    const w = withClaim('valid');
    expect(await finalizeOrder(w.ctx, input())).toMatchObject({ status: 'issued', serial: '0a1b2c' });
    expect(w.ca.calls.some((c) => c.startsWith('finalize'))).toBe(false);
  });

  it('a certificate that fails verification abandons the claim, so the next run orders afresh', async () => {
    const w = withClaim('valid');
    w.verifyProblems.push('the key does not match');
    await expect(finalizeOrder(w.ctx, input())).rejects.toThrow(CertificateVerificationFailed);
    expect(w.store.calls).toEqual(['abandonPending v1']);
    expect(w.store.pending).toBeUndefined();
  });

  it('the order invalid at the CA: AcmeOrderInvalid for the ASL, its failed authorizations in the ledger, the claim forgotten', async () => {
    const w = withClaim('invalid');
    const names = w.ca.orders.get(ORDER)!.dnsNames;
    await expect(finalizeOrder(w.ctx, input())).rejects.toThrow(AcmeOrderInvalid);
    expect(w.store.calls).toEqual([`recordFailedAuthorizations [${names.join(',')}]`, 'abandonPending v1']);
    // The apex and its wildcard are one identifier at the CA: one failure.
    expect(decodeFailures(w.store.tags.get(TAG.failedAuthz), names)).toEqual([{ identifier: 'example.test', at: NOW }]);
    // Forgotten, so the next run's order goes through the budget instead of resuming outside it.
    expect(w.store.pending).toBeUndefined();
  });

  it('already stored (a retry after storing): reports it, no request to the CA', async () => {
    const w = memoryWorld();
    w.store.pending = { kind: 'issued', versionId: 'v2', issued: issuedFixture() };
    expect(await finalizeOrder(w.ctx, input())).toMatchObject({ status: 'issued', serial: '0a1b2c' });
    expect(w.ca.calls).toEqual([]);
  });

  it('no claim, and another execution promoted this very order: reports the current certificate', async () => {
    const w = memoryWorld();
    w.store.current = { versionId: 'v3', issued: issuedFixture({ orderUrl: ORDER, serial: 'ff' }) };
    expect(await finalizeOrder(w.ctx, input())).toMatchObject({ status: 'issued', serial: 'ff' });
  });

  it('no claim and the current certificate from another order: AcmeOrderInvalid', async () => {
    const w = memoryWorld();
    w.store.current = { versionId: 'v3', issued: issuedFixture() };
    await expect(finalizeOrder(w.ctx, input())).rejects.toThrow(/no AWSPENDING claim/);
  });

  it("the CA's own orderNotReady (another execution moved the order) is a wait", async () => {
    const w = withClaim('ready');
    w.ca.fail = { on: 'finalize', error: new AcmeOrderNotReady('orderNotReady') };
    expect(await finalizeOrder(w.ctx, input())).toMatchObject({ status: 'waiting', cause: 'OrderNotReady' });
  });

  it('a 503 with Retry-After past the execution: deferred and recorded', async () => {
    const w = withClaim('pending');
    w.ca.fail = { on: 'orderStatus', error: new AcmeUnavailable('maintenance', { retryAfterSeconds: 7 * 3600 }) };
    expect(await finalizeOrder(w.ctx, input())).toEqual({ status: 'deferred', retryAfter: '2026-04-01T17:00:00.000Z', cause: 'AcmeUnavailable' });
    expect(w.store.tags.get('certpipe:deferred-until')).toBe('2026-04-01T17:00:00.000Z');
  });
});
