// What every fault scenario shares: per-certificate results (also of a failed
// execution), and the invariants issue 6 promises under every fault.
import { ChangeResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { ListSecretVersionIdsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { expect } from 'vitest';
import { verifyIssued } from '../../functions/lib/x509.js';
import type { FinishedExecution } from '../../bin/run.js';
import type { FiredFault, TestCloud } from '../support/cloud.js';
import { challengeRecordsLeft, currentSecret, placesWithPrivateKeys, type TestPipeline } from '../e2e/pipeline.js';

export interface ItemResult {
  name: string;
  reason?: string;
  outcome: 'renewed' | 'failed';
  error?: string;
  cause?: string;
  published?: { serial: string; notAfter: string; targets: string[] };
}

/** Per-certificate results, also of an execution that ended in CertificatesFailed (read from Summarize's output). */
export function itemResults(run: FinishedExecution): ItemResult[] {
  if (run.status === 'SUCCEEDED') return (run.output as { results: ItemResult[] }).results;
  const exited = run.history.find((e) => e.type === 'TaskStateExited' && e.stateExitedEventDetails?.name === 'Summarize');
  if (!exited) throw new Error(`${run.executionArn} ended ${run.status} (${run.error}: ${run.cause}) before Summarize`);
  return (JSON.parse(exited.stateExitedEventDetails!.output!) as { results: ItemResult[] }).results;
}

/** Runs the pipeline `current()` returns and remembers each execution, for the key scan of every run. */
export function recordingRunner(current: () => TestPipeline, executionArns: string[]) {
  return async (input: { only?: string[]; force?: boolean } = {}) => {
    const done = await current().run(input);
    executionArns.push(done.executionArn);
    return done;
  };
}

/**
 * Each injected fault fired: a `count` rule answered exactly `count` calls, any
 * other rule at least one. Give it what `cloud.clearFaults()` returned.
 */
export function expectEachFaultFired(fired: readonly FiredFault[]): void {
  expect(fired, 'the scenario injected no fault').not.toEqual([]);
  for (const { rule, hits } of fired) {
    const what = `${rule.service}${rule.operation ? `.${rule.operation}` : ''} ${rule.error ?? `+${rule.latencyMs} ms`}`;
    if (rule.count !== undefined) expect(hits, `${what}: hits of a count ${rule.count} rule`).toBe(rule.count);
    else expect(hits, `${what}: hits`).toBeGreaterThan(0);
  }
}

/** Writes (UPSERT) or removes (DELETE) a TXT record set directly, as someone outside the pipeline would. */
export async function changeTxt(cloud: TestCloud, pipeline: TestPipeline, action: 'UPSERT' | 'DELETE', fqdn: string, values: string[]): Promise<void> {
  const zoneId = pipeline.deployment.inventory.hostedZones.find((z) => fqdn.endsWith(z.name))!.id!;
  await new Route53Client(cloud.sdkConfig()).send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: { Changes: [{ Action: action, ResourceRecordSet: { Name: fqdn, Type: 'TXT', TTL: 60, ResourceRecords: values.map((v) => ({ Value: `"${v}"` })) } }] },
    }),
  );
}

export const byName = (run: FinishedExecution, name: string) => itemResults(run).find((r) => r.name === name);

export async function secretVersions(cloud: TestCloud, secretName: string) {
  const sm = new SecretsManagerClient(cloud.sdkConfig());
  const res = await sm.send(new ListSecretVersionIdsCommand({ SecretId: secretName, IncludeDeprecated: true }));
  return res.Versions ?? [];
}

/**
 * The promises of issue 6: every current certificate valid for its key, names and
 * Pebble's root; exactly one current version; no challenge record left; no private
 * key in the history of `executionArns`, the logs, events or metrics.
 */
export async function expectInvariants(cloud: TestCloud, pipeline: TestPipeline, executionArns: string[]): Promise<void> {
  const root = await cloud.pebbleRootPem();
  for (const spec of pipeline.deployment.inventory.certificates) {
    const stored = await currentSecret(cloud, spec.secretName);
    verifyIssued({
      certificatePem: stored.certificate,
      chainPem: stored.chain,
      privateKeyPem: stored.privateKey,
      dnsNames: spec.dnsNames,
      now: new Date(),
      trustedRoots: [root],
      certificateName: spec.name,
    });
    const current = (await secretVersions(cloud, spec.secretName)).filter((v) => v.VersionStages?.includes('AWSCURRENT'));
    expect(current).toHaveLength(1);
  }
  expect(await challengeRecordsLeft(cloud)).toEqual([]);
  expect(await placesWithPrivateKeys(cloud, pipeline.sfn, executionArns)).toEqual([]);
}
