// Revocation as plain data: which key signs, the tag round trip, and when a
// key may be kept for the next order.
import { describe, expect, it } from 'vitest';
import {
  formatRevocationTag,
  isRevocationReason,
  mayReuseKey,
  parseRevocationTag,
  REVOCATION_REASONS,
  revocationSigner,
  type RevocationRecord,
} from '../../functions/lib/acme/revocation.js';

describe('revocation reasons and signer', () => {
  it('uses the RFC 5280 CRLReason codes', () => {
    expect(REVOCATION_REASONS).toEqual({ keyCompromise: 1, superseded: 4, cessationOfOperation: 5 });
    expect(isRevocationReason('superseded')).toBe(true);
    expect(isRevocationReason('toString')).toBe(false);
    expect(isRevocationReason('unspecified')).toBe(false);
  });

  it.each([
    ['keyCompromise', 'certificateKey'],
    ['superseded', 'accountKey'],
    ['cessationOfOperation', 'accountKey'],
  ] as const)('%s is signed with the %s', (reason, signer) => {
    expect(revocationSigner(reason)).toBe(signer);
  });
});

describe('the certpipe:revoked tag', () => {
  const record: RevocationRecord = { at: '2026-03-01T10:00:00.000Z', reason: 'keyCompromise', serial: '5f3a01' };

  it('round-trips and fits a tag value', () => {
    const value = formatRevocationTag(record);
    expect(value.length).toBeLessThanOrEqual(256);
    expect(parseRevocationTag(value)).toEqual(record);
  });

  it('records who revoked it, and reads a tag written before that as nobody named', () => {
    const by = 'arn:aws:sts::123456789012:assumed-role/platform-operators/alice@example.com';
    expect(parseRevocationTag(formatRevocationTag({ ...record, startedBy: by }))).toEqual({ ...record, startedBy: by });
    expect(parseRevocationTag('2026-03-01T10:00:00.000Z superseded 01')).toEqual({ at: '2026-03-01T10:00:00.000Z', reason: 'superseded', serial: '01' });
  });

  it('keeps a caller within the tag value rules: unsafe characters replaced, a long ARN cut to its tail', () => {
    const safe = /^[\p{L}\p{Z}\p{N}_.:/=+@-]*$/u;
    const comma = formatRevocationTag({ ...record, startedBy: 'arn:aws:sts::123456789012:assumed-role/ops,admins/bob' });
    expect(comma).toMatch(safe);
    expect(parseRevocationTag(comma)?.startedBy).toBe('arn:aws:sts::123456789012:assumed-role/ops_admins/bob');

    const long = `arn:aws:iam::123456789012:user/${'team/'.repeat(60)}carol`;
    const value = formatRevocationTag({ ...record, serial: 'ab'.repeat(20), startedBy: long });
    expect(value).toHaveLength(256);
    expect(value).toMatch(safe);
    const startedBy = parseRevocationTag(value)?.startedBy;
    expect(startedBy).toMatch(/^\.\.\..*\/carol$/);
    expect(long.endsWith(startedBy!.slice(3))).toBe(true);
  });

  it.each([
    ['absent', undefined],
    ['empty', ''],
    ['unknown reason', '2026-03-01T10:00:00.000Z unspecified 01'],
    ['bad time', 'yesterday superseded 01'],
    ['extra field', '2026-03-01T10:00:00.000Z superseded 01 arn:x y'],
  ])('%s reads as no revocation', (_case, value) => {
    expect(parseRevocationTag(value)).toBeUndefined();
  });
});

describe('mayReuseKey', () => {
  const current = { serial: '0A0B', keyAlgorithm: 'ecdsa-p256' };
  const never = { keyAlgorithm: 'ecdsa-p256', rotation: 'never' as const };
  const revoked = (serial: string): RevocationRecord => ({ serial, reason: 'superseded', at: '2026-03-01T10:00:00.000Z' });

  it.each([
    ['rotation never, nothing revoked', current, never, undefined, true],
    ['rotation never, an older certificate revoked', current, never, revoked('09ff'), true],
    ['rotation never, this certificate revoked (serial case differs)', current, never, revoked('0a0b'), false],
    ['rotation always', current, { ...never, rotation: 'always' as const }, undefined, false],
    ['key algorithm changed', current, { ...never, keyAlgorithm: 'rsa-2048' }, undefined, false],
  ])('%s → %s', (_case, cur, wanted, record, expected) => {
    expect(mayReuseKey(cur, wanted, record)).toBe(expected);
  });
});
