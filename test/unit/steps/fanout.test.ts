// The two ends of RenewEach's fan-out over in-memory ports: CheckExpiry writes
// the whole due list to the run bucket and keeps only a few names in the state;
// Summarize reads every child execution the ResultWriter listed and counts them all.
import { describe, expect, it } from 'vitest';
import { checkExpiry, MAX_DUE_LISTED } from '../../../functions/lib/steps/checkExpiry.js';
import { MAX_CAUSE_CHARS, MAX_RESULTS_LISTED, summarize } from '../../../functions/lib/steps/summarize.js';
import type { CheckExpiryOutput } from '../../../functions/lib/workflow/states.js';
import { memoryWorld } from './memoryPorts.js';

function fleet(n: number) {
  const w = memoryWorld();
  const [template] = w.ctx.inventory.certificates;
  const certificates = Array.from({ length: n }, (_, i) => ({ ...template!, name: `c${String(i).padStart(4, '0')}`, secretName: `certpipe/c${i}` }));
  const inventory = { ...w.ctx.inventory, certificates };
  return { w, ctx: { ...w.ctx, inventory, env: { ...w.ctx.env, inventory } } };
}

describe('CheckExpiry writes the due list for the ItemReader', () => {
  it('puts every due certificate in one object and only the first ones in the state', async () => {
    const { w, ctx } = fleet(250);
    const out = await checkExpiry(ctx, {});
    expect(out.dueCount).toBe(250);
    expect(out.due).toHaveLength(MAX_DUE_LISTED);
    expect(out.items).toEqual({ bucket: 'run-bucket', key: expect.stringMatching(/^due\/2026-04-01T10-00-00-000Z-[0-9a-f-]{36}\.json$/) });
    const written = JSON.parse(w.objects.get(`run-bucket/${out.items!.key}`)!);
    expect(written).toHaveLength(250);
    expect(written[249]).toEqual({ name: 'c0249', reason: 'DoesNotExist' });
  });

  it('writes nothing when nothing is due', async () => {
    const { w, ctx } = fleet(0);
    const out = await checkExpiry(ctx, {});
    expect(out.dueCount).toBe(0);
    expect(out.items).toBeUndefined();
    expect(w.objects.size).toBe(0);
  });
});

const CHECK: CheckExpiryOutput = { checkedAt: '2026-04-01T10:00:00.000Z', total: 300, dueCount: 300, due: [], skipped: [], skippedCount: 7 };
const child = (name: string, output: Record<string, unknown> | undefined, failure?: { Error: string; Cause: string }) => ({
  ExecutionArn: `arn:aws:states:us-east-1:000000000000:execution:renewal/run:${name}`,
  Status: failure ? 'FAILED' : 'SUCCEEDED',
  Input: JSON.stringify({ name, reason: 'Expired' }),
  ...(output ? { Output: JSON.stringify(output) } : {}),
  ...(failure ?? {}),
});

describe('Summarize reads the map run results from the run bucket', () => {
  it('counts every child, names a failed child by its input, truncates causes and lists failures first, capped', async () => {
    const w = memoryWorld();
    const renewed = Array.from({ length: 280 }, (_, i) => child(`r${i}`, { name: `r${i}`, outcome: 'renewed', published: { serial: '01', notAfter: '2026-07-01T00:00:00.000Z', targets: [] } }));
    const failedInside = child('f-caught', { name: 'f-caught', outcome: 'failed', error: 'DnsPropagationTimeout', cause: 'x'.repeat(5000) });
    const deferred = child('d', { name: 'd', outcome: 'deferred', retryAfter: '2026-04-01T12:00:00.000Z', error: 'RateLimited' });
    const childFailed = child('f-quota', undefined, { Error: 'States.Runtime', Cause: 'The execution reached the maximum number of history events (2000).' });
    w.objects.set('results-bucket/results/run/SUCCEEDED_0.json', JSON.stringify([...renewed.slice(0, 200), failedInside]));
    w.objects.set('results-bucket/results/run/SUCCEEDED_1.json', JSON.stringify([...renewed.slice(200), deferred]));
    w.objects.set('results-bucket/results/run/FAILED_0.json', JSON.stringify([childFailed]));
    w.objects.set(
      'results-bucket/results/run/manifest.json',
      JSON.stringify({ ResultFiles: { SUCCEEDED: [{ Key: 'results/run/SUCCEEDED_0.json' }, { Key: 'results/run/SUCCEEDED_1.json' }], FAILED: [{ Key: 'results/run/FAILED_0.json' }], PENDING: [] } }),
    );

    const out = await summarize(w.ctx, { check: CHECK, results: { MapRunArn: 'arn:aws:states:us-east-1:000000000000:mapRun:renewal/RenewEach:run', ResultWriterDetails: { Bucket: 'results-bucket', Key: 'results/run/manifest.json' } } });

    expect({ renewed: out.renewed, failed: out.failed, deferred: out.deferred, skipped: out.skipped }).toEqual({ renewed: 280, failed: 2, deferred: 1, skipped: 7 });
    expect(out.failedNames.sort()).toEqual(['f-caught', 'f-quota']);
    expect(out.results).toHaveLength(MAX_RESULTS_LISTED);
    expect(out.results.slice(0, 3).map((r) => [r.name, r.outcome])).toEqual([['f-caught', 'failed'], ['f-quota', 'failed'], ['d', 'deferred']]);
    expect(out.results[1]).toMatchObject({ error: 'States.Runtime', reason: 'Expired', cause: expect.stringContaining('history events (2000)') });
    expect(out.results[0]!.cause!.length).toBeLessThanOrEqual(MAX_CAUSE_CHARS + 20);
    expect(JSON.stringify(out).length).toBeLessThan(64 * 1024);
  });
});
