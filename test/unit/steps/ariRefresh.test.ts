// CheckExpiry's ARI pass over in-memory ports at a fixed clock: it asks the CA only
// for stale answers, keeps what it learned, and never fails when the CA does not answer.
import { describe, expect, it } from 'vitest';
import type { AriCache } from '../../../functions/lib/acme/ariCache.js';
import { refreshAri } from '../../../functions/lib/steps/ariRefresh.js';
import type { StoredCertificateFacts } from '../../../functions/lib/store/model.js';
import { memoryWorld, NOW } from './memoryPorts.js';

const CERT_ID = 'aYhb.AIdl';
const window = { start: '2026-05-01T00:00:00.000Z', end: '2026-05-03T00:00:00.000Z' };

function setUp(over: Partial<StoredCertificateFacts> = {}) {
  const world = memoryWorld();
  const spec = world.ctx.inventory.certificates[0]!;
  const facts = {
    secretName: spec.secretName,
    secretArn: 'arn',
    notBefore: new Date('2026-03-01T00:00:00Z'),
    notAfter: new Date('2026-05-30T00:00:00Z'),
    serial: '01',
    dnsNames: spec.dnsNames,
    issuer: spec.issuer,
    ariCertId: CERT_ID,
    acmCertificateArns: {},
    ...over,
  } as StoredCertificateFacts;
  world.ari.offered = true;
  world.ari.answers.set(CERT_ID, { body: { suggestedWindow: window }, retryAfter: '21600' });
  const run = () => refreshAri(world.ctx, [spec], new Map([[spec.name, facts]]), NOW, () => 0.5);
  return { world, spec, run };
}

const fresh: AriCache = {
  certId: CERT_ID,
  window: { start: new Date('2026-04-20T00:00:00Z'), end: new Date('2026-04-22T00:00:00Z') },
  renewalTime: new Date('2026-04-21T00:00:00Z'),
  nextCheck: new Date(NOW.getTime() + 3600_000),
};

describe('refreshAri', () => {
  it('asks the CA when nothing is cached, keeps the answer with a time in the window and the next check at Retry-After', async () => {
    const { world, spec, run } = setUp();
    const result = await run();
    expect(world.ari.fetched).toEqual([CERT_ID]);
    const kept = world.ari.kept.get(spec.name)!;
    expect(kept.renewalTime.toISOString()).toBe('2026-05-02T00:00:00.000Z');
    expect(kept.nextCheck.getTime()).toBe(NOW.getTime() + 21600_000);
    expect(result.get(spec.name)).toEqual(kept);
  });

  it('does not ask while the cached answer is fresh', async () => {
    const { world, spec, run } = setUp({ ariCache: fresh });
    expect((await run()).get(spec.name)).toEqual(fresh);
    expect(world.ari.fetched).toEqual([]);
    expect(world.ari.kept.size).toBe(0);
  });

  it('asks again for a renewed certificate (the cache is for the one it replaced)', async () => {
    const { world, run } = setUp({ ariCache: { ...fresh, certId: 'aYhb.OLD' } });
    await run();
    expect(world.ari.fetched).toEqual([CERT_ID]);
  });

  it.each([
    ['the CA offers no ARI', (w: ReturnType<typeof memoryWorld>) => void (w.ari.offered = false), {}],
    ['the certificate came from another issuer', () => undefined, { issuer: 'another-ca' }],
    ['the certificate predates the certID tag', () => undefined, { ariCertId: undefined }],
  ])('no window and no request when %s', async (_name, prepare, over) => {
    const { world, spec, run } = setUp(over as Partial<StoredCertificateFacts>);
    prepare(world);
    expect((await run()).has(spec.name)).toBe(false);
    expect(world.ari.fetched).toEqual([]);
  });

  it('a CA that does not answer fails nothing: the stale window is used, or none', async () => {
    const stale = { ...fresh, nextCheck: new Date(NOW.getTime() - 1) };
    const withStale = setUp({ ariCache: stale });
    withStale.world.ari.answers.clear();
    expect((await withStale.run()).get(withStale.spec.name)).toEqual(stale);
    const without = setUp();
    without.world.ari.answers.set(CERT_ID, { body: { suggestedWindow: { start: 'x' } }, retryAfter: null });
    expect((await without.run()).has(without.spec.name)).toBe(false);
  });
});
