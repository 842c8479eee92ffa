// The rate-limit budget end to end: five certificates on an issuer that allows 2 new
// orders per 3 hours. A first deploy issues the 2 most urgent, defers the rest with
// reason RateLimitBudget (SUCCEEDED, nothing pages), and later runs issue the rest.
// "Later" is made by moving the ledger, not the clock: the issued-at and order tags of
// what was issued are re-tagged to 3 hours ago through the local cloud's real
// TagResource, as if that much time had passed (the budget counts only those tags).
import { DescribeSecretCommand, SecretsManagerClient, TagResourceCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as cli } from '../../bin/cli.js';
import type { FinishedExecution } from '../../bin/run.js';
import { decodeOrders, encodeOrders } from '../../functions/lib/budget/ledger.js';
import { TAG } from '../../functions/lib/tagNames.js';
import type { SummarizeOutput, CheckExpiryOutput } from '../../functions/lib/workflow/states.js';
import { startTestCloud, type TestCloud } from '../support/cloud.js';
import { deployedAlarms, evaluateAlarms, type TemplateAlarms } from '../support/template-alarms.js';
import { deployTestPipeline, exampleConfig, placesWithPrivateKeys, type TestPipeline } from './pipeline.js';

const NAMES = ['b1', 'b2', 'b3', 'b4', 'b5'];
const THREE_HOURS = 3 * 3_600_000;

describe('rate-limit budget: newOrdersPer3Hours 2 over 5 certificates', () => {
  let cloud: TestCloud;
  let pipeline: TestPipeline;
  let alarms: TemplateAlarms;
  let sm: SecretsManagerClient;
  const arns: string[] = [];

  async function run(input: { force?: boolean } = {}): Promise<FinishedExecution> {
    const done = await pipeline.run(input);
    arns.push(done.executionArn);
    expect(done.status, `${done.error}: ${done.cause}`).toBe('SUCCEEDED');
    return done;
  }
  /** The CheckExpiry result of an execution (the input of its Map, or its output when nothing was due). */
  const checkOf = (done: FinishedExecution): CheckExpiryOutput => {
    const exited = done.history.find((e) => e.type === 'TaskStateExited' && e.stateExitedEventDetails?.name === 'CheckExpiry');
    return (JSON.parse(exited!.stateExitedEventDetails!.output!) as { check: CheckExpiryOutput }).check;
  };
  const tagsOf = async (name: string): Promise<Map<string, string> | undefined> => {
    try {
      const d = await sm.send(new DescribeSecretCommand({ SecretId: `certpipe/${name}` }));
      return new Map((d.Tags ?? []).map((t) => [t.Key!, t.Value!]));
    } catch (err) {
      if ((err as Error).name === 'ResourceNotFoundException') return undefined;
      throw err;
    }
  };
  const issued = async () => {
    const out: string[] = [];
    for (const n of NAMES) if ((await tagsOf(n))?.has(TAG.serial)) out.push(n);
    return out;
  };
  /** As if 3 hours had passed for what is issued: its issued-at and its orders move back, through TagResource. */
  const ageLedger = async () => {
    const back = (at: Date) => new Date(at.getTime() - THREE_HOURS - 60_000);
    for (const n of await issued()) {
      const tags = (await tagsOf(n))!;
      const orders = decodeOrders(tags.get(TAG.orders)).map(back);
      await sm.send(
        new TagResourceCommand({
          SecretId: `certpipe/${n}`,
          Tags: [
            { Key: TAG.issuedAt, Value: back(new Date(tags.get(TAG.issuedAt)!)).toISOString() },
            { Key: TAG.orders, Value: encodeOrders(orders) },
          ],
        }),
      );
    }
  };
  /** The earliest order on record among `names` (the ledger, in whole seconds). */
  const firstOrder = async (names: string[]) => Math.min(...(await Promise.all(names.map(async (n) => decodeOrders((await tagsOf(n))!.get(TAG.orders))[0]!.getTime()))));
  const status = async () => {
    let out = '';
    const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: () => true }, isTTY: false, env: { ...process.env, CERTPIPE_DATA_DIR: cloud.dataDir, AWS_ENDPOINT_URL: '' } };
    expect(await cli(['status', '--local', '--json'], io)).toBe(0);
    return JSON.parse(out) as { certificates: Array<{ name: string; renewal: { due: boolean; reason: string }; deferred?: { reason: string; nextSlot: string } }> };
  };

  beforeAll(async () => {
    // Route 53 at AWS's 5 requests per second: the functions' retries carry the run through throttling.
    cloud = await startTestCloud({ pebble: true, settings: { insyncDelayMs: 100, route53RequestsPerSecond: 5 } });
    const config = exampleConfig(cloud, (doc) => {
      doc.issuers[0].limits = { newOrdersPer3Hours: 2 };
      doc.certificates = NAMES.map((name) => ({ name, dnsNames: [`${name}.example.test`], keyAlgorithm: 'ecdsa-p256', privateKeyRotation: 'always', targets: [] }));
    });
    pipeline = await deployTestPipeline(cloud, config);
    alarms = deployedAlarms(pipeline.deployment);
    sm = new SecretsManagerClient(cloud.sdkConfig());
  }, 300_000);

  afterAll(async () => {
    await cloud?.close();
  });

  it('a first deploy of 5 issues exactly 2 and defers 3 (RateLimitBudget): SUCCEEDED, deferred not failed, nothing pages for it', async () => {
    const first = await run();
    const check = checkOf(first);
    expect(check).toMatchObject({ total: 5, dueCount: 2, deferredByBudget: 3 });
    // First issuances tie on urgency; the name breaks the tie, so b1 and b2 go.
    expect(check.due.map((d) => d.name)).toEqual(['b1', 'b2']);
    // No list of the deferred ones travels through the state (names only, not the run bucket's random key).
    expect(JSON.stringify({ ...check, items: undefined })).not.toMatch(/"b[345]"/);
    const summary = first.output as SummarizeOutput;
    expect(summary).toMatchObject({ renewed: 2, failed: 0, deferred: 3, deferredByBudget: 3 });
    expect(summary.nextBudgetSlot).toBe(check.nextBudgetSlot);
    expect(await issued()).toEqual(['b1', 'b2']);
    // Never attempted: no order, so no claim and no secret for them yet.
    for (const n of ['b3', 'b4', 'b5']) expect(await tagsOf(n)).toBeUndefined();

    const after = await evaluateAlarms(cloud);
    for (const id of ['ExecutionsFailed', 'LambdaErrors', 'AcmeErrorRate']) expect(after[alarms.names[id]!]!.state, id).toBe('OK');
  }, 600_000);

  it('the next run within the window orders nothing; status shows the 3 deferred with reason RateLimitBudget and the next slot', async () => {
    const orderedAt = await firstOrder(['b1', 'b2']);
    const second = await run();
    const check = checkOf(second);
    expect(check).toMatchObject({ dueCount: 0, deferredByBudget: 3 });
    // The slot opens 3 hours after the first order (the ledger's time), not after its issuance.
    expect(Date.parse(check.nextBudgetSlot!)).toBe(orderedAt + THREE_HOURS);
    expect(await issued()).toEqual(['b1', 'b2']);

    const doc = await status();
    const rows = Object.fromEntries(doc.certificates.map((c) => [c.name, c]));
    for (const n of ['b3', 'b4', 'b5']) {
      expect(rows[n]!.renewal).toMatchObject({ due: false, reason: 'RateLimitBudget' });
      expect(rows[n]!.deferred?.reason).toBe('RateLimitBudget');
    }
    expect(rows.b3!.deferred!.nextSlot).toBe(check.nextBudgetSlot);
    expect(rows.b1!.deferred).toBeUndefined();
    // Every alarm OK: the second run reported the soonest expiry, and a deferral pages nothing.
    const after = await evaluateAlarms(cloud);
    for (const [id, name] of Object.entries(alarms.names)) expect(after[name]!.state, id).toBe('OK');
  }, 600_000);

  it('once the window has passed the following runs issue the rest, 2 at a time, and converge', async () => {
    await ageLedger();
    const third = await run();
    expect(checkOf(third)).toMatchObject({ dueCount: 2, deferredByBudget: 1 });
    expect(await issued()).toEqual(['b1', 'b2', 'b3', 'b4']);

    await ageLedger();
    const fourth = await run();
    expect(checkOf(fourth)).toMatchObject({ dueCount: 1, deferredByBudget: 0 });
    expect(await issued()).toEqual(NAMES);

    const fifth = await run();
    expect(checkOf(fifth)).toMatchObject({ dueCount: 0, deferredByBudget: 0 });
  }, 600_000);

  it('a deferral of a stored certificate is recorded on its secret: certpipe:deferred-reason RateLimitBudget and the next slot', async () => {
    // Forcing all five asks for five orders; b5 (issued just now) holds one of the two slots, so one goes and four wait.
    const forced = await run({ force: true });
    const check = checkOf(forced);
    expect(check).toMatchObject({ dueCount: 1, deferredByBudget: 4 });
    const waiting = NAMES.filter((n) => n !== check.due[0]!.name);
    for (const n of waiting) {
      const tags = (await tagsOf(n))!;
      expect(tags.get(TAG.deferredReason), n).toBe('RateLimitBudget');
      expect(Date.parse(tags.get(TAG.deferredUntil)!), n).toBeGreaterThan(Date.now());
    }
    expect(await placesWithPrivateKeys(cloud, pipeline.sfn, arns)).toEqual([]);
  }, 600_000);
});
