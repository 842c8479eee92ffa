// Shared set-up for the end-to-end tests: the example config pointed at a test
// cloud's Pebble, deployed with the same deployLocal that `npm start` uses: from
// the synthesized templates (the assembly is cached, so test files share one synthesis).
import { createPrivateKey } from 'node:crypto';
import { readdirSync, readFileSync, type Dirent } from 'node:fs';
import { dirname, join } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ListHostedZonesCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { SFNClient } from '@aws-sdk/client-sfn';
import { findKeyMaterial } from '../../functions/lib/observability.js';
import { parseConfig, type CertpipeConfig } from '../../infra/config.js';
import { deployLocal, stagingCaOf, type LocalDeployment } from '../../local/deploy.js';
import { executionHistory, runExecution, type ExecutionInput, type FinishedExecution } from '../../bin/run.js';
import type { TestCloud } from '../support/cloud.js';

export const EXAMPLE_CONFIG = new URL('../../certpipe.config.yaml', import.meta.url);

/**
 * The example config with the test cloud's ACME directories and short waits.
 * A test cloud without a staging Pebble gets it without the staging twin and
 * the canary (test/e2e/staging-gate.test.ts runs those).
 */
export function exampleConfig(cloud: TestCloud, edit: (doc: any) => void = () => {}): CertpipeConfig {
  let text = readFileSync(EXAMPLE_CONFIG, 'utf8').replace('https://127.0.0.1:14000/dir', cloud.directoryUrl!);
  if (cloud.stagingDirectoryUrl) text = text.replace('https://127.0.0.1:14001/dir', cloud.stagingDirectoryUrl);
  const config = parseConfig(text, 'certpipe.config.yaml');
  const doc = structuredClone(config) as any;
  if (!cloud.stagingDirectoryUrl) withoutStagingCa(doc);
  doc.pipeline.propagation.waitSeconds = 1;
  edit(doc);
  return doc as CertpipeConfig;
}

function withoutStagingCa(doc: any): void {
  const staging = new Set(doc.issuers.map((i: any) => i.staging).filter(Boolean));
  doc.issuers = doc.issuers.filter((i: any) => !staging.has(i.name)).map(({ staging: _twin, ...i }: any) => i);
  delete doc.canary;
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
    acmeManagementUrl: cloud.handle.info.pebbleManagementUrl,
    ...(cloud.directoryUrl ? { acmeDirectoryUrl: cloud.directoryUrl } : {}),
    ...stagingCaOf(cloud.handle.info),
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

const PEM_PRIVATE_KEY = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/;
/** A base64 run long enough to be a DER private key (P-256 SEC1 is 164 characters); DER starts with 0x30, "M". */
const BASE64_RUN = /M[A-Za-z0-9+/]{150,}={0,2}/g;

/** Whether a base64 run decodes to a private key in any DER form node reads. */
function isDerPrivateKey(base64: string): boolean {
  const der = Buffer.from(base64, 'base64');
  for (const type of ['pkcs8', 'sec1', 'pkcs1'] as const) {
    try {
      createPrivateKey({ key: der, format: 'der', type });
      return true;
    } catch {
      // not this form
    }
  }
  return false;
}

/** JSON inside strings (state outputs, log lines, event details) is searched as JSON too, so a JWK's "d" is seen there. */
function parsedDeep(value: unknown, depth = 0): unknown {
  if (depth > 8) return value;
  if (typeof value === 'string') {
    const t = value.trim();
    if ((t.startsWith('{') && t.endsWith('}')) || (t.startsWith('[') && t.endsWith(']'))) {
      try {
        return parsedDeep(JSON.parse(t), depth + 1);
      } catch {
        return value;
      }
    }
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => parsedDeep(v, depth + 1));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, parsedDeep(v, depth + 1)]));
  return value;
}

/**
 * Whether `value` (text or parsed JSON) holds a private key: PEM under any label,
 * also JSON-escaped or cut short; a JWK with private members (found by the
 * functions' own findKeyMaterial); or base64 DER of a key.
 */
export function holdsKeyMaterial(value: unknown): boolean {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (PEM_PRIVATE_KEY.test(text)) return true;
  if ([...text.matchAll(BASE64_RUN)].some((m) => isDerPrivateKey(m[0]))) return true;
  const lines = typeof value === 'string' ? value.split('\n') : [value];
  return lines.some((line) => findKeyMaterial(parsedDeep(line)) !== undefined);
}

/** Files under `dir`, recursively, as paths relative to it. */
function filesUnder(dir: string, prefix = ''): string[] {
  let entries: Dirent[];
  try {
    entries = readdirSync(join(dir, prefix), { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => (e.isDirectory() ? filesUnder(dir, join(prefix, e.name)) : [join(prefix, e.name)]));
}

/**
 * Every resource the local cloud stores (one JSON file each under
 * `<dataDir>/aws/state/<collection>/`), except where a key belongs: secret
 * values, and the key ACM keeps beside an imported certificate (its certificate,
 * chain and tags are still scanned). Yields the collection and the record.
 */
function* storedRecords(cloud: TestCloud): Generator<{ collection: string; key: string; value: unknown }> {
  const stateDir = join(cloud.dataDir, 'aws', 'state');
  for (const file of filesUnder(stateDir)) {
    if (!file.endsWith('.json')) continue;
    const collection = dirname(file);
    if (collection.startsWith('secretsmanager/')) continue;
    const record = JSON.parse(readFileSync(join(stateDir, file), 'utf8')) as { key: string; value: unknown };
    let value = record.value;
    if (collection.startsWith('acm/') && value && typeof value === 'object') {
      const { privateKeyPem: _kept, ...rest } = value as Record<string, unknown>;
      value = rest;
    }
    yield { collection, key: record.key, value };
  }
}

/**
 * Where key material must never appear: execution history (through the API, with
 * data), function and cloud logs, stored events and metrics, and every other
 * store the pipeline writes through the local cloud (Route 53 records, ACM
 * certificates and tags, state machine histories, registered functions, ...).
 */
export async function placesWithPrivateKeys(cloud: TestCloud, sfn: SFNClient, executionArns: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const arn of executionArns) {
    if (holdsKeyMaterial(await executionHistory(sfn, arn))) found.push(`history of ${arn}`);
  }
  for (const file of logFiles(cloud)) {
    if (holdsKeyMaterial(readFileSync(file, 'utf8'))) found.push(`log ${file}`);
  }
  for (const path of ['/_certpipe/events', '/_certpipe/metrics']) {
    const body = await (await fetch(`${cloud.url}${path}`)).json();
    if (holdsKeyMaterial(body)) found.push(path);
  }
  for (const { collection, key, value } of storedRecords(cloud)) {
    if (holdsKeyMaterial(value)) found.push(`store ${collection} ${key}`);
  }
  return found;
}
