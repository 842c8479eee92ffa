// Decides one call as AWS would, with @cloud-copilot/iam-simulate (AGPL-3.0,
// a devDependency of the local cloud only: never import this from functions/
// or infra/). AWS's rules kept here, not in the simulator:
// - the root of an account may do anything in its own account;
// - LOCAL-ONLY: the root of an account may assume any role of its own account
//   (AWS refuses root AssumeRole), so a test or a user can act as a function's
//   role and probe what it may and may not do;
// - across accounts both sides must allow: the caller's identity policies and
//   the resource's policy (a role's trust policy, a key or secret policy).
import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import type { AuthorizationRequest, ContextValue, ResourcePolicyKind } from './operations.js';

export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: readonly Record<string, unknown>[] | Record<string, unknown>;
}

/** A policy with the name decisions cite it by (an inline policy's name, `trust`, `key-policy`, …). */
export interface NamedPolicy {
  readonly name: string;
  readonly document: PolicyDocument;
}

export type Principal =
  | { readonly kind: 'root'; readonly accountId: string }
  | {
      readonly kind: 'role';
      readonly roleArn: string;
      readonly sessionName: string;
      /** The role's identity policies (inline and managed), as deployed. */
      readonly policies: readonly NamedPolicy[];
    };

export type DenialReason = 'no-identity-allow' | 'identity-deny' | 'no-resource-allow' | 'resource-deny';

export interface Decision {
  readonly decision: 'allowed' | 'denied';
  /** The decisive statement, `<policy name>#<Sid or 0-based index>`, or a `local:` rule. */
  readonly statement?: string;
  readonly explanation: string;
  /** Set on denials: which policy type refused, for AWS's message. */
  readonly reason?: DenialReason;
}

export interface Evaluation {
  readonly principal: Principal;
  readonly action: string;
  readonly resource: string;
  readonly resourceAccountId: string;
  readonly context: Readonly<Record<string, ContextValue>>;
  /** The resource's policy where the service has one (secret policy, key policy, role trust policy). */
  readonly resourcePolicy?: NamedPolicy;
}

const ROLE_ARN = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]+)$/;

export const ROOT_OWN_ACCOUNT = 'local:account-root';
export const ROOT_ASSUMES_OWN_ROLE = 'local:root-assumes-own-role';

/** The caller as AWS names it in errors and in `aws:userid`-style logs. */
export function principalArn(principal: Principal): string {
  if (principal.kind === 'root') return `arn:aws:iam::${principal.accountId}:root`;
  const [, partition, account, name] = ROLE_ARN.exec(principal.roleArn) ?? [];
  return `arn:${partition ?? 'aws'}:sts::${account ?? ''}:assumed-role/${name ?? principal.roleArn}/${principal.sessionName}`;
}

export function principalAccount(principal: Principal): string {
  return principal.kind === 'root' ? principal.accountId : (ROLE_ARN.exec(principal.roleArn)?.[2] ?? '');
}

/** Root has no identity policies; across accounts it behaves as if one allowed everything. */
const ROOT_IDENTITY: NamedPolicy = {
  name: 'account-root',
  document: { Version: '2012-10-17', Statement: [{ Sid: 'Root', Effect: 'Allow', Action: '*', Resource: '*' }] },
};

interface AnalysedStatement {
  readonly policyId: string;
  readonly statement: { index(): number; sid(): string | undefined };
}

const cite = (policyId: string, s: AnalysedStatement['statement']) => `${policyId}#${s.sid() ?? s.index() - 1}`;

/**
 * Decisions are a pure function of the policies and the request, and a renewal
 * repeats the same few calls: remember them per identity-policy list (by object
 * identity, so redeployed policies start afresh), bounded.
 */
const MEMO_LIMIT = 10_000;
const memo = new WeakMap<object, Map<string, Decision>>();
const ROOT_KEY = {};

export async function evaluate(input: Evaluation): Promise<Decision> {
  const owner = input.principal.kind === 'role' ? input.principal.policies : ROOT_KEY;
  const key = JSON.stringify([principalArn(input.principal), input.action, input.resource, input.resourceAccountId, input.context, input.resourcePolicy ?? null]);
  let decisions = memo.get(owner);
  const known = decisions?.get(key);
  if (known) return known;
  const decision = await decide(input);
  if (!decisions) memo.set(owner, (decisions = new Map()));
  if (decisions.size >= MEMO_LIMIT) decisions.clear();
  decisions.set(key, decision);
  return decision;
}

async function decide(input: Evaluation): Promise<Decision> {
  const { principal, action, resource, resourceAccountId } = input;
  const callerAccount = principalAccount(principal);
  const sameAccount = callerAccount === resourceAccountId;

  if (principal.kind === 'root' && sameAccount) {
    if (action === 'sts:AssumeRole') {
      return { decision: 'allowed', statement: ROOT_ASSUMES_OWN_ROLE, explanation: 'local-only rule: the root of an account may assume any role of its own account' };
    }
    return { decision: 'allowed', statement: ROOT_OWN_ACCOUNT, explanation: 'the root of an account may do anything in its own account' };
  }

  const identityPolicies = principal.kind === 'root' ? [ROOT_IDENTITY] : principal.policies;
  const simulation: Simulation = {
    request: {
      principal: principalArn(principal),
      action,
      resource: { resource, accountId: resourceAccountId },
      contextVariables: {
        ...input.context,
        'aws:PrincipalArn': principal.kind === 'root' ? principalArn(principal) : principal.roleArn,
        'aws:PrincipalAccount': callerAccount,
      },
    },
    identityPolicies: identityPolicies.map((p) => ({ name: p.name, policy: p.document })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(input.resourcePolicy ? { resourcePolicy: input.resourcePolicy.document } : {}),
  };
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error') {
    // A policy or request the simulator cannot read is a defect to fix, never a silent allow.
    return { decision: 'denied', reason: 'no-identity-allow', explanation: `the IAM simulator refused the request: ${result.errors.message} ${JSON.stringify(result.errors)}` };
  }
  const analysis = result.resultType === 'single' ? result.result.analysis : result.results[0]?.analysis;
  const identity = analysis?.identityAnalysis;
  const onResource = analysis?.resourceAnalysis;
  const resourceName = input.resourcePolicy?.name ?? 'resource-policy';

  if (result.overallResult === 'Allowed') {
    const byIdentity = identity?.allowStatements[0] as AnalysedStatement | undefined;
    const byResource = onResource?.allowStatements[0] as AnalysedStatement | undefined;
    const decisive = byIdentity ? cite(byIdentity.policyId, byIdentity.statement) : byResource ? cite(resourceName, byResource.statement) : undefined;
    return {
      decision: 'allowed',
      ...(decisive ? { statement: decisive } : {}),
      explanation: `allowed by ${decisive ?? 'the policies'}${!sameAccount && byResource ? ` and ${cite(resourceName, byResource.statement)}` : ''}`,
    };
  }

  const identityDeny = identity?.denyStatements[0] as AnalysedStatement | undefined;
  if (identityDeny) {
    return { decision: 'denied', reason: 'identity-deny', statement: cite(identityDeny.policyId, identityDeny.statement), explanation: `explicitly denied by ${cite(identityDeny.policyId, identityDeny.statement)}` };
  }
  const resourceDeny = onResource?.denyStatements[0] as AnalysedStatement | undefined;
  if (resourceDeny) {
    return { decision: 'denied', reason: 'resource-deny', statement: cite(resourceName, resourceDeny.statement), explanation: `explicitly denied by ${cite(resourceName, resourceDeny.statement)}` };
  }
  const identityAllows = identity?.result === 'Allowed';
  if (identityAllows && (input.resourcePolicy || !sameAccount)) {
    return { decision: 'denied', reason: 'no-resource-allow', explanation: `no statement of ${resourceName} allows ${principalArn(principal)} to perform ${action}` };
  }
  return { decision: 'denied', reason: 'no-identity-allow', explanation: `no identity-based policy allows ${action} on ${resource} with this request's conditions` };
}

/** The resource policy of each kind an operation names, as the caller's stores hold them. */
export type ResourcePolicies = (kind: ResourcePolicyKind, resource: string) => NamedPolicy | undefined;

export interface CallDecision extends Decision {
  readonly action: string;
  readonly resource: string;
}

/**
 * One call: every resource of the request, then the calls the service makes on
 * the caller's behalf (KMS through Secrets Manager). The first denial decides;
 * otherwise the primary action's decision is reported.
 */
export async function authorize(principal: Principal, request: AuthorizationRequest, policies: ResourcePolicies = () => undefined): Promise<CallDecision> {
  const primary = request.resources[0] ?? '*';
  if (request.alwaysAllowed) {
    return { action: request.action, resource: primary, decision: 'allowed', statement: 'aws:no-permission-required', explanation: `AWS requires no permission for ${request.action}` };
  }
  let first: CallDecision | undefined;
  for (const part of [request, ...(request.onBehalf ?? [])]) {
    for (const resource of part.resources) {
      const resourcePolicy = part.resourcePolicy ? policies(part.resourcePolicy, resource) : undefined;
      if (part.resourcePolicy === 'role-trust' && !resourcePolicy && principal.kind === 'role') {
        // Every role has a trust policy in AWS; one we were not given trusts no one.
        return { action: part.action, resource, decision: 'denied', reason: 'no-resource-allow', explanation: `no trust policy is known for ${resource}` };
      }
      const decision = await evaluate({
        principal,
        action: part.action,
        resource,
        resourceAccountId: part.resourceAccountId,
        context: part.context,
        ...(resourcePolicy ? { resourcePolicy } : {}),
      });
      const call = { action: part.action, resource, ...decision };
      if (decision.decision === 'denied') return call;
      first ??= call;
    }
  }
  return first!;
}
