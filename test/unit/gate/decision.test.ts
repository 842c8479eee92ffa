import { describe, expect, it } from 'vitest';
import { canaryDecision } from '../../../functions/lib/gate/canary.js';
import { gateDecision, STAGING_PROOF_VALID_MS, type GateInput, type GateReason, type Stage } from '../../../functions/lib/gate/decision.js';
import { issuanceFingerprint } from '../../../functions/lib/gate/fingerprint.js';
import { rehearsalName, rehearsedName, stagingRehearsal } from '../../../functions/lib/gate/rehearsal.js';
import { gateStatus } from '../../../functions/lib/gate/status.js';
import { gateRunOutcome } from '../../../functions/lib/gate/runMetrics.js';
import type { CertificateSpec } from '../../../functions/lib/inventory.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3_600_000);

const spec: CertificateSpec = {
  name: 'web',
  dnsNames: ['example.test', '*.example.test'],
  issuer: 'letsencrypt',
  keyAlgorithm: 'ecdsa-p256',
  privateKeyRotation: 'always',
  renewal: { renewAtFractionLeft: 1 / 3 },
  secretName: 'certpipe/web',
  hostedZoneIds: {},
  targets: [{ type: 'acm', region: 'us-east-1' }],
  storeFullchain: true,
  stagingGate: { issuer: 'letsencrypt-staging', secretName: 'certpipe/web/staging' },
};
const fingerprint = issuanceFingerprint(spec);
const issued = { issuer: 'letsencrypt', dnsNames: spec.dnsNames, keyAlgorithm: 'ecdsa-p256' as const, gateFingerprint: fingerprint };

describe('gateDecision', () => {
  const cases: Array<{ name: string; input: Partial<GateInput>; stage: Stage; reason: GateReason }> = [
    { name: 'no staging twin (or gate: off): production', input: { spec: { ...spec, stagingGate: undefined } }, stage: 'production', reason: 'Ungated' },
    { name: 'never issued: staging first', input: {}, stage: 'staging', reason: 'NeverIssued' },
    { name: 'issued by another issuer: staging first', input: { stored: { ...issued, issuer: 'zerossl' } }, stage: 'staging', reason: 'NewIssuer' },
    { name: 'names changed since issuance: staging first', input: { stored: { ...issued, gateFingerprint: issuanceFingerprint({ ...spec, dnsNames: ['example.test'] }) } }, stage: 'staging', reason: 'ShapeChanged' },
    { name: 'profile changed since issuance: staging first', input: { stored: { ...issued, gateFingerprint: issuanceFingerprint({ ...spec, profile: 'shortlived' }) } }, stage: 'staging', reason: 'ShapeChanged' },
    { name: 'same names, key and profile: straight to production', input: { stored: issued }, stage: 'production', reason: 'AlreadyProven' },
    { name: 'names in another order and case are the same certificate', input: { stored: { ...issued, gateFingerprint: issuanceFingerprint({ ...spec, dnsNames: ['*.EXAMPLE.test', 'example.test'] }) } }, stage: 'production', reason: 'AlreadyProven' },
    { name: 'no fingerprint tag (issued before it existed), same names and key: production', input: { stored: { ...issued, gateFingerprint: undefined } }, stage: 'production', reason: 'AlreadyProven' },
    { name: 'no fingerprint tag, key algorithm changed: staging', input: { stored: { ...issued, gateFingerprint: undefined, keyAlgorithm: 'rsa-2048' } }, stage: 'staging', reason: 'ShapeChanged' },
    { name: 'a production order in flight is resumed, not rehearsed', input: { stored: { ...issued, issuer: 'zerossl', pendingOrder: true } }, stage: 'production', reason: 'ProductionUnderway' },
    { name: 'staging passed 2 h ago for this shape (production failed since): production', input: { staged: { gateFingerprint: fingerprint, issuedAt: hoursAgo(2), serial: 'aa' } }, stage: 'production', reason: 'StagingPassed' },
    { name: 'staging passed, but longer ago than a proof lasts: staging again', input: { staged: { gateFingerprint: fingerprint, issuedAt: new Date(NOW.getTime() - STAGING_PROOF_VALID_MS), serial: 'aa' } }, stage: 'staging', reason: 'NeverIssued' },
    { name: 'staging passed for other names: staging again', input: { staged: { gateFingerprint: 'other', issuedAt: hoursAgo(1), serial: 'aa' } }, stage: 'staging', reason: 'NeverIssued' },
  ];
  it.each(cases)('$name', ({ input, stage, reason }) => {
    const decision = gateDecision({ spec, fingerprint, now: NOW, ...input });
    expect({ stage: decision.stage, reason: decision.reason }).toEqual({ stage, reason });
  });

  it('says which issuer staging runs on', () => {
    expect(gateDecision({ spec, fingerprint, now: NOW }).message).toBe('never issued by letsencrypt: staging on letsencrypt-staging first');
  });
});

describe('stagingRehearsal', () => {
  it('is the same certificate on the staging twin, in its own secret, with nowhere to publish', () => {
    const rehearsal = stagingRehearsal(spec);
    expect(rehearsal).toMatchObject({ name: 'web@staging', issuer: 'letsencrypt-staging', secretName: 'certpipe/web/staging', targets: [], rehearsalOf: 'web', dnsNames: spec.dnsNames });
    expect(rehearsal.storeFullchain).toBeUndefined();
    expect(rehearsal.stagingGate).toBeUndefined();
  });
  it('names round-trip, and an ordinary name is no rehearsal', () => {
    expect(rehearsedName(rehearsalName('web'))).toBe('web');
    expect(rehearsedName('web')).toBeUndefined();
  });
  it('refuses a certificate without a gate', () => {
    expect(() => stagingRehearsal({ ...spec, stagingGate: undefined })).toThrow(/no staging gate/);
  });
});

describe('canaryDecision', () => {
  const cases = [
    { name: 'never issued: due', lastIssuedAt: undefined, everySeconds: 43_200, due: true },
    { name: 'issued 12 h ago, every 12 h: due', lastIssuedAt: hoursAgo(12), everySeconds: 43_200, due: true },
    { name: 'issued 11 h 57 min ago, every 12 h: due (scheduler jitter)', lastIssuedAt: new Date(NOW.getTime() - (12 * 60 - 3) * 60_000), everySeconds: 43_200, due: true },
    { name: 'issued 6 h ago, every 24 h: not yet', lastIssuedAt: hoursAgo(6), everySeconds: 86_400, due: false },
    { name: 'issued 6 h ago, every 24 h, forced (certpipe renew --force): due', lastIssuedAt: hoursAgo(6), everySeconds: 86_400, due: true, force: true },
  ];
  it.each(cases)('$name', ({ lastIssuedAt, everySeconds, due, force }) => {
    expect(canaryDecision({ everySeconds, ...(lastIssuedAt ? { lastIssuedAt } : {}), now: NOW, ...(force ? { force } : {}) }).due).toBe(due);
  });
  it('names the next issuance as its renewal time', () => {
    expect(canaryDecision({ everySeconds: 86_400, lastIssuedAt: hoursAgo(6), now: NOW }).renewalTime).toBe('2026-03-02T05:55:00.000Z');
  });
});

describe('gateStatus', () => {
  const required = gateDecision({ spec, fingerprint, now: NOW });
  const proven = gateDecision({ spec, fingerprint, now: NOW, stored: issued });
  it('blocked when the last run failed on staging, with the reason', () => {
    const status = gateStatus({ decision: required, lastRun: { staging: 'failed', at: hoursAgo(1).toISOString(), error: 'AcmeOrderInvalid' } });
    expect(status).toEqual({ state: 'blocked', reason: 'staging failed (AcmeOrderInvalid): production not ordered', at: hoursAgo(1).toISOString() });
  });
  it('not blocked once a later run went through staging (or straight to production)', () => {
    expect(gateStatus({ decision: proven, lastRun: { staging: 'passed', at: hoursAgo(1).toISOString() } }).state).toBe('proven');
    expect(gateStatus({ decision: proven, lastRun: { at: hoursAgo(1).toISOString() } }).state).toBe('proven');
  });
  it('required, passed, off', () => {
    expect(gateStatus({ decision: required }).state).toBe('required');
    const passed = gateDecision({ spec, fingerprint, now: NOW, staged: { gateFingerprint: fingerprint, issuedAt: hoursAgo(1), serial: 'ab' } });
    expect(gateStatus({ decision: passed, staged: { serial: 'ab', issuedAt: hoursAgo(1) } })).toMatchObject({ state: 'passed', serial: 'ab' });
    expect(gateStatus({ decision: gateDecision({ spec: { ...spec, stagingGate: undefined }, fingerprint, now: NOW }) }).state).toBe('off');
  });
});

describe('gateRunOutcome', () => {
  const result = (name: string, outcome: 'renewed' | 'failed' | 'deferred') => ({ name, outcome });
  it('names the certificates a failed rehearsal blocked, and the canary\'s outcome', () => {
    expect(gateRunOutcome([result('web@staging', 'failed'), result('shop', 'failed'), result('cdn', 'renewed'), result('certpipe-canary', 'renewed')])).toEqual({
      blocked: ['web'],
      canary: 'succeeded',
    });
  });
  it('a failed canary is a failure, a deferred one neither; a run without the canary says nothing of it', () => {
    expect(gateRunOutcome([result('certpipe-canary', 'deferred')]).canary).toBe('deferred');
    expect(gateRunOutcome([result('certpipe-canary', 'failed')]).canary).toBe('failed');
    expect(gateRunOutcome([result('web', 'renewed')])).toEqual({ blocked: [] });
  });
});
