// End-to-end set-up for IAM enforcement until the local deploy registers the
// synthesized template itself: the pipeline's and the target accounts' roles
// as `cdk synth` writes them (trust and identity policies) are registered with
// the local cloud, and each function is re-registered with its execution role,
// so that it calls with that role's temporary credentials.
import { Template } from 'aws-cdk-lib/assertions';
import { expect } from 'vitest';
import { toInventory, type CertpipeConfig } from '../../infra/config.js';
import { CertpipePipelineStack } from '../../infra/pipeline-stack.js';
import { CertpipeTargetStack, targetRolesOf } from '../../infra/target-stack.js';
import type { DecisionRecord } from '../../local/aws/iam/decisions.js';
import type { NamedPolicy } from '../../local/aws/iam/evaluate.js';
import { listFunctions, registerFunction, type FunctionDefinition } from '../../local/aws/services/lambda/registry.js';
import { testApp } from '../infra/support.js';
import { functionRole, templateRoles, type TemplateRole } from '../local/iam/template.js';
import type { TestCloud } from '../support/cloud.js';

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';

export interface SynthesizedIam {
  /** Function name (CERTPIPE_FUNCTION) → its execution role as synthesized. */
  readonly functionRoles: Record<string, TemplateRole>;
  /** The target accounts' roles. */
  readonly targetRoles: TemplateRole[];
  /** Re-registers a role with these identity policies (its trust policy unchanged). */
  registerRole(role: TemplateRole, policies?: readonly NamedPolicy[]): Promise<void>;
  /** Registers the function again, so its next invocation starts cold (no account key cached from earlier calls). */
  coldStart(fn: string): Promise<void>;
}

async function post(cloud: TestCloud, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${cloud.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 201) throw new Error(`POST ${path} answered ${res.status}: ${await res.text()}`);
}

/** Registers the synthesized roles and gives every deployed function its role. */
export async function deploySynthesizedIam(cloud: TestCloud, config: CertpipeConfig): Promise<SynthesizedIam> {
  const pipeline = Template.fromStack(new CertpipePipelineStack(testApp(), 'Certpipe', { config, region: REGION, env: { account: ACCOUNT } })).toJSON() as { Resources: Record<string, any> };
  const roles = templateRoles(pipeline, { accountId: ACCOUNT, region: REGION });
  const targetRoles = targetRolesOf(toInventory(config, { region: REGION, accountId: ACCOUNT })).flatMap((target) => {
    const template = Template.fromStack(new CertpipeTargetStack(testApp(), 'Target', { target, pipelineAccountId: ACCOUNT })).toJSON();
    return templateRoles(template as any, { accountId: target.accountId, region: REGION });
  });
  const registerRole = (role: TemplateRole, policies: readonly NamedPolicy[] = role.policies) =>
    post(cloud, '/_certpipe/iam/roles', { roleArn: role.roleArn, trustPolicy: role.trust.document, policies });
  for (const role of [...roles, ...targetRoles]) await registerRole(role);

  const functionRoles: Record<string, TemplateRole> = {};
  const definitions: Record<string, FunctionDefinition> = {};
  for (const fn of await listFunctions(cloud.url)) {
    const name = fn.environment.CERTPIPE_FUNCTION;
    if (!name) continue;
    const role = functionRole(pipeline, roles, name);
    functionRoles[name] = role;
    const { functionName, accountId, region, entry, handler, environment, timeoutSeconds, memoryMb } = fn;
    definitions[name] = { functionName, accountId, region, entry, handler, environment, timeoutSeconds, memoryMb, roleArn: role.roleArn };
    await registerFunction(cloud.url, definitions[name]);
  }
  expect(Object.keys(functionRoles).length).toBeGreaterThan(0);
  return { functionRoles, targetRoles, registerRole, coldStart: async (fn) => void (await registerFunction(cloud.url, definitions[fn]!)) };
}

export async function iamDecisions(cloud: TestCloud): Promise<DecisionRecord[]> {
  return ((await (await fetch(`${cloud.url}/_certpipe/iam/decisions`)).json()) as { decisions: DecisionRecord[] }).decisions;
}

export async function clearIamDecisions(cloud: TestCloud): Promise<void> {
  await fetch(`${cloud.url}/_certpipe/iam/decisions`, { method: 'DELETE' });
}
