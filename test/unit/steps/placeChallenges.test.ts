// PlaceChallenges over in-memory ports: every branch of what it does with AWSPENDING
// and with its claim, and the CA's Retry-After, in milliseconds.
import { describe, expect, it } from 'vitest';
import { placeChallenges } from '../../../functions/lib/steps/placeChallenges.js';
import { RateLimited } from '../../../functions/lib/workflow/errors.js';
import { TAG } from '../../../functions/lib/store/model.js';
import { decodeOrders } from '../../../functions/lib/budget/ledger.js';
import type { OrderState, RenewalItem } from '../../../functions/lib/workflow/states.js';
import { claimFixture, issuedFixture, memoryWorld, NOW, orderFixture } from './memoryPorts.js';

const item: RenewalItem = { name: 'web', reason: 'InRenewalWindow', execution: { id: 'exec-1', startTime: NOW.toISOString(), timeoutSeconds: 6 * 3600 } };

describe('PlaceChallenges', () => {
  it('nothing in flight: orders, claims with a new key, tags the values, then writes them', async () => {
    // Prepare
    const w = memoryWorld();
    // Act
    const out = (await placeChallenges(w.ctx, item)) as OrderState;
    // Assess
    expect(out).toMatchObject({ orderUrl: 'https://ca.test/order/new-1', issued: false, origin: 'new', changeIds: ['change-1'] });
    expect(out.records.map((r) => [r.identifier, r.fqdn])).toEqual([
      ['example.test', '_acme-challenge.example.test'],
      ['*.example.test', '_acme-challenge.example.test'],
    ]);
    expect(w.store.calls).toEqual(['claimPending https://ca.test/order/new-1 replace=-']);
    expect(w.store.pending).toMatchObject({ kind: 'claim', claim: { privateKey: 'new-key-1' } });
    expect(w.zone.values.get('_acme-challenge.example.test')).toHaveLength(2);
    expect([...w.store.tags.keys()].some((k) => k.startsWith('certpipe:challenge-holder:'))).toBe(true);
    expect(JSON.stringify(out)).not.toContain('new-key-1');
    // The new order is in the rate-limit ledger, at the step's clock.
    expect(decodeOrders(w.store.tags.get(TAG.orders))).toEqual([NOW]);
  });

  it('privateKeyRotation never: keeps the current key, unless that certificate was revoked', async () => {
    const w = memoryWorld();
    w.ctx.inventory.certificates[0]!.privateKeyRotation = 'never';
    w.store.current = { versionId: 'v1', issued: issuedFixture({ privateKey: 'current-key' }) };
    await placeChallenges(w.ctx, item);
    expect(w.store.pending).toMatchObject({ claim: { privateKey: 'current-key' } });
    expect(w.newKeys).toBe(0);

    const revoked = memoryWorld();
    revoked.ctx.inventory.certificates[0]!.privateKeyRotation = 'never';
    revoked.store.current = { versionId: 'v1', issued: issuedFixture({ privateKey: 'current-key' }) };
    revoked.store.revocation = { serial: '0A1B2C', reason: 'superseded', at: NOW.toISOString() };
    await placeChallenges(revoked.ctx, { ...item, reason: 'Revoked' });
    expect(revoked.store.pending).toMatchObject({ claim: { privateKey: 'new-key-1' } });
  });

  it('resumes the order in flight: no new order, no new key', async () => {
    const w = memoryWorld();
    w.store.pending = { kind: 'claim', versionId: 'v7', claim: claimFixture() };
    w.ca.orders.set('https://ca.test/order/in-flight', orderFixture());
    const out = (await placeChallenges(w.ctx, item)) as OrderState;
    expect(out).toMatchObject({ orderUrl: 'https://ca.test/order/in-flight', origin: 'resumed' });
    expect(w.ca.calls.filter((c) => c.startsWith('createOrder'))).toEqual([]);
    expect(w.store.calls).toEqual([]);
    expect(w.newKeys).toBe(0);
  });

  it('a dead claim (the CA gave up on its order) is replaced by a new order', async () => {
    const w = memoryWorld();
    w.store.pending = { kind: 'claim', versionId: 'v7', claim: claimFixture() };
    w.ca.orders.set('https://ca.test/order/in-flight', orderFixture({ status: 'invalid' }));
    const out = (await placeChallenges(w.ctx, item)) as OrderState;
    expect(out).toMatchObject({ orderUrl: 'https://ca.test/order/new-1', origin: 'new' });
    expect(w.store.calls).toEqual(['claimPending https://ca.test/order/new-1 replace=v7']);
  });

  it('a claim for other names is replaced, not resumed', async () => {
    const w = memoryWorld();
    w.store.pending = { kind: 'claim', versionId: 'v7', claim: claimFixture({ dnsNames: ['old.example.test'] }) };
    await placeChallenges(w.ctx, item);
    expect(w.ca.calls).not.toContain('orderStatus https://ca.test/order/in-flight');
    expect(w.store.calls).toEqual(['claimPending https://ca.test/order/new-1 replace=v7']);
  });

  it('a verified certificate waiting in AWSPENDING is published, no order', async () => {
    const w = memoryWorld();
    w.store.pending = { kind: 'issued', versionId: 'v8', issued: issuedFixture() };
    expect(await placeChallenges(w.ctx, item)).toEqual({ orderUrl: 'https://ca.test/order/stored', issued: true, records: [], changeIds: [], attempt: 0, origin: 'stored' });
    expect(w.ca.calls).toEqual([]);
  });

  it('publish pending and nothing in flight: straight to publishing the current certificate', async () => {
    const w = memoryWorld();
    expect(await placeChallenges(w.ctx, { ...item, reason: 'PublishIncomplete' })).toMatchObject({ issued: true, origin: 'stored' });
    expect(w.ca.calls).toEqual([]);
  });

  it('superseded: renewed meanwhile by another execution, so the order just created is not used', async () => {
    const w = memoryWorld();
    w.store.claimAnswer = { outcome: 'superseded', currentVersionId: 'v9' };
    expect(await placeChallenges(w.ctx, item)).toMatchObject({ issued: true, origin: 'stored' });
    expect(w.zone.values.size).toBe(0);
  });

  it('the claim lost to another execution: continues with its order, never a second issuance', async () => {
    const w = memoryWorld();
    w.ca.orders.set('https://ca.test/order/in-flight', orderFixture());
    w.store.claimAnswer = { outcome: 'resumed', pending: { kind: 'claim', versionId: 'v5', claim: claimFixture() } };
    const out = (await placeChallenges(w.ctx, item)) as OrderState;
    expect(out).toMatchObject({ orderUrl: 'https://ca.test/order/in-flight', origin: 'resumed' });
    expect([...w.zone.values.values()].flat().every((v) => v.endsWith('in-flight'))).toBe(true);
  });

  it('the claim lost to an execution that already issued: publishes that', async () => {
    const w = memoryWorld();
    w.store.claimAnswer = { outcome: 'resumed', pending: { kind: 'issued', versionId: 'v6', issued: issuedFixture() } };
    expect(await placeChallenges(w.ctx, item)).toMatchObject({ issued: true, orderUrl: 'https://ca.test/order/stored' });
  });

  it("the CA's Retry-After inside the execution: waits", async () => {
    const w = memoryWorld();
    w.ca.fail = { on: 'createOrder', error: new RateLimited('slow down', 120) };
    expect(await placeChallenges(w.ctx, item)).toEqual({ status: 'waiting', waitSeconds: 120, cause: 'RateLimited', attempt: 1 });
    expect(w.store.tags.has(TAG.deferredUntil)).toBe(false);
  });

  it("the CA's Retry-After past the execution: deferred, and recorded on the secret", async () => {
    const w = memoryWorld();
    w.ca.fail = { on: 'createOrder', error: new RateLimited('come back tomorrow', 86_400) };
    const out = await placeChallenges(w.ctx, item);
    expect(out).toEqual({ status: 'deferred', retryAfter: '2026-04-02T10:00:00.000Z', cause: 'RateLimited' });
    expect(w.store.tags.get(TAG.deferredUntil)).toBe('2026-04-02T10:00:00.000Z');
  });
});
