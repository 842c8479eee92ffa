// The steps' decisions as tables: plain data in, one action and its reason out.
import { describe, expect, it } from 'vitest';
import { finalizeStart, nextCheck, orderAction } from '../../../functions/lib/steps/orderProgress.js';
import { afterClaim, placement, type PendingView, type PlacementInput } from '../../../functions/lib/steps/placement.js';
import { certificateEventDetail, promotion, publishOutcome } from '../../../functions/lib/steps/publishPlan.js';
import { MAX_ORDER_CHECKS } from '../../../functions/lib/backoff.js';
import { inventoryFixture, issuedFixture } from './memoryPorts.js';

const spec = { dnsNames: ['example.test', '*.example.test'], keyAlgorithm: 'ecdsa-p256' as const };
const claim: PendingView = { kind: 'claim', versionId: 'v1', orderUrl: 'https://ca.test/order/1', dnsNames: ['*.EXAMPLE.test', 'example.test'], keyAlgorithm: 'ecdsa-p256' };
const issued: PendingView = { kind: 'issued', versionId: 'v2', orderUrl: 'https://ca.test/order/1' };

describe('placement', () => {
  const cases: Array<{ name: string; input: PlacementInput; expected: object }> = [
    { name: 'a verified certificate waits: publish it, no second order', input: { pending: issued, itemReason: 'InRenewalWindow', spec }, expected: { action: 'publish-stored', reason: 'IssuedPending', orderUrl: issued.orderUrl } },
    { name: 'publish pending and nothing in flight: publish the current one', input: { itemReason: 'PublishIncomplete', spec }, expected: { action: 'publish-current', reason: 'PublishIncomplete' } },
    { name: 'nothing in flight: order', input: { itemReason: 'InRenewalWindow', spec }, expected: { action: 'order', reason: 'NoClaim' } },
    { name: 'a claim for the same names (any case, any order) and key: resume', input: { pending: claim, itemReason: 'PendingOrder', spec }, expected: { action: 'resume', reason: 'ClaimInFlight', orderUrl: claim.orderUrl } },
    { name: 'a claim for other names: order anew, replacing it', input: { pending: claim, itemReason: 'NamesChanged', spec: { ...spec, dnsNames: ['example.test'] } }, expected: { action: 'order', reason: 'ClaimOutdated', replacePendingVersionId: 'v1' } },
    { name: 'a claim for another key algorithm: order anew, replacing it', input: { pending: claim, itemReason: 'KeyAlgorithmChanged', spec: { ...spec, keyAlgorithm: 'rsa-2048' } }, expected: { action: 'order', reason: 'ClaimOutdated', replacePendingVersionId: 'v1' } },
    { name: 'a dead claim (the CA gave up on it): order anew, replacing it', input: { pending: claim, itemReason: 'PendingOrder', spec, claimDead: true }, expected: { action: 'order', reason: 'ClaimDead', replacePendingVersionId: 'v1' } },
    { name: 'publish pending with a claim in flight: the claim wins', input: { pending: claim, itemReason: 'PublishIncomplete', spec }, expected: { action: 'resume' } },
  ];
  it.each(cases)('$name', ({ input, expected }) => expect(placement(input)).toMatchObject(expected));
});

describe('afterClaim', () => {
  it.each([
    { name: 'our claim won', result: { outcome: 'claimed' as const }, expected: { action: 'use-created', reason: 'Claimed' } },
    { name: 'renewed meanwhile: publish what is current', result: { outcome: 'superseded' as const }, expected: { action: 'publish-current', reason: 'Superseded' } },
    { name: 'another execution claimed first: resume its order', result: { outcome: 'resumed' as const, pending: claim }, expected: { action: 'resume', reason: 'ClaimedByAnother', orderUrl: claim.orderUrl } },
    { name: 'another execution already issued: publish it', result: { outcome: 'resumed' as const, pending: issued }, expected: { action: 'publish-stored', reason: 'IssuedByAnother' } },
  ])('$name', ({ result, expected }) => expect(afterClaim(result)).toMatchObject(expected));
});

describe('finalizeStart and orderAction', () => {
  it.each([
    { name: 'stored already: report it', input: { pending: issued }, expected: { action: 'report-stored' } },
    { name: 'a claim: ask the CA', input: { pending: claim }, expected: { action: 'check-order', orderUrl: claim.orderUrl, claimVersionId: 'v1' } },
    { name: 'no claim, current is this order: another execution promoted it', input: { currentOrderUrl: 'https://ca.test/order/1', stateOrderUrl: 'https://ca.test/order/1' }, expected: { action: 'report-current' } },
    { name: 'no claim, current is another order: give up', input: { currentOrderUrl: 'https://ca.test/order/0', stateOrderUrl: 'https://ca.test/order/1' }, expected: { action: 'give-up' } },
    { name: 'no claim and no order in the state: give up', input: { currentOrderUrl: 'https://ca.test/order/0' }, expected: { action: 'give-up' } },
  ])('$name', ({ input, expected }) => expect(finalizeStart(input)).toMatchObject(expected));

  it.each([
    ['pending', 'answer-challenges'],
    ['ready', 'finalize'],
    ['processing', 'wait'],
    ['valid', 'download'],
  ] as const)('an order %s → %s', (status, action) => expect(orderAction(status).action).toBe(action));

  it('waits with a growing delay, then gives up after MAX_ORDER_CHECKS checks', () => {
    expect(nextCheck(0)).toEqual({ action: 'wait', waitSeconds: 1, attempt: 1 });
    expect(nextCheck(5)).toEqual({ action: 'wait', waitSeconds: 8, attempt: 6 });
    expect(nextCheck(MAX_ORDER_CHECKS - 2).action).toBe('wait');
    expect(nextCheck(MAX_ORDER_CHECKS - 1)).toEqual({ action: 'give-up', checks: MAX_ORDER_CHECKS });
  });
});

describe('publish plan', () => {
  const web = inventoryFixture().certificates[0]!;

  // 90 days, a third left: 60.3 days after notBefore.
  it('promotes the pending serial, re-verified, with its renewal time; else refreshes the current one', () => {
    const pending = issuedFixture();
    expect(promotion({ spec: web, pendingIssued: pending })).toEqual({ reverify: true, serial: '0a1b2c', renewalTime: new Date('2026-04-30T07:12:00.000Z') });
    expect(promotion({ spec: web, current: pending })).toEqual({ reverify: false, renewalTime: new Date('2026-04-30T07:12:00.000Z') });
    expect(promotion({ spec: web })).toEqual({ reverify: false });
  });

  it('lists the primary first, keeps going past a failed target, and labels the failure as the publish-pending tag does', () => {
    const outcome = publishOutcome('secretsmanager:000000000000:us-east-1:certpipe/web', web.targets, [
      { status: 'rejected', reason: Object.assign(new Error('denied'), { name: 'AccessDeniedException' }) },
      { status: 'fulfilled', value: 'acm:000000000000:us-east-1:arn:aws:acm:us-east-1:000000000000:certificate/1' },
    ]);
    expect(outcome).toMatchObject({
      published: ['secretsmanager:000000000000:us-east-1:certpipe/web', 'acm:000000000000:us-east-1:arn:aws:acm:us-east-1:000000000000:certificate/1'],
      failures: [{ target: 'secretsmanager:111111111111:eu-west-1:certpipe/web-copy', name: 'AccessDeniedException', error: 'denied' }],
    });
    expect(outcome.delivered.map((d) => d.target.type)).toEqual(['acm']);
    const detail = certificateEventDetail(web, issuedFixture(), outcome, 'InRenewalWindow');
    expect(detail).toMatchObject({ certificate: 'web', serial: '0a1b2c', failedTargets: ['secretsmanager:111111111111:eu-west-1:certpipe/web-copy'], reason: 'InRenewalWindow' });
    expect(JSON.stringify(detail)).not.toContain('stored-key-1');
  });
});
