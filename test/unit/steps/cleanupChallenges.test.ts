// CleanupChallenges over in-memory ports: after a failure it removes what the tags
// recorded, and leaves values another live execution still holds.
import { describe, expect, it } from 'vitest';
import { cleanupChallenges } from '../../../functions/lib/steps/cleanupChallenges.js';
import { holderTagKey, valuesTags } from '../../../functions/lib/store/challengeHolders.js';
import { memoryWorld, NOW } from './memoryPorts.js';

const ORDER = 'https://ca.test/order/in-flight';
const VALUE = 'v'.repeat(43);
const execution = (id: string) => ({ id, startTime: NOW.toISOString(), timeoutSeconds: 6 * 3600 });

function placed(holders: Record<string, Date>) {
  const w = memoryWorld();
  for (const t of valuesTags(ORDER, [VALUE])) w.store.tags.set(t.Key, t.Value);
  for (const [id, until] of Object.entries(holders)) w.store.tags.set(holderTagKey(id), until.toISOString());
  w.zone.values.set('_acme-challenge.example.test', [VALUE, 'someone-else']);
  return w;
}

describe('CleanupChallenges', () => {
  it('after a failure with no order in the state: removes the recorded values, keeps foreign ones, drops the tags', async () => {
    const w = placed({ 'exec-1': new Date(NOW.getTime() + 3600_000) });
    const out = await cleanupChallenges(w.ctx, { name: 'web', execution: execution('exec-1'), error: { Error: 'AcmeOrderInvalid' } });
    expect(out).toEqual({ removed: 1, failures: [] });
    expect(w.zone.values.get('_acme-challenge.example.test')).toEqual(['someone-else']);
    expect([...w.store.tags.keys()].filter((k) => k.startsWith('certpipe:challenge-'))).toEqual([]);
  });

  it('another execution still holds the values: they stay', async () => {
    const w = placed({ 'exec-1': new Date(NOW.getTime() + 3600_000), 'exec-2': new Date(NOW.getTime() + 3600_000) });
    expect(await cleanupChallenges(w.ctx, { name: 'web', execution: execution('exec-1') })).toEqual({ removed: 0, failures: [] });
    expect(w.zone.values.get('_acme-challenge.example.test')).toContain(VALUE);
  });

  it("a holder whose lease ended (its execution died) no longer keeps them", async () => {
    const w = placed({ 'exec-1': new Date(NOW.getTime() + 3600_000), 'exec-dead': new Date(NOW.getTime() - 1000) });
    await cleanupChallenges(w.ctx, { name: 'web', execution: execution('exec-1') });
    expect(w.zone.values.get('_acme-challenge.example.test')).toEqual(['someone-else']);
  });
});
