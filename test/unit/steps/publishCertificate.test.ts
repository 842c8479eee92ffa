// PublishCertificate over in-memory ports: promote, every target, the publish-pending
// record and the event, also when a target fails or the certificate no longer verifies.
import { describe, expect, it } from 'vitest';
import { publishCertificate } from '../../../functions/lib/steps/publishCertificate.js';
import { TAG } from '../../../functions/lib/store/model.js';
import { CertificateVerificationFailed, PublishFailed } from '../../../functions/lib/workflow/errors.js';
import { issuedFixture, memoryWorld } from './memoryPorts.js';

const COPY = 'secretsmanager:111111111111:eu-west-1:certpipe/web-copy';
const ACM = 'acm:us-east-1';

describe('PublishCertificate', () => {
  it('promotes the verified pending certificate and publishes it to the copy, ACM and the event', async () => {
    const w = memoryWorld();
    w.store.pending = { kind: 'issued', versionId: 'v2', issued: issuedFixture() };
    const out = await publishCertificate(w.ctx, { name: 'web', reason: 'InRenewalWindow' });
    expect(out).toEqual({ serial: '0a1b2c', notAfter: '2026-05-30T00:00:00.000Z', targets: ['secretsmanager:000000000000:us-east-1:certpipe/web', COPY, ACM] });
    expect(w.store.calls).toEqual(['promote serial=0a1b2c renewalTime=2026-04-30T07:12:00.000Z', 'recordPublishPending []']);
    expect(w.published).toEqual([`${COPY} 0a1b2c`, `${ACM} 0a1b2c`]);
    expect(w.events).toEqual([{ detailType: 'Certificate Renewed', detail: expect.objectContaining({ certificate: 'web', serial: '0a1b2c', failedTargets: [], reason: 'InRenewalWindow' }) }]);
    expect(JSON.stringify(w.events)).not.toContain('stored-key-1');
  });

  it('publish pending only: the current certificate again, no serial asked of the promotion', async () => {
    const w = memoryWorld();
    w.store.current = { versionId: 'v1', issued: issuedFixture() };
    w.store.tags.set(TAG.publishPending, COPY);
    await publishCertificate(w.ctx, { name: 'web', reason: 'PublishIncomplete' });
    expect(w.store.calls[0]).toBe('promote serial=- renewalTime=2026-04-30T07:12:00.000Z');
    expect(w.store.tags.has(TAG.publishPending)).toBe(false);
  });

  it('a failed target: the others still get it, the failure is recorded for the next run, the event names it, and PublishFailed', async () => {
    const w = memoryWorld();
    w.store.pending = { kind: 'issued', versionId: 'v2', issued: issuedFixture() };
    w.failingTargets.add(COPY);
    const err = await publishCertificate(w.ctx, { name: 'web', reason: 'InRenewalWindow' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PublishFailed);
    expect((err as PublishFailed).failedTargets).toEqual([COPY]);
    expect(w.published).toEqual([`${ACM} 0a1b2c`]);
    expect(w.store.tags.get(TAG.publishPending)).toBe(COPY);
    expect(w.events[0]!.detail).toMatchObject({ failedTargets: [COPY] });
  });

  it('a pending certificate that no longer verifies (config changed) is abandoned, never promoted', async () => {
    const w = memoryWorld();
    w.store.pending = { kind: 'issued', versionId: 'v2', issued: issuedFixture() };
    w.verifyProblems.push('example.test is not covered');
    await expect(publishCertificate(w.ctx, { name: 'web', reason: 'NamesChanged' })).rejects.toThrow(CertificateVerificationFailed);
    expect(w.store.calls).toEqual(['abandonPending v2']);
    expect(w.events).toEqual([]);
  });
});
