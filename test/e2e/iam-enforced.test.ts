// The pipeline under IAM enforcement with the synthesized roles: every function
// calls with its own role's credentials, a renewal of the example config
// (cross-account targets and CNAME-free zones) succeeds with no denial, and
// the decision log shows each role allowed by its own statements, the state
// machine's execution role included (Step Functions calls as it).
import { DescribeStateMachineCommand, ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCloud, type TestCloud } from '../support/cloud.js';
import { clearIamDecisions, deploySynthesizedIam, iamDecisions, type SynthesizedIam } from './iam.js';
import { challengeRecordsLeft, deployTestPipeline, exampleConfig, type TestPipeline } from './pipeline.js';

describe('a renewal under IAM enforcement, as the synthesized roles', () => {
  let cloud: TestCloud;
  let pipeline: TestPipeline;
  let iam: SynthesizedIam;

  beforeAll(async () => {
    cloud = await startTestCloud({ pebble: true, settings: { insyncDelayMs: 200 } });
    const config = exampleConfig(cloud);
    pipeline = await deployTestPipeline(cloud, config);
    iam = await deploySynthesizedIam(cloud);
  }, 300_000);

  afterAll(async () => {
    await cloud?.close();
  });

  it('renews every certificate with no denial, each call allowed by a statement of the caller\'s role', async () => {
    const mode = (await (await fetch(`${cloud.url}/_certpipe/iam`)).json()) as { mode: string };
    expect(mode.mode).toBe('enforce');
    await clearIamDecisions(cloud);
    const run = await pipeline.run({ force: true });
    const denied = (await iamDecisions(cloud)).filter((d) => d.decision === 'denied');
    expect(denied).toEqual([]);
    expect(run.status, `${run.error}: ${run.cause}`).toBe('SUCCEEDED');
    const results = (run.output as { results: { name: string; outcome: string }[] }).results;
    expect(results.map((r) => r.outcome)).toEqual(results.map(() => 'renewed'));
    expect(await challengeRecordsLeft(cloud)).toEqual([]);

    const decisions = await iamDecisions(cloud);
    for (const [fn, role] of Object.entries(iam.functionRoles)) {
      if (fn === 'Summarize') continue;
      const roleName = role.roleArn.split('/').pop()!;
      const mine = decisions.filter((d) => d.principal.includes(`:assumed-role/${roleName}/`));
      expect(mine.length, `${fn} made no call as its role`).toBeGreaterThan(0);
      const names = role.policies.map((p) => p.name);
      // GetCallerIdentity needs no permission (aws:no-permission-required).
      for (const d of mine.filter((x) => x.statement !== 'aws:no-permission-required')) expect(names, `${fn}: ${d.action} allowed by ${d.statement}`).toContain(d.statement?.split('#')[0]);
    }
    // Step Functions called as the state machine's role: each Task's invoke, RenewEach's child executions, its item list and its results.
    const sfn = new SFNClient(cloud.sdkConfig());
    const [machine] = (await sfn.send(new ListStateMachinesCommand({}))).stateMachines ?? [];
    const { roleArn: machineRole } = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: machine!.stateMachineArn }));
    const machinePolicies = ((await (await fetch(`${cloud.url}/_certpipe/iam/roles`)).json()) as { roles: { roleArn: string; policies?: { name: string }[] }[] }).roles
      .find((r) => r.roleArn === machineRole)!.policies!.map((p) => p.name);
    const byMachine = decisions.filter((d) => d.principal.includes(`:assumed-role/${machineRole!.split('/').pop()}/`));
    const actions = new Set(byMachine.map((d) => d.action));
    expect([...actions].sort()).toEqual(['lambda:InvokeFunction', 's3:GetObject', 's3:PutObject', 'states:StartExecution']);
    for (const d of byMachine) expect(machinePolicies, `${d.action} on ${d.resource} allowed by ${d.statement}`).toContain(d.statement?.split('#')[0]);
    const invoked = new Set(byMachine.filter((d) => d.action === 'lambda:InvokeFunction').map((d) => d.resource.split(':').pop()));
    expect(invoked.size, [...invoked].join(', ')).toBeGreaterThanOrEqual(6);
    // The publisher reached the target account through the target role, with its ExternalId.
    expect(decisions).toContainEqual(expect.objectContaining({ action: 'sts:AssumeRole', resource: iam.targetRoles[0]!.roleArn, decision: 'allowed' }));
    // The account root made only the test's own calls (start and follow the execution, list what is left).
    const byRoot = new Set(decisions.filter((d) => d.principal.endsWith(':root')).map((d) => d.action));
    expect([...byRoot].filter((a) => !/^states:|^route53:List/.test(a))).toEqual([]);
  }, 300_000);
});
