// End-to-end IAM set-up: the roles and function roles exactly as the template
// deploy registered them (the synthesized trust and identity policies, the zone
// ids local), read back from the local cloud, with the means to register a role
// again without some of its statements and to restart a function cold.
import { expect } from 'vitest';
import type { DecisionRecord } from '../../local/aws/iam/decisions.js';
import type { NamedPolicy } from '../../local/aws/iam/evaluate.js';
import { listFunctions, registerFunction, type FunctionDefinition } from '../../local/aws/services/lambda/registry.js';
import type { TestCloud } from '../support/cloud.js';

const ACCOUNT = '000000000000';

/** A role as registered: its ARN, identity policies and trust policy. */
export interface RegisteredRole {
  readonly roleArn: string;
  readonly policies: NamedPolicy[];
  readonly trust: NamedPolicy;
}

export interface SynthesizedIam {
  /** Function name (CERTPIPE_FUNCTION) → its execution role as deployed. */
  readonly functionRoles: Record<string, RegisteredRole>;
  /** The target accounts' roles. */
  readonly targetRoles: RegisteredRole[];
  /** Re-registers a role with these identity policies (its trust policy unchanged). */
  registerRole(role: RegisteredRole, policies?: readonly NamedPolicy[]): Promise<void>;
  /** Registers the function again, so its next invocation starts cold (no account key cached from earlier calls). */
  coldStart(fn: string): Promise<void>;
}

async function post(cloud: TestCloud, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${cloud.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 201) throw new Error(`POST ${path} answered ${res.status}: ${await res.text()}`);
}

/** The deployed roles and each function's role, as the local deploy registered them from the templates. */
export async function deploySynthesizedIam(cloud: TestCloud): Promise<SynthesizedIam> {
  const listed = (await (await fetch(`${cloud.url}/_certpipe/iam/roles`)).json()) as {
    roles: { roleArn: string; trustPolicy?: NamedPolicy['document']; policies?: NamedPolicy[] }[];
  };
  const roles = new Map(
    listed.roles.map((r) => [r.roleArn, { roleArn: r.roleArn, policies: r.policies ?? [], trust: { name: 'trust', document: r.trustPolicy! } } satisfies RegisteredRole]),
  );
  const registerRole = (role: RegisteredRole, policies: readonly NamedPolicy[] = role.policies) =>
    post(cloud, '/_certpipe/iam/roles', { roleArn: role.roleArn, trustPolicy: role.trust.document, policies });

  const functionRoles: Record<string, RegisteredRole> = {};
  const definitions: Record<string, FunctionDefinition> = {};
  for (const fn of await listFunctions(cloud.url)) {
    const name = fn.environment.CERTPIPE_FUNCTION;
    if (!name || !fn.roleArn) continue;
    const role = roles.get(fn.roleArn);
    if (!role) throw new Error(`function ${name} runs as ${fn.roleArn}, which is not registered`);
    functionRoles[name] = role;
    const { functionName, accountId, region, entry, code, handler, environment, timeoutSeconds, memoryMb, roleArn } = fn;
    definitions[name] = { functionName, accountId, region, ...(entry ? { entry } : {}), ...(code ? { code } : {}), handler, environment, timeoutSeconds, memoryMb, roleArn };
  }
  expect(Object.keys(functionRoles).length).toBe(7);
  const targetRoles = [...roles.values()].filter((r) => !r.roleArn.includes(`::${ACCOUNT}:`));
  return { functionRoles, targetRoles, registerRole, coldStart: async (fn) => void (await registerFunction(cloud.url, definitions[fn]!)) };
}

export async function iamDecisions(cloud: TestCloud): Promise<DecisionRecord[]> {
  return ((await (await fetch(`${cloud.url}/_certpipe/iam/decisions`)).json()) as { decisions: DecisionRecord[] }).decisions;
}

export async function clearIamDecisions(cloud: TestCloud): Promise<void> {
  await fetch(`${cloud.url}/_certpipe/iam/decisions`, { method: 'DELETE' });
}
