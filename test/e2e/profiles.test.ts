// Profiles end to end: the pipeline checks a certificate's profile against the CA
// directory's meta.profiles where the order is created. The local ACME front
// advertises classic, tlsserver and shortlived (an unknown profile is refused with
// that list, a known one is ordered and issued); a second issuer talks to Pebble 2.4
// directly, whose directory has no meta.profiles (every configured profile is
// refused, saying the CA offers none).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executionHistory } from '../../bin/run.js';
import { httpsGetText } from '../../local/pebble/https.js';
import { startTestCloud, type TestCloud } from '../support/cloud.js';
import { challengeRecordsLeft, currentSecret, deployTestPipeline, exampleConfig, type TestPipeline } from './pipeline.js';

type Result = { name: string; outcome: string; error?: string; cause?: string };

describe('ACME profiles', () => {
  let cloud: TestCloud;
  let pipeline: TestPipeline;
  let offered: Record<string, string> | undefined;
  let results: Result[];

  beforeAll(async () => {
    cloud = await startTestCloud({ pebble: true, settings: { insyncDelayMs: 200 } });
    const directory = JSON.parse((await httpsGetText(cloud.directoryUrl!, cloud.pebbleCaPem!)).body) as { meta?: { profiles?: Record<string, string> } };
    offered = directory.meta?.profiles;
    pipeline = await deployTestPipeline(
      cloud,
      exampleConfig(cloud, (doc) => {
        const web = doc.certificates.find((c: { name: string }) => c.name === 'web');
        doc.issuers.push({ ...doc.issuers[0], name: 'pebble-direct', directoryUrl: cloud.handle.pebble!.directoryUrl, accountSecretName: 'certpipe/acme-account/pebble-direct' });
        doc.certificates = [
          { ...web, name: 'odd', dnsNames: ['odd.example.test'], profile: 'sixday', issuer: doc.issuers[0].name },
          { ...web, name: 'short', dnsNames: ['short.example.test'], profile: 'shortlived', issuer: doc.issuers[0].name },
          { ...web, name: 'bare-odd', dnsNames: ['bare-odd.example.test'], profile: 'sixday', issuer: 'pebble-direct' },
          { ...web, name: 'bare-short', dnsNames: ['bare-short.example.test'], profile: 'shortlived', issuer: 'pebble-direct' },
        ];
        // shortlived (160 h) needs six runs in its last third: the schedule check asks for 8 hours or less.
        doc.pipeline.schedule = 'rate(8 hours)';
      }),
    );
    const run = await pipeline.run();
    const events = await executionHistory(pipeline.sfn, run.executionArn);
    const summary = events.find((e) => e.type === 'TaskStateExited' && e.stateExitedEventDetails?.name === 'Summarize');
    results = (JSON.parse(summary?.stateExitedEventDetails?.output ?? '{}') as { results?: Result[] }).results ?? [];
  }, 300_000);

  afterAll(async () => {
    await cloud?.close();
  });

  const failure = (name: string) => {
    const r = results.find((x) => x.name === name);
    expect(r).toMatchObject({ outcome: 'failed', error: 'ProfileNotOffered' });
    return (JSON.parse(r!.cause!) as { errorMessage: string }).errorMessage;
  };

  it('a CA without meta.profiles refuses every configured profile, saying it offers none', async () => {
    expect(failure('bare-odd')).toContain('bare-odd: profile "sixday" is configured, but the CA at');
    expect(failure('bare-short')).toContain('offers no profiles (its directory has no meta.profiles)');
    await expect(currentSecret(cloud, 'certpipe/bare-short')).rejects.toThrow();
    expect(await challengeRecordsLeft(cloud)).toEqual([]);
  });

  it('an unknown profile is rejected with the list; a profile the CA offers is ordered and issued', async () => {
    expect(offered, 'the local ACME front advertises meta.profiles').toBeDefined();
    const list = Object.keys(offered!).sort().map((n) => `"${n}"`).join(', ');
    expect(failure('odd')).toContain(`odd: profile "sixday" is not offered by the CA at ${cloud.directoryUrl}; it offers ${list}`);
    expect(results.find((r) => r.name === 'short')?.outcome).toBe('renewed');
    expect((await currentSecret(cloud, 'certpipe/short')).dnsNames).toEqual(['short.example.test']);
    expect(await challengeRecordsLeft(cloud)).toEqual([]);
  });
});
