// Shared set-up for the end-to-end tests: the example config pointed at a test
// cloud's Pebble, deployed with the same deployLocal that `npm start` uses.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ListHostedZonesCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { SFNClient } from '@aws-sdk/client-sfn';
import { parseConfig, type CertpipeConfig } from '../../infra/config.js';
import { deployLocal, type LocalDeployment } from '../../local/deploy.js';
import { executionHistory, runExecution, type ExecutionInput, type FinishedExecution } from '../../local/run.js';
import type { TestCloud } from '../support/cloud.js';

export const EXAMPLE_CONFIG = new URL('../../certpipe.config.yaml', import.meta.url);

/** The example config with the test cloud's ACME directory and short waits. */
export function exampleConfig(cloud: TestCloud, edit: (doc: any) => void = () => {}): CertpipeConfig {
  const text = readFileSync(EXAMPLE_CONFIG, 'utf8').replace('https://127.0.0.1:14000/dir', cloud.directoryUrl!);
  const config = parseConfig(text, 'certpipe.config.yaml');
  const doc = structuredClone(config) as any;
  doc.pipeline.propagation.waitSeconds = 1;
  edit(doc);
  return doc as CertpipeConfig;
}

export interface TestPipeline {
  deployment: LocalDeployment;
  sfn: SFNClient;
  run(input?: ExecutionInput): Promise<FinishedExecution>;
}

export async function deployTestPipeline(
  cloud: TestCloud,
  config: CertpipeConfig,
  options: { executionTimeoutSeconds?: number } = {},
): Promise<TestPipeline> {
  const deployment = await deployLocal(config, {
    endpointUrl: cloud.url,
    dnsPort: cloud.dnsPort,
    acmeCaBundlePath: cloud.handle.info.pebbleCaPath,
    dataDir: cloud.dataDir,
    ...options,
  });
  const sfn = new SFNClient(cloud.sdkConfig());
  return {
    deployment,
    sfn,
    run: (input = {}) => runExecution(sfn, deployment.stateMachineArn, input, { pollMs: 250, timeoutMs: 10 * 60_000 }),
  };
}

export async function currentSecret(cloud: TestCloud, secretName: string, accountId?: string, stage = 'AWSCURRENT') {
  const sm = new SecretsManagerClient(cloud.sdkConfig(accountId));
  const res = await sm.send(new GetSecretValueCommand({ SecretId: secretName, VersionStage: stage }));
  return JSON.parse(res.SecretString!) as Record<string, any>;
}

/** Every `_acme-challenge` TXT record in every zone of the default account. */
export async function challengeRecordsLeft(cloud: TestCloud): Promise<string[]> {
  const route53 = new Route53Client(cloud.sdkConfig());
  const zones = (await route53.send(new ListHostedZonesCommand({}))).HostedZones ?? [];
  const left: string[] = [];
  for (const zone of zones) {
    const sets = await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zone.Id, MaxItems: 300 }));
    for (const set of sets.ResourceRecordSets ?? []) {
      if (set.Type === 'TXT' && set.Name?.startsWith('_acme-challenge.')) left.push(`${set.Name} ${JSON.stringify(set.ResourceRecords)}`);
    }
  }
  return left;
}

/** The functions' console output (aws/logs) and the cloud's own logs (Pebble, daemon). */
export function logFiles(cloud: TestCloud): string[] {
  return [join(cloud.dataDir, 'logs'), join(cloud.dataDir, 'aws', 'logs')].flatMap((dir) => {
    try {
      return readdirSync(dir).map((f) => join(dir, f));
    } catch {
      return [];
    }
  });
}

export async function storedEvents(cloud: TestCloud, detailType?: string): Promise<{ 'detail-type': string; detail: any }[]> {
  const query = detailType ? `?detailType=${encodeURIComponent(detailType)}` : '';
  return ((await (await fetch(`${cloud.url}/_certpipe/events${query}`)).json()) as { events: any[] }).events;
}

const PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

/** Where key material must never appear: execution history (with data), function logs, stored events and metrics. */
export async function placesWithPrivateKeys(cloud: TestCloud, sfn: SFNClient, executionArns: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const arn of executionArns) {
    const history = await executionHistory(sfn, arn);
    if (PRIVATE_KEY.test(JSON.stringify(history))) found.push(`history of ${arn}`);
  }
  for (const file of logFiles(cloud)) {
    if (PRIVATE_KEY.test(readFileSync(file, 'utf8'))) found.push(`log ${file}`);
  }
  for (const path of ['/_certpipe/events', '/_certpipe/metrics']) {
    const body = await (await fetch(`${cloud.url}${path}`)).text();
    if (PRIVATE_KEY.test(body)) found.push(path);
  }
  return found;
}
