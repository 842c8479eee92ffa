// A run with more due certificates than one inline execution could hold
// completes under the enforced quotas: RenewEach is a Distributed Map, so each
// certificate's states land in its own child execution's history and the
// parent's stays small whatever the count. 60 certificates under a
// 2,000-event history limit: the inline design would have put them all in one
// history of more than 2,000 events, which the test shows by counting them.
import { GetExecutionHistoryCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../infra/config.js';
import { ExecutionHistories } from '../../bin/run.js';
import { startTestCloud, type TestCloud } from '../support/cloud.js';
import { challengeRecordsLeft, deployTestPipeline, type TestPipeline } from './pipeline.js';

const N = 60;
const HISTORY_LIMIT = 2000;

describe(`a fleet of ${N} due certificates under a ${HISTORY_LIMIT}-event history limit`, () => {
  let cloud: TestCloud;
  let pipeline: TestPipeline;

  beforeAll(async () => {
    cloud = await startTestCloud({ pebble: true, settings: { insyncDelayMs: 100 } });
    const config = validateConfig(
      {
        issuers: [{ name: 'pebble', directoryUrl: cloud.directoryUrl!, email: 'fleet@example.test' }],
        hostedZones: [{ name: 'fleet.test' }],
        certificates: Array.from({ length: N }, (_, i) => ({ name: `f${i}`, dnsNames: [`f${i}.fleet.test`] })),
        pipeline: { maxConcurrency: 10, propagation: { waitSeconds: 1 } },
      },
      'fleet config',
    );
    pipeline = await deployTestPipeline(cloud, config);
  }, 300_000);

  afterAll(async () => {
    delete process.env.CERTPIPE_SFN_MAX_HISTORY_EVENTS;
    await cloud?.close();
  });

  it('renews every one, each child execution and the parent within the limit that one inline history exceeds', async () => {
    // Read per execution by the local Step Functions, as AWS's 25,000 applies to each execution.
    process.env.CERTPIPE_SFN_MAX_HISTORY_EVENTS = String(HISTORY_LIMIT);
    const done = await pipeline.run();
    expect(done.status, `${done.error}: ${done.cause}`).toBe('SUCCEEDED');
    const output = done.output as { renewed: number; failed: number; results: { outcome: string }[] };
    expect(output).toMatchObject({ renewed: N, failed: 0 });
    expect(output.results.every((r) => r.outcome === 'renewed')).toBe(true);

    const histories = await new ExecutionHistories(pipeline.sfn, done.executionArn).read();
    const [parent, ...children] = histories;
    expect(children).toHaveLength(N);
    const sizes = children.map((c) => c.events.length);
    const total = histories.reduce((sum, h) => sum + h.events.length, 0);
    // The parent's history does not grow with the fleet; no child's comes near the limit.
    expect(parent!.events.length).toBeLessThan(40);
    expect(Math.max(...sizes)).toBeLessThan(HISTORY_LIMIT / 10);
    // One inline execution would have held every child's events (and a few Map events per item): over the limit.
    expect(total).toBeGreaterThan(HISTORY_LIMIT);
    console.log(`fleet: parent ${parent!.events.length} events, children ${Math.min(...sizes)}–${Math.max(...sizes)} (mean ${(sizes.reduce((a, b) => a + b, 0) / N).toFixed(1)}), all ${total} > ${HISTORY_LIMIT}`);

    // The limit really is enforced on each of them: the parent's history as GetExecutionHistory pages it.
    const page = await pipeline.sfn.send(new GetExecutionHistoryCommand({ executionArn: done.executionArn, maxResults: 1000 }));
    expect((page.events as HistoryEvent[]).map((e) => e.type)).toContain('MapRunSucceeded');
    expect(await challengeRecordsLeft(cloud)).toEqual([]);
  }, 600_000);
});
