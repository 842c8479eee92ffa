// Throughput: N certificates (two names each) through the whole workflow on the
// local cloud and Pebble, against the floor: acme-client issuing the same N in one
// process (concurrency 10) against the same Pebble and the same Route 53 + DNS.
import https from 'node:https';
import fs from 'node:fs';
import * as acme from 'acme-client';
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListHostedZonesByNameCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { localSdkConfig } from '../local/deploy.js';
import { lambdaGbSeconds } from './cost.js';
import { ExecutionHistories, runExecution } from '../bin/run.js';
import { fanoutShape, type FanoutShape } from './capacity.js';
import { benchConfig, deployBench, historyCounts, pool, round, startBenchCloud, ZONES, type HistoryCounts } from './support.js';

export const FLOOR_CONCURRENCY = 10;

export interface ThroughputResult {
  n: number;
  /** The pipeline's Map MaxConcurrency for this run. */
  maxConcurrency: number;
  pipelineMs: number;
  pipelineStatus: string;
  renewed: number;
  floorMs: number;
  floorIssued: number;
  msPerCertPipeline: number;
  msPerCertFloor: number;
  ratio: number;
  history: HistoryCounts;
  /** History per certificate and what one execution holds (bench/capacity.ts). */
  fanout: FanoutShape;
  lambdaGbSeconds: number;
  awsCalls: { total: number; byOperation: Record<string, number> };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function zoneIds(route53: Route53Client): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (const name of ZONES) {
    const res = await route53.send(new ListHostedZonesByNameCommand({ DNSName: name, MaxItems: 1 }));
    const zone = res.HostedZones?.find((z) => z.Name === `${name}.`);
    if (!zone?.Id) throw new Error(`zone ${name} missing`);
    ids.set(name, zone.Id);
  }
  return ids;
}

async function changeTxt(route53: Route53Client, zoneId: string, action: 'UPSERT' | 'DELETE', name: string, value: string): Promise<string> {
  const res = await route53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: {
        Changes: [{ Action: action, ResourceRecordSet: { Name: name, Type: 'TXT', TTL: 60, ResourceRecords: [{ Value: `"${value}"` }] } }],
      },
    }),
  );
  return res.ChangeInfo!.Id!;
}

async function waitInsync(route53: Route53Client, changeId: string): Promise<void> {
  for (;;) {
    const res = await route53.send(new GetChangeCommand({ Id: changeId }));
    if (res.ChangeInfo?.Status === 'INSYNC') return;
    await sleep(100);
  }
}

/** The floor: plain acme-client, same names, same CA, same DNS; timed from account set-up to the last certificate. */
export async function floorIssue(opts: {
  directoryUrl: string;
  caPem: string;
  endpointUrl: string;
  certs: { name: string; dnsNames: string[] }[];
}): Promise<{ ms: number; issued: number }> {
  acme.axios.defaults.httpsAgent = new https.Agent({ ca: opts.caPem, keepAlive: true });
  // The floor lives under the same Route 53 request rate as the pipeline (5 per second per account), with the functions' retry settings.
  const route53 = new Route53Client({ ...localSdkConfig(opts.endpointUrl), retryMode: 'adaptive', maxAttempts: 8 });
  const zones = await zoneIds(route53);
  const zoneOf = (dnsName: string) => zones.get(ZONES.find((z) => dnsName.endsWith(`.${z}`))!)!;

  const started = performance.now();
  const client = new acme.Client({
    directoryUrl: opts.directoryUrl,
    accountKey: await acme.crypto.createPrivateEcdsaKey(),
    // acme-client's default back-off starts at 5 s; the floor should poll as fast as Pebble answers.
    backoffMin: 50,
    backoffMax: 500,
    backoffAttempts: 30,
  });
  await client.createAccount({ termsOfServiceAgreed: true, contact: ['mailto:floor@example.test'] });
  let issued = 0;
  await pool(opts.certs, FLOOR_CONCURRENCY, async (cert) => {
    const order = await client.createOrder({ identifiers: cert.dnsNames.map((value) => ({ type: 'dns', value })) });
    const authzs = await client.getAuthorizations(order);
    const placed: { zoneId: string; name: string; value: string }[] = [];
    const challenges = [];
    for (const authz of authzs) {
      const challenge = authz.challenges.find((c) => c.type === 'dns-01')!;
      const value = await client.getChallengeKeyAuthorization(challenge);
      const name = `_acme-challenge.${authz.identifier.value}`;
      const zoneId = zoneOf(authz.identifier.value);
      placed.push({ zoneId, name, value });
      challenges.push({ challenge, changeId: await changeTxt(route53, zoneId, 'UPSERT', name, value) });
    }
    for (const { changeId } of challenges) await waitInsync(route53, changeId);
    for (const { challenge } of challenges) await client.completeChallenge(challenge);
    for (const { challenge } of challenges) await client.waitForValidStatus(challenge);
    const [, csr] = await acme.crypto.createCsr({ commonName: cert.dnsNames[0]!, altNames: cert.dnsNames }, await acme.crypto.createPrivateEcdsaKey());
    const finalized = await client.finalizeOrder(order, csr);
    const pem = await client.getCertificate(finalized);
    if (!pem.includes('BEGIN CERTIFICATE')) throw new Error(`floor: no certificate for ${cert.name}`);
    for (const p of placed) await changeTxt(route53, p.zoneId, 'DELETE', p.name, p.value);
    issued++;
  });
  return { ms: performance.now() - started, issued };
}

/** One N: a fresh local cloud with Pebble; the pipeline run, then the floor on the same cloud. */
/** `maxConcurrency` is the pipeline's Map concurrency (the floor always runs 10 at once). */
export async function throughput(n: number, log: (line: string) => void = () => {}, maxConcurrency = 10): Promise<ThroughputResult> {
  const cloud = await startBenchCloud({ pebble: true });
  try {
    const directoryUrl = cloud.handle.info.directoryUrl!;
    const config = benchConfig({ n, prefix: 'p', directoryUrl, maxConcurrency });
    const { deployment, sfn } = await deployBench(cloud, config);
    cloud.calls.reset();
    log(`  N=${n}: pipeline…`);
    const t0 = performance.now();
    const run = await runExecution(sfn, deployment.stateMachineArn, {}, { pollMs: 200, timeoutMs: 60 * 60_000 });
    const pipelineMs = performance.now() - t0;
    const awsCalls = cloud.calls.snapshot();
    const fanout = fanoutShape(await new ExecutionHistories(sfn, run.executionArn).read());
    if (process.env.BENCH_DEBUG) {
      const start = run.history[0]?.timestamp?.getTime() ?? 0;
      for (const e of run.history) {
        const name = e.stateEnteredEventDetails?.name ?? e.stateExitedEventDetails?.name ?? '';
        log(`    +${(e.timestamp?.getTime() ?? 0) - start} ms ${e.type} ${name}`);
      }
    }
    const output = run.output as { renewed?: number; counts?: { renewed?: number } } | undefined;
    const renewed = output?.renewed ?? output?.counts?.renewed ?? run.history.filter((e) => e.stateExitedEventDetails?.name === 'PublishCertificate').length;
    if (run.status !== 'SUCCEEDED') log(`  pipeline ${run.status}: ${run.error ?? ''} ${run.cause ?? ''}`.slice(0, 400));

    log(`  N=${n}: floor…`);
    const floorCerts = config.certificates.map((_, i) => {
      const zone = ZONES[i % ZONES.length];
      return { name: `f${i}`, dnsNames: [`f${i}.${zone}`, `www.f${i}.${zone}`] };
    });
    const floor = await floorIssue({
      directoryUrl,
      caPem: fs.readFileSync(cloud.handle.info.pebbleCaPath!, 'utf8'),
      endpointUrl: cloud.url,
      certs: floorCerts,
    });
    return {
      n,
      maxConcurrency,
      pipelineMs: round(pipelineMs, 0),
      pipelineStatus: run.status,
      renewed,
      floorMs: round(floor.ms, 0),
      floorIssued: floor.issued,
      msPerCertPipeline: round(pipelineMs / n, 0),
      msPerCertFloor: round(floor.ms / n, 0),
      ratio: round(pipelineMs / floor.ms, 2),
      history: historyCounts(run.history),
      fanout,
      lambdaGbSeconds: lambdaGbSeconds(run.history),
      awsCalls,
    };
  } finally {
    await cloud.close();
  }
}
