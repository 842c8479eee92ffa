// Every statement of every function role is needed, proven end to end: the
// role is re-registered without statement i, a renewal runs, and the local
// cloud refuses that function an action of the statement (AccessDenied, named
// in the decision log). The role is restored before the next statement.
// Statements no local scenario can exercise are listed, not skipped silently.
import { DescribeExecutionCommand, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NamedPolicy } from '../../local/aws/iam/evaluate.js';
import { startTestCloud, type TestCloud } from '../support/cloud.js';
import { clearIamDecisions, deploySynthesizedIam, iamDecisions, type SynthesizedIam } from './iam.js';
import { deployTestPipeline, exampleConfig, type TestPipeline } from './pipeline.js';

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

/** Runs a renewal until the role is refused one of `actions`, or the execution ends; stops it if still running. */
async function refusedDuringRenewal(c: Case): Promise<{ action: string; resource: string } | undefined> {
  const roleName = iam.functionRoles[c.fn]!.roleArn.split('/').pop()!;
  const certificate = CERTIFICATE_FOR[c.sid] ?? { name: 'web' };
  await iam.coldStart(c.fn);
  await clearIamDecisions(cloud);
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
      // A renewal with the whole role settles what the stopped one left (a pending claim, an order in flight).
      if (refused) {
        await iam.coldStart(fn);
        const only = [(certificate ?? { name: 'web' }).name];
        let settled = await pipeline.run({ only, force: true });
        // An order the stopped run left may have gone invalid at the CA (its TXT values were
        // cleaned while it was pending): that run fails AcmeOrderInvalid and the next orders
        // afresh, as in production. One more run settles it; a second failure is real.
        if (settled.status !== 'SUCCEEDED' && settled.history.some((e) => JSON.stringify(e).includes('AcmeOrderInvalid'))) {
          settled = await pipeline.run({ only, force: true });
        }
        expect(settled.status, `after ${c.cite}: ${settled.error}: ${JSON.stringify(settled.history.filter((e) => /Failed/.test(String(e.type))).slice(0, 3))}`).toBe('SUCCEEDED');
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
