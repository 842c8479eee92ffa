// PlaceChallenges and profiles over in-memory ports: the order carries the
// certificate's (or issuer's) profile when the CA offers it; otherwise the
// certificate fails with ProfileNotOffered before any key is made or claimed.
import { describe, expect, it } from 'vitest';
import { placeChallenges } from '../../../functions/lib/steps/placeChallenges.js';
import type { RenewalItem } from '../../../functions/lib/workflow/states.js';
import { memoryWorld, NOW } from './memoryPorts.js';

const item: RenewalItem = { name: 'web', reason: 'InRenewalWindow', execution: { id: 'exec-1', startTime: NOW.toISOString(), timeoutSeconds: 6 * 3600 } };
const OFFERED = { classic: 'c', tlsserver: 't', shortlived: 's' };

function world(profiles: { certificate?: string; issuer?: string }, offered: Record<string, string> | undefined) {
  const w = memoryWorld();
  const spec = w.ctx.inventory.certificates.find((c) => c.name === 'web')!;
  if (profiles.certificate) spec.profile = profiles.certificate;
  if (profiles.issuer) w.ctx.inventory.issuers.find((i) => i.name === spec.issuer)!.profile = profiles.issuer;
  w.ca.profiles = offered;
  return w;
}

describe('PlaceChallenges with a profile', () => {
  it("orders with the certificate's profile when the CA offers it", async () => {
    const w = world({ certificate: 'shortlived', issuer: 'classic' }, OFFERED);
    await placeChallenges(w.ctx, item);
    expect(w.ca.calls).toContain('createOrder https://ca.test/order/new-1 profile=shortlived');
  });

  it("orders with the issuer's profile when the certificate names none", async () => {
    const w = world({ issuer: 'tlsserver' }, OFFERED);
    await placeChallenges(w.ctx, item);
    expect(w.ca.calls).toContain('createOrder https://ca.test/order/new-1 profile=tlsserver');
  });

  it('orders without a profile when none is configured, even from a CA that offers some', async () => {
    const w = world({}, OFFERED);
    await placeChallenges(w.ctx, item);
    expect(w.ca.calls).toContain('createOrder https://ca.test/order/new-1');
  });

  it('an unknown profile fails the certificate with ProfileNotOffered listing the offered ones: no key, no claim, no order', async () => {
    const w = world({ certificate: 'sixday' }, OFFERED);
    await expect(placeChallenges(w.ctx, item)).rejects.toMatchObject({
      name: 'ProfileNotOffered',
      message: expect.stringContaining('web: profile "sixday" is not offered by the CA at https://ca.test/dir; it offers "classic", "shortlived", "tlsserver"'),
    });
    expect(w.ca.calls.filter((c) => c.startsWith('createOrder'))).toEqual([]);
    expect(w.store.calls).toEqual([]);
    expect(w.newKeys).toBe(0);
  });

  it('a configured profile and a CA without meta.profiles: a clear error, no order', async () => {
    const w = world({ issuer: 'classic' }, undefined);
    await expect(placeChallenges(w.ctx, item)).rejects.toMatchObject({
      name: 'ProfileNotOffered',
      message: expect.stringContaining('offers no profiles'),
    });
    expect(w.ca.calls.filter((c) => c.startsWith('createOrder'))).toEqual([]);
  });
});
