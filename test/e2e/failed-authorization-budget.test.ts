// The rate-limit ledger end to end: an issuer that allows 1 failed authorization per
// identifier per hour. A renewal whose order goes invalid at Pebble (a wrong TXT value
// swapped in before the CA validates, as in the fault matrix) records the failure on
// the certificate's secret; the next run defers that certificate with RateLimitBudget
// instead of ordering again, and `certpipe status` names the limit.
// "Due" is made through the local cloud's real TagResource, not the clock: the
// certificate's not-before/not-after tags are moved so that 12 hours are left of a
// 90-day lifetime (an emergency renewal, due whatever the ARI window says).
import { DescribeSecretCommand, SecretsManagerClient, TagResourceCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as cli } from '../../bin/cli.js';
import { executionHistory, startExecution, waitForExecution, type FinishedExecution } from '../../bin/run.js';
import { decodeFailures, decodeOrders } from '../../functions/lib/budget/ledger.js';
import { TAG } from '../../functions/lib/tagNames.js';
import type { CheckExpiryOutput } from '../../functions/lib/workflow/states.js';
import { startTestCloud, type TestCloud } from '../support/cloud.js';
import { byName, changeTxt, expectEachFaultFired } from '../faults/support.js';
import { deployTestPipeline, exampleConfig, placesWithPrivateKeys, type TestPipeline } from './pipeline.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const BAD = 'bad.example.test';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('rate-limit ledger: failedAuthorizationsPerIdentifierPerHour 1', () => {
  let cloud: TestCloud;
  let pipeline: TestPipeline;
  let sm: SecretsManagerClient;
  const arns: string[] = [];

  const tagsOf = async (name: string) => {
    const d = await sm.send(new DescribeSecretCommand({ SecretId: `certpipe/${name}` }));
    return new Map((d.Tags ?? []).map((t) => [t.Key!, t.Value!]));
  };
  const checkOf = (done: FinishedExecution): CheckExpiryOutput => {
    const exited = done.history.find((e) => e.type === 'TaskStateExited' && e.stateExitedEventDetails?.name === 'CheckExpiry');
    return (JSON.parse(exited!.stateExitedEventDetails!.output!) as { check: CheckExpiryOutput }).check;
  };
  const createOrders = (done: FinishedExecution) =>
    done.history.filter((e) => e.type === 'TaskStateExited' && e.stateExitedEventDetails?.name === 'PlaceChallenges').length;
  /** 12 hours left of a 90-day certificate: EmergencyRenewal, through TagResource. */
  const makeDue = async (name: string) => {
    const now = Date.now();
    await sm.send(
      new TagResourceCommand({
        SecretId: `certpipe/${name}`,
        Tags: [
          { Key: TAG.notBefore, Value: new Date(now - 90 * DAY + 12 * HOUR).toISOString() },
          { Key: TAG.notAfter, Value: new Date(now + 12 * HOUR).toISOString() },
        ],
      }),
    );
  };
  beforeAll(async () => {
    cloud = await startTestCloud({ pebble: true, settings: { insyncDelayMs: 200 } });
    const config = exampleConfig(cloud, (doc) => {
      doc.issuers[0].limits = { failedAuthorizationsPerIdentifierPerHour: 1 };
      doc.pipeline.propagation.maxAttempts = 10;
      doc.certificates = ['good', 'bad'].map((name) => ({ name, dnsNames: [`${name}.example.test`], keyAlgorithm: 'ecdsa-p256', privateKeyRotation: 'always', targets: [] }));
    });
    pipeline = await deployTestPipeline(cloud, config);
    sm = new SecretsManagerClient(cloud.sdkConfig());
    const first = await pipeline.run();
    arns.push(first.executionArn);
    expect(first.status, `${first.error}: ${first.cause}`).toBe('SUCCEEDED');
  }, 300_000);

  afterAll(async () => {
    await cloud?.close();
  });

  it('each order placed is in the ledger on its own secret', async () => {
    for (const name of ['good', 'bad']) {
      const orders = decodeOrders((await tagsOf(name)).get(TAG.orders));
      expect(orders, name).toHaveLength(1);
      expect(Date.now() - orders[0]!.getTime(), name).toBeLessThan(HOUR);
    }
  });

  it('an order that goes invalid records the failed identifier; the next run defers it (RateLimitBudget) instead of ordering again', async () => {
    await makeDue('bad');
    // Slow every secret read, so FinalizeOrder answers the challenge only after the value below is swapped in.
    await cloud.setFault({ service: 'secretsmanager', operation: 'GetSecretValue', latencyMs: 2500 });
    const arn = await startExecution(pipeline.sfn, pipeline.deployment.stateMachineArn, {});
    arns.push(arn);
    let ready = false;
    for (let i = 0; i < 600 && !ready; i++) {
      ready = (await executionHistory(pipeline.sfn, arn)).some((e) => {
        const out = e.stateExitedEventDetails?.name === 'CheckPropagation' ? JSON.parse(e.stateExitedEventDetails.output ?? '{}') : undefined;
        return out?.name === 'bad' && out?.propagation?.ready === true;
      });
      if (!ready) await sleep(100);
    }
    expect(ready).toBe(true);
    await changeTxt(cloud, pipeline, 'UPSERT', `_acme-challenge.${BAD}`, ['wrong-value']);
    const failedRun = await waitForExecution(pipeline.sfn, arn, { pollMs: 250, timeoutMs: 240_000 });
    expectEachFaultFired(await cloud.clearFaults());
    await changeTxt(cloud, pipeline, 'DELETE', `_acme-challenge.${BAD}`, ['wrong-value']);
    expect(byName(failedRun, 'bad')).toMatchObject({ outcome: 'failed', error: 'AcmeOrderInvalid' });

    // The ledger on the secret: the failure of bad.example.test, and the dead order forgotten.
    const tags = await tagsOf('bad');
    const failures = decodeFailures(tags.get(TAG.failedAuthz), [BAD]);
    expect(failures.map((f) => f.identifier)).toEqual([BAD]);
    expect(Date.now() - failures[0]!.at.getTime()).toBeLessThan(HOUR);
    expect(tags.has(TAG.pendingOrder)).toBe(false);
    expect(decodeOrders(tags.get(TAG.orders))).toHaveLength(2);

    // Still due (12 hours left), but its identifier's failure budget is spent: deferred, not ordered.
    const next = await pipeline.run();
    arns.push(next.executionArn);
    expect(next.status, `${next.error}: ${next.cause}`).toBe('SUCCEEDED');
    const check = checkOf(next);
    expect(check, JSON.stringify(check.due)).toMatchObject({ dueCount: 0, deferredByBudget: 1 });
    expect(Date.parse(check.nextBudgetSlot!)).toBe(failures[0]!.at.getTime() + HOUR);
    expect(createOrders(next)).toBe(0);
    expect(decodeOrders((await tagsOf('bad')).get(TAG.orders))).toHaveLength(2);
    expect((await tagsOf('bad')).get(TAG.deferredReason)).toBe('RateLimitBudget');

    // certpipe status names the limit.
    let out = '';
    const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: () => true }, isTTY: false, env: { ...process.env, CERTPIPE_DATA_DIR: cloud.dataDir, AWS_ENDPOINT_URL: '' } };
    expect(await cli(['status', '--local', '--json'], io)).toBe(0);
    const rows = Object.fromEntries(
      (JSON.parse(out) as { certificates: Array<{ name: string; renewal: { reason: string; message: string }; deferred?: { limit: string; nextSlot: string } }> }).certificates.map((c) => [c.name, c]),
    );
    expect(rows.bad!.deferred).toMatchObject({ reason: 'RateLimitBudget', limit: 'failedAuthorizationsPerIdentifierPerHour', nextSlot: check.nextBudgetSlot });
    expect(rows.bad!.renewal.message).toMatch(/failedAuthorizationsPerIdentifierPerHour/);
    expect(rows.good!.deferred).toBeUndefined();
    expect(await placesWithPrivateKeys(cloud, pipeline.sfn, arns)).toEqual([]);
  }, 600_000);
});
