// CheckExpiry with a rate-limit budget, over in-memory ports at a fixed clock: what is
// deferred, what is recorded on the secrets, what leaves the step, and that a deferred
// certificate still counts for the MinDaysToExpiry alarm.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runBudget } from '../../../functions/lib/budget/runBudget.js';
import type { CertificateSpec, Inventory } from '../../../functions/lib/inventory.js';
import { publishMetrics } from '../../../functions/lib/observability.js';
import { renewalDecision } from '../../../functions/lib/renewal.js';
import { checkExpiry } from '../../../functions/lib/steps/checkExpiry.js';
import { summarize } from '../../../functions/lib/steps/summarize.js';
import type { StoredCertificateFacts } from '../../../functions/lib/store/model.js';
import { memoryWorld, NOW } from '../steps/memoryPorts.js';

const DAY = 86_400_000;
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs);

function specOf(base: CertificateSpec, name: string): CertificateSpec {
  return { ...base, name, dnsNames: [`${name}.example.test`], secretName: `certpipe/${name}`, targets: [] };
}
/** A 90-day certificate issued `issuedDaysAgo` days ago. */
function facts(spec: CertificateSpec, issuedDaysAgo: number, over: Partial<StoredCertificateFacts> = {}): StoredCertificateFacts {
  const notBefore = at(-issuedDaysAgo * DAY);
  return { secretName: spec.secretName, secretArn: `arn:${spec.secretName}`, notBefore, notAfter: new Date(notBefore.getTime() + 90 * DAY), serial: spec.name, dnsNames: spec.dnsNames, issuer: spec.issuer, issuedAt: notBefore, acmCertificateArns: {}, ...over };
}

/** Five certificates on an issuer allowing 2 new orders per 3 hours: three stored and due (issued 70, 80, 85 days ago), two never issued. */
function fleet() {
  const world = memoryWorld();
  const base = world.ctx.inventory.certificates[0]!;
  const specs = ['c70', 'c80', 'c85', 'new1', 'new2'].map((n) => specOf(base, n));
  const inventory: Inventory = { ...world.ctx.inventory, issuers: world.ctx.inventory.issuers.map((i) => ({ ...i, limits: { newOrdersPer3Hours: 2 } })), certificates: specs };
  const stored = new Map([specs[0]!, specs[1]!, specs[2]!].map((s, i) => [s.name, facts(s, [70, 80, 85][i]!)]));
  const recorded: Array<[string, string, string | undefined]> = [];
  (world.ctx as { inventory: Inventory }).inventory = inventory;
  world.ctx.store.scanInventory = async () => stored;
  world.ctx.store.recordDeferral = async (spec, until, reason) => {
    recorded.push([spec.name, until.toISOString(), reason]);
    return true;
  };
  return { world, specs, stored, recorded };
}

/** EMF lines written while `fn` runs. */
async function emfDuring(fn: () => Promise<unknown>): Promise<Array<Record<string, unknown>>> {
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
    return true;
  });
  try {
    await fn();
    publishMetrics();
  } finally {
    spy.mockRestore();
  }
  return chunks.join('').split('\n').filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

afterEach(() => vi.restoreAllMocks());

describe('CheckExpiry under a rate-limit budget', () => {
  it('keeps the 2 most urgent, tags the stored ones it defers with RateLimitBudget and the next slot, and passes on counts only', async () => {
    const { world, recorded } = fleet();
    let out!: Awaited<ReturnType<typeof checkExpiry>>;
    const emf = await emfDuring(async () => {
      out = await checkExpiry(world.ctx, {});
    });
    // Soonest expiry first: c85 (5 days left), c80 (10 days); c70 and the first issuances wait.
    expect(out.due.map((d) => d.name)).toEqual(['c85', 'c80']);
    expect(out.dueCount).toBe(2);
    expect(out.deferredByBudget).toBe(3);
    const threeHours = at(3 * 3_600_000).toISOString();
    expect(out.nextBudgetSlot).toBe(threeHours);
    // No per-certificate list of deferrals in the state: the secret's tag is the record (new1/new2 have no secret yet).
    expect(JSON.stringify(out)).not.toContain('new1');
    expect(recorded).toEqual([['c70', threeHours, 'RateLimitBudget']]);
    expect(emf.find((m) => 'RenewalsDeferredByBudget' in m)).toMatchObject({ RenewalsDeferredByBudget: 3 });
    // The soonest expiry is still reported, deferred or not: a certificate kept waiting into the threshold pages.
    expect(emf.find((m) => 'MinDaysToExpiry' in m)).toMatchObject({ MinDaysToExpiry: 5 });
  });

  it('a deferred certificate is the one MinDaysToExpiry reports when it is the soonest to expire', async () => {
    const { world, specs, stored } = fleet();
    // Two issuances in the last hour spend the whole budget: every due certificate is deferred.
    stored.set('new1', facts(specs[3]!, 0, { issuedAt: at(-3_600_000), notBefore: at(-3_600_000), notAfter: at(90 * DAY) }));
    stored.set('new2', facts(specs[4]!, 0, { issuedAt: at(-1_800_000), notBefore: at(-1_800_000), notAfter: at(90 * DAY) }));
    let out!: Awaited<ReturnType<typeof checkExpiry>>;
    const emf = await emfDuring(async () => {
      out = await checkExpiry(world.ctx, {});
    });
    expect(out.dueCount).toBe(0);
    expect(out.deferredByBudget).toBe(3);
    expect(emf.find((m) => 'MinDaysToExpiry' in m)).toMatchObject({ MinDaysToExpiry: 5 });
  });

  it('Summarize counts budget deferrals as deferred, not failed', async () => {
    const w = memoryWorld();
    const child = (name: string, output: Record<string, unknown>) => ({ ExecutionArn: `arn:aws:states:us-east-1:000000000000:execution:renewal/run:${name}`, Status: 'SUCCEEDED', Input: JSON.stringify({ name }), Output: JSON.stringify(output) });
    w.objects.set('run-bucket/results/run/SUCCEEDED_0.json', JSON.stringify([child('a', { name: 'a', outcome: 'renewed' }), child('b', { name: 'b', outcome: 'deferred', retryAfter: 'Y' })]));
    w.objects.set('run-bucket/results/run/manifest.json', JSON.stringify({ ResultFiles: { SUCCEEDED: [{ Key: 'results/run/SUCCEEDED_0.json' }] } }));
    const out = await summarize(w.ctx, {
      check: { checkedAt: NOW.toISOString(), total: 5, dueCount: 2, due: [], skipped: [], skippedCount: 0, deferredByBudget: 3, nextBudgetSlot: 'X' },
      results: { MapRunArn: 'arn:aws:states:us-east-1:000000000000:mapRun:renewal/RenewEach:run', ResultWriterDetails: { Bucket: 'run-bucket', Key: 'results/run/manifest.json' } },
    });
    expect(out).toMatchObject({ renewed: 1, failed: 0, deferred: 4, deferredByBudget: 3, nextBudgetSlot: 'X' });
  });
});

describe('runBudget (the run\'s candidates from the decisions)', () => {
  const world = memoryWorld();
  const base = world.ctx.inventory.certificates[0]!;
  const specs = ['a', 'b', 'c'].map((n) => specOf(base, n));
  const stored = new Map(specs.map((s, i) => [s.name, facts(s, 80 + i)]));
  const issuers = [{ name: base.issuer, limits: { newOrdersPer3Hours: 1 } }];

  it.each([
    ['a forced renewal goes before the soonest expiry', [{ name: 'a', reason: 'Forced' }, { name: 'c', reason: 'InRenewalWindow' }], ['a']],
    ['resuming an order in flight places no new order', [{ name: 'a', reason: 'PendingOrder' }, { name: 'c', reason: 'InRenewalWindow' }], ['a', 'c']],
    ['publishing the stored certificate places no new order', [{ name: 'b', reason: 'PublishIncomplete' }, { name: 'a', reason: 'InRenewalWindow' }], ['b', 'a']],
    ['a candidate the CA exempts (ARI replaces) spends nothing', [{ name: 'a', reason: 'InRenewalWindow', exempt: true }, { name: 'b', reason: 'InRenewalWindow' }], ['a', 'b']],
  ])('%s', (_name, due, admitted) => {
    const plan = runBudget({ due, specs, stored: new Map([...stored].map(([k, v]) => [k, { ...v, issuedAt: at(-10 * DAY) }])), issuers, now: NOW });
    expect([...plan.admitted].sort()).toEqual([...admitted].sort());
  });

  it('the issued-at tags inside the window are the spend', () => {
    const recent = new Map([...stored].map(([k, v]) => [k, k === 'b' ? { ...v, issuedAt: at(-3_600_000) } : v]));
    const plan = runBudget({ due: [{ name: 'c', reason: 'InRenewalWindow' }], specs, stored: recent, issuers, now: NOW });
    expect(plan.deferred.map((d) => [d.name, d.nextSlot.toISOString()])).toEqual([['c', at(2 * 3_600_000).toISOString()]]);
  });
});

describe('renewalDecision and deferrals', () => {
  const world = memoryWorld();
  const spec = specOf(world.ctx.inventory.certificates[0]!, 'a');
  it('a CA deferral (Retry-After) holds the certificate until its time', () => {
    const d = renewalDecision({ spec, stored: facts(spec, 80, { deferredUntil: at(DAY) }), now: NOW });
    expect(d).toMatchObject({ due: false, reason: 'DeferredByCa' });
  });
  it('a budget deferral does not: every run recounts the budget', () => {
    const d = renewalDecision({ spec, stored: facts(spec, 80, { deferredUntil: at(DAY), deferredReason: 'RateLimitBudget' }), now: NOW });
    expect(d).toMatchObject({ due: true, reason: 'InRenewalWindow' });
  });
});
