// Every statement of every function role is needed, proven end to end: the
// role is re-registered without statement i, a renewal runs, and the local
// cloud refuses that function an action of the statement (AccessDenied, named
// in the decision log). The role is restored before the next statement, and a
// renewal with the whole role settles what the stopped run left, once its
// in-flight functions have ended and its challenge lease is ended.
// Statements no local scenario can exercise are listed, not skipped silently.
import { DescribeSecretCommand, SecretsManagerClient, TagResourceCommand } from '@aws-sdk/client-secrets-manager';
import { DescribeExecutionCommand, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executionHistory } from '../../bin/run.js';
import { findCertificate } from '../../functions/lib/inventory.js';
import { HOLDER_TAG_PREFIX } from '../../functions/lib/store/challengeHolders.js';
import type { NamedPolicy } from '../../local/aws/iam/evaluate.js';
import { startTestCloud, type TestCloud } from '../support/cloud.js';
import { clearIamDecisions, deploySynthesizedIam, iamDecisions, type SynthesizedIam } from './iam.js';
import { challengeRecordsLeft, deployTestPipeline, exampleConfig, type TestPipeline } from './pipeline.js';

const FUNCTIONS = ['CheckExpiry', 'PlaceChallenges', 'CheckPropagation', 'FinalizeOrder', 'PublishCertificate', 'CleanupChallenges', 'Summarize'];

/**
 * Statements no local renewal exercises, per function, with why (least-privilege
 * candidates to review; `certpipe iam report --local` lists them as unused too):
 * - `0` (the `logs:*` statement CDK adds): the local cloud serves no CloudWatch
 *   Logs API; the runtime writes log files.
 * - `Route53ChangeStatusAndZoneLookup` of PlaceChallenges and CleanupChallenges:
 *   the local deploy writes the zone ids into the inventory, so no zone is looked
 *   up by name (in AWS a config without zone ids is), and neither calls GetChange.
 * - `HostedZoneRead` of CheckPropagation: it asks the configured resolvers (the
 *   local DNS server) and Route 53's GetChange only.
 * - `AcmeAccountSecretsTag` of PlaceChallenges and FinalizeOrder: the ACME
 *   account secret is created with its tags; it is tagged again only when the
 *   CA no longer knows the account (not a plain renewal).
 * - `CertificateSecretsTag` of FinalizeOrder: storing the issued certificate
 *   writes a version and moves stages; no renewal here tags the secret.
 */
const NOT_EXERCISED_LOCALLY: Record<string, readonly string[]> = {
  CheckExpiry: ['0'],
  PlaceChallenges: ['0', 'Route53ChangeStatusAndZoneLookup', 'AcmeAccountSecretsTag'],
  CheckPropagation: ['0', 'HostedZoneRead'],
  FinalizeOrder: ['0', 'AcmeAccountSecretsTag', 'CertificateSecretsTag'],
  PublishCertificate: ['0'],
  CleanupChallenges: ['0', 'Route53ChangeStatusAndZoneLookup'],
  Summarize: ['0'],
};

/**
 * The certificate whose renewal reaches the statement: a fresh one for a first
 * ACM import, one already in ACM for a re-import, the cross-account one for the
 * target role; `web` (Secrets Manager only) otherwise.
 */
const CERTIFICATE_FOR: Record<string, { name: string; issuedBefore?: true }> = {
  AcmImportNewTagged: { name: 'cdn' },
  AcmManagedOnly: { name: 'cdn', issuedBefore: true },
  AssumeTargetRoles: { name: 'partner' },
};

interface Case {
  readonly fn: string;
  readonly cite: string;
  readonly sid: string;
  readonly actions: string[];
  readonly without: NamedPolicy[];
}

let cloud: TestCloud;
let pipeline: TestPipeline;
let iam: SynthesizedIam;

function casesOf(fn: string): Case[] {
  const role = iam.functionRoles[fn]!;
  return role.policies.flatMap((policy) =>
    ([policy.document.Statement].flat() as Array<Record<string, unknown>>).map((statement, index) => {
      const sid = typeof statement.Sid === 'string' ? statement.Sid : String(index);
      return {
        fn,
        sid,
        cite: `${policy.name}#${sid}`,
        actions: [statement.Action].flat().map(String),
        without: role.policies.map((p) =>
          p !== policy ? p : { ...p, document: { ...p.document, Statement: ([p.document.Statement].flat() as Array<Record<string, unknown>>).filter((_s, i) => i !== index) } },
        ),
      };
    }),
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Lambda invocations that have ended, per the local Lambda's own AWS/Lambda Invocations metric (published as each ends). */
async function invocationsEnded(): Promise<number> {
  const { datapoints } = (await (await fetch(`${cloud.url}/_certpipe/metrics?namespace=AWS/Lambda&metricName=Invocations`)).json()) as { datapoints: { value?: number }[] };
  return datapoints.reduce((n, d) => n + (d.value ?? 0), 0);
}

/**
 * Waits until every function the stopped execution (its map run's children
 * included) started has ended: Step Functions stops waiting for a task at
 * StopExecution, but the function runs on, as on AWS, and may still write the
 * claim, its holder tag and TXT values.
 */
async function inFlightEnded(executionArn: string, endedBefore: number): Promise<void> {
  const started = (await executionHistory(pipeline.sfn, executionArn)).filter((e) => e.type === 'LambdaFunctionStarted' || e.type === 'TaskStarted').length;
  const deadline = Date.now() + 60_000;
  while ((await invocationsEnded()) < endedBefore + started) {
    if (Date.now() > deadline) throw new Error(`the ${started} invocations of stopped ${executionArn} did not end within 60 s`);
    await sleep(100);
  }
}

/**
 * Ends, as the passing of time would, the leases of the executions holding the
 * certificate's challenge values: after a stop, only the stopped one's. A stopped
 * execution never runs CleanupChallenges, and its holder tag keeps every later
 * cleanup of the certificate from removing values until its lease (the execution
 * timeout, 6 hours) ends (store/challengeHolders.ts). Left live, each case adds
 * two values at _acme-challenge.example.test; from six on, the TXT answer no
 * longer fits a 512-byte UDP datagram, and Pebble's VA, which asks over UDP only
 * and does not retry a truncated answer over TCP, finds "No TXT records found"
 * (Let's Encrypt's resolvers retry over TCP).
 */
async function endHolderLeases(certificateName: string): Promise<void> {
  const { secretName } = findCertificate(pipeline.deployment.inventory, certificateName);
  const sm = new SecretsManagerClient(cloud.sdkConfig());
  const holders = ((await sm.send(new DescribeSecretCommand({ SecretId: secretName }))).Tags ?? []).filter((t) => t.Key?.startsWith(HOLDER_TAG_PREFIX));
  const ended = new Date(Date.now() - 1000).toISOString();
  if (holders.length) await sm.send(new TagResourceCommand({ SecretId: secretName, Tags: holders.map((t) => ({ Key: t.Key!, Value: ended })) }));
}

/** Runs a renewal until the role is refused one of `actions`, or the execution ends; stops it if still running. */
async function refusedDuringRenewal(c: Case): Promise<{ action: string; resource: string } | undefined> {
  const roleName = iam.functionRoles[c.fn]!.roleArn.split('/').pop()!;
  const certificate = CERTIFICATE_FOR[c.sid] ?? { name: 'web' };
  await iam.coldStart(c.fn);
  await clearIamDecisions(cloud);
  const endedBefore = await invocationsEnded();
  const only = [certificate.name];
  const { executionArn } = await pipeline.sfn.send(new StartExecutionCommand({ stateMachineArn: pipeline.deployment.stateMachineArn, input: JSON.stringify({ only, force: true }) }));
  const deadline = Date.now() + 90_000;
  try {
    while (Date.now() < deadline) {
      const denied = (await iamDecisions(cloud)).find((d) => d.decision === 'denied' && d.principal.includes(`:assumed-role/${roleName}/`) && c.actions.includes(d.action));
      if (denied) return denied;
      const { status } = await pipeline.sfn.send(new DescribeExecutionCommand({ executionArn }));
      if (status !== 'RUNNING') return undefined;
      await sleep(200);
    }
    return undefined;
  } finally {
    await pipeline.sfn.send(new StopExecutionCommand({ executionArn })).catch(() => undefined);
    await inFlightEnded(executionArn!, endedBefore);
  }
}

beforeAll(async () => {
  cloud = await startTestCloud({ pebble: true, settings: { insyncDelayMs: 100 } });
  const config = exampleConfig(cloud);
  pipeline = await deployTestPipeline(cloud, config);
  iam = await deploySynthesizedIam(cloud);
}, 300_000);

afterAll(async () => {
  await cloud?.close();
});

describe('each statement of each function role is needed', () => {
  const unexercised: string[] = [];

  it.each(FUNCTIONS)('%s: without each statement, a renewal is refused one of its actions', async (fn) => {
    const role = iam.functionRoles[fn]!;
    const missing: string[] = [];
    for (const c of casesOf(fn)) {
      const certificate = CERTIFICATE_FOR[c.sid];
      if (certificate?.issuedBefore) {
        const ready = await pipeline.run({ only: [certificate.name], force: true });
        expect(ready.status, `${ready.error}: ${ready.cause}`).toBe('SUCCEEDED');
      }
      await iam.registerRole(role, c.without);
      let refused: Awaited<ReturnType<typeof refusedDuringRenewal>>;
      try {
        refused = await refusedDuringRenewal(c);
      } finally {
        await iam.registerRole(role);
      }
      // The stopped run's lease ends (as after its execution timeout); then a renewal with the whole role settles
      // what it left (a pending claim, an order in flight, its TXT values) and leaves no challenge record behind.
      if (refused) {
        const name = (certificate ?? { name: 'web' }).name;
        await endHolderLeases(name);
        await iam.coldStart(fn);
        const settled = await pipeline.run({ only: [name], force: true });
        expect(settled.status, `after ${c.cite}: ${settled.error}: ${JSON.stringify(settled.history.filter((e) => /Failed/.test(String(e.type))).slice(0, 3))}`).toBe('SUCCEEDED');
        expect(await challengeRecordsLeft(cloud), `challenge records left after settling ${c.cite}`).toEqual([]);
      }
      if (NOT_EXERCISED_LOCALLY[fn]!.includes(c.sid)) {
        expect(refused, `${c.cite} is listed as not exercised locally but was`).toBeUndefined();
        unexercised.push(`${fn} ${c.cite}`);
        continue;
      }
      if (!refused) missing.push(`${c.cite}: ${(await iamDecisions(cloud)).filter((d) => d.principal.includes(role.roleArn.split('/').pop()!)).map((d) => `${d.action}=${d.decision}:${d.statement ?? ''}`).join(' ')}`);
    }
    expect(missing, 'statements whose removal no renewal noticed').toEqual([]);
  }, 600_000);

  it('met every statement listed as not exercised locally (the list is not stale)', () => {
    expect(unexercised.length).toBe(Object.values(NOT_EXERCISED_LOCALLY).flat().length);
  });
});
