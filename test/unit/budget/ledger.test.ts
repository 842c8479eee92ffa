// The rate-limit ledger: its tag encoding, what it keeps, and how runBudget counts it. Fixed clock.
import { describe, expect, it } from 'vitest';
import { appendFailures, appendOrder, decodeFailures, decodeOrders, identifierDigest } from '../../../functions/lib/budget/ledger.js';
import { runBudget, spendOf } from '../../../functions/lib/budget/runBudget.js';
import type { CertificateSpec } from '../../../functions/lib/inventory.js';
import { factsFromTags, unissuedLedgerFromTags } from '../../../functions/lib/store/tags.js';
import { StoredInventory, type StoredCertificateFacts, type UnissuedLedger } from '../../../functions/lib/store/model.js';
import { TAG } from '../../../functions/lib/tagNames.js';

const NOW = new Date('2026-04-01T12:00:00.000Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const ago = (ms: number) => new Date(NOW.getTime() - ms);

describe('ledger encoding', () => {
  it('an order time is epoch seconds in base 36, rounded up so a slot never opens early', () => {
    const placed = new Date('2026-04-01T12:00:00.400Z');
    const value = appendOrder(undefined, placed);
    expect(value).toBe(Math.ceil(placed.getTime() / 1000).toString(36));
    expect(decodeOrders(value)).toEqual([new Date('2026-04-01T12:00:01.000Z')]);
  });

  it.each([
    ['keeps orders inside the 3 hours, oldest first', [2 * HOUR, 1 * HOUR], [2 * HOUR, 1 * HOUR, 0]],
    ['drops an order that left the window', [3 * HOUR, 3 * HOUR + MIN, 10 * MIN], [10 * MIN, 0]],
    ['an order exactly 3 hours old is out (the window is open at its start)', [3 * HOUR], [0]],
  ])('%s', (_case, before, after) => {
    let value: string | undefined;
    for (const t of before) value = appendOrder(value, ago(t));
    expect(decodeOrders(appendOrder(value, NOW))).toEqual(after.map(ago));
  });

  it('never exceeds a tag value (255): the newest orders stay, the oldest go', () => {
    let value: string | undefined;
    for (let i = 100; i >= 0; i--) value = appendOrder(value, ago(i * MIN));
    expect(value!.length).toBeLessThanOrEqual(255);
    const kept = decodeOrders(value);
    expect(kept.length).toBe(Math.floor(256 / 7));
    expect(kept.at(-1)).toEqual(NOW);
    expect(kept[0]).toEqual(ago((kept.length - 1) * MIN));
  });

  it('a failure is per identifier, a wildcard counted under its base name, and only the last hour is kept', () => {
    let value = appendFailures(undefined, ['a.example.com'], ago(HOUR + MIN));
    value = appendFailures(value, ['B.example.com', '*.b.example.com'], ago(10 * MIN));
    value = appendFailures(value, ['a.example.com'], NOW);
    expect(value.split(' ')).toHaveLength(2);
    expect(decodeFailures(value, ['a.example.com', '*.b.example.com'])).toEqual([
      { identifier: 'b.example.com', at: ago(10 * MIN) },
      { identifier: 'a.example.com', at: NOW },
    ]);
  });

  it('a digest none of the certificate names has (its names changed) is not counted; garbage is ignored', () => {
    const value = `${appendFailures(undefined, ['old.example.com'], NOW)} zz:xyz :: !!`;
    expect(decodeFailures(value, ['new.example.com'])).toEqual([]);
    expect(decodeFailures(value, ['old.example.com'])).toEqual([{ identifier: 'old.example.com', at: NOW }]);
    expect(identifierDigest('*.Old.example.com')).toBe(identifierDigest('old.example.com'));
  });
});

describe('the ledger read from the inventory scan', () => {
  const entry = (tags: Record<string, string>) => ({
    Name: 'certpipe/web',
    Tags: Object.entries({
      [TAG.certificate]: 'web',
      [TAG.notBefore]: ago(24 * HOUR).toISOString(),
      [TAG.notAfter]: new Date(NOW.getTime() + 60 * 24 * HOUR).toISOString(),
      [TAG.serial]: '0a',
      [TAG.issuer]: 'le',
      [TAG.dnsNames]: 'web.example.com',
      ...tags,
    }).map(([Key, Value]) => ({ Key, Value })),
  });

  it('the orders and failures tags become facts; no orders tag is no ledger (an older secret)', () => {
    const facts = factsFromTags(
      entry({ [TAG.orders]: appendOrder(undefined, ago(HOUR)), [TAG.failedAuthz]: appendFailures(undefined, ['web.example.com'], ago(MIN)) }),
    )!;
    expect(facts.ordersPlaced).toEqual([ago(HOUR)]);
    expect(facts.failedAuthorizations).toEqual([{ identifier: 'web.example.com', at: ago(MIN) }]);
    const older = factsFromTags(entry({}))!;
    expect(older.ordersPlaced).toBeUndefined();
    expect(older.failedAuthorizations).toBeUndefined();
  });

  it('a secret with no certificate yet (a first issuance that failed) keeps its ledger, named by the configured names', () => {
    const placeholder = {
      Tags: [
        { Key: TAG.certificate, Value: 'new' },
        { Key: TAG.orders, Value: appendOrder(undefined, ago(MIN)) },
        { Key: TAG.failedAuthz, Value: appendFailures(undefined, ['new.example.com'], ago(MIN)) },
      ],
    };
    expect(factsFromTags(placeholder)).toBeUndefined();
    expect(unissuedLedgerFromTags(placeholder, ['new.example.com'])).toEqual({
      ordersPlaced: [ago(MIN)],
      failedAuthorizations: [{ identifier: 'new.example.com', at: ago(MIN) }],
    });
    expect(unissuedLedgerFromTags({ Tags: [{ Key: TAG.certificate, Value: 'new' }] }, ['new.example.com'])).toBeUndefined();
  });
});

describe('counting the ledger (runBudget)', () => {
  const spec = (name: string): CertificateSpec => ({ name, issuer: 'le', dnsNames: [`${name}.example.com`] }) as unknown as CertificateSpec;
  const stored = (name: string, over: Partial<StoredCertificateFacts>): StoredCertificateFacts =>
    ({
      secretName: `certpipe/${name}`,
      secretArn: '',
      notBefore: ago(80 * 24 * HOUR),
      notAfter: new Date(NOW.getTime() + 10 * 24 * HOUR),
      serial: '0a',
      dnsNames: [`${name}.example.com`],
      issuer: 'le',
      acmCertificateArns: {},
      ...over,
    }) as StoredCertificateFacts;

  it.each([
    ['an older secret: issued-at stands for its order', { issuedAt: ago(HOUR) }, [['order+certificate', HOUR]]],
    ['with a ledger, issued-at counts only as a certificate (its order is in the ledger: never twice)', { issuedAt: ago(HOUR), ordersPlaced: [ago(HOUR + 2 * MIN)] }, [['order', HOUR + 2 * MIN], ['certificate', HOUR]]],
    ['orders that ended in no certificate count too', { issuedAt: ago(50 * HOUR), ordersPlaced: [ago(2 * HOUR), ago(MIN)] }, [['order', 2 * HOUR], ['order', MIN], ['certificate', 50 * HOUR]]],
    ['an empty ledger with an old issued-at: no order in the window', { issuedAt: ago(4 * HOUR), ordersPlaced: [] }, [['certificate', 4 * HOUR]]],
  ] as const)('%s', (_case, facts, expected) => {
    const spends = spendOf({ issuer: 'le', dnsNames: ['x.example.com'], ...facts });
    expect(spends.map((s) => [s.counts ?? 'order+certificate', NOW.getTime() - s.at.getTime()])).toEqual(expected);
  });

  const budget = (limits: object, facts: Record<string, Partial<StoredCertificateFacts>>, due: string[], unissued: Record<string, UnissuedLedger> = {}) => {
    const scan = new StoredInventory(Object.entries(facts).map(([n, f]) => [n, stored(n, f)]));
    for (const [n, ledger] of Object.entries(unissued)) scan.unissued.set(n, ledger);
    return runBudget({ due: due.map((name) => ({ name, reason: 'InRenewalWindow' })), specs: ['a', 'b', 'c'].map(spec), stored: scan, issuers: [{ name: 'le', limits }], now: NOW });
  };

  it('orders that failed fill newOrdersPer3Hours: the next slot opens 3 hours after the oldest', () => {
    const plan = budget({ newOrdersPer3Hours: 2 }, { a: { ordersPlaced: [ago(2 * HOUR), ago(HOUR)] } }, ['b']);
    expect(plan.admitted).toEqual([]);
    expect(plan.deferred).toEqual([{ name: 'b', limit: 'newOrdersPer3Hours', nextSlot: new Date(NOW.getTime() + HOUR) }]);
  });

  it('an issued renewal with its order in the ledger spends one slot, not two', () => {
    const plan = budget({ newOrdersPer3Hours: 2 }, { a: { issuedAt: ago(HOUR), ordersPlaced: [ago(HOUR + MIN)] } }, ['b']);
    expect(plan.admitted).toEqual(['b']);
  });

  it('a failed authorization within the hour defers every certificate with that identifier; others go', () => {
    const failed = [{ identifier: 'a.example.com', at: ago(20 * MIN) }];
    const plan = budget({ failedAuthorizationsPerIdentifierPerHour: 1 }, { a: { failedAuthorizations: failed }, b: {} }, ['a', 'b']);
    expect(plan.admitted).toEqual(['b']);
    expect(plan.deferred).toEqual([{ name: 'a', limit: 'failedAuthorizationsPerIdentifierPerHour', nextSlot: new Date(NOW.getTime() + 40 * MIN) }]);
  });

  it('a first issuance whose order failed (no certificate yet) counts its order and its failure too', () => {
    const unissued = { c: { ordersPlaced: [ago(MIN)], failedAuthorizations: [{ identifier: 'c.example.com', at: ago(MIN) }] } };
    // Its order holds one of the two slots: the more urgent a takes the other, b waits.
    const orders = budget({ newOrdersPer3Hours: 2 }, { a: {}, b: { notAfter: new Date(NOW.getTime() + 20 * 24 * HOUR) } }, ['a', 'b'], unissued);
    expect(orders.admitted).toEqual(['a']);
    expect(orders.deferred.map((d) => [d.name, d.limit])).toEqual([['b', 'newOrdersPer3Hours']]);
    // Its failure keeps c itself waiting out the hour.
    const failures = budget({ failedAuthorizationsPerIdentifierPerHour: 1 }, {}, ['c'], unissued);
    expect(failures.deferred).toEqual([{ name: 'c', limit: 'failedAuthorizationsPerIdentifierPerHour', nextSlot: new Date(NOW.getTime() + HOUR - MIN) }]);
  });

  it('a failure stamped a moment ahead of this clock (rounded up to the second) already counts', () => {
    const failed = [{ identifier: 'a.example.com', at: new Date(NOW.getTime() + 600) }];
    expect(budget({ failedAuthorizationsPerIdentifierPerHour: 1 }, { a: { failedAuthorizations: failed } }, ['a']).deferred.map((d) => d.name)).toEqual(['a']);
  });

  it('a failure older than the hour no longer defers', () => {
    const failed = [{ identifier: 'a.example.com', at: ago(HOUR) }];
    expect(budget({ failedAuthorizationsPerIdentifierPerHour: 1 }, { a: { failedAuthorizations: failed } }, ['a']).admitted).toEqual(['a']);
  });
});
