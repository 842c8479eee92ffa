// The judge on the local endpoint's request path: authenticate the signature,
// then decide the call with the caller's identity policies and the resource's
// policy before the service runs it, record the decision, and refuse in the
// service's format what AWS would refuse (CERTPIPE_IAM=enforce, the default).
import { jsonResponse } from '../protocol.js';
import type { StsService } from '../services/sts/service.js';
import { AwsError, type LocalStore, type ServiceRequest, type ServiceResponse } from '../types.js';
import { authenticate, principalOf, type Caller } from './credentials.js';
import { DecisionLog, iamReport } from './decisions.js';
import { denial } from './denial.js';
import { authorize, type CallDecision, type NamedPolicy, type PolicyDocument, type ResourcePolicies } from './evaluate.js';
import { refuses, type IamMode } from './mode.js';
import { authorizationRequest, UnmappedOperation, type AuthorizationRequest, type OperationInput, type RequestScope } from './operations.js';
import { operationInput } from './request-input.js';
import type { SignedClaim, WireRequest } from './sigv4.js';
import { storedResources } from './stored-resources.js';

/**
 * Stands in for the policies of a role registered in the short form, without
 * them (see RoleRecord.policies): its calls are allowed and cited as
 * `local:undeclared-role-policies#0`; trust and resource policies still apply.
 */
export const UNDECLARED_ROLE_POLICIES = 'local:undeclared-role-policies';
const UNDECLARED: NamedPolicy = {
  name: UNDECLARED_ROLE_POLICIES,
  document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
};

interface StoredResourcePolicy {
  readonly arn: string;
  readonly kind: 'secret' | 'kms-key';
  readonly document: PolicyDocument;
}

const ROLE_ARN = /^arn:aws[\w-]*:iam::\d{12}:role\/.+$/;

/** A role's session as a service holds it: Step Functions assumes the execution role under a session name of its own. */
export interface RoleSession {
  readonly roleArn: string;
  readonly sessionName: string;
}

const accountOfRole = (roleArn: string) => roleArn.split(':')[4] ?? '';

/** `arn:aws:sts::<account>:assumed-role/<role name>/<session>`: the path of a role ARN is not part of it. */
function sessionArn({ roleArn, sessionName }: RoleSession): string {
  const partition = roleArn.split(':')[1] ?? 'aws';
  const name = roleArn.slice(roleArn.lastIndexOf('/') + 1);
  return `arn:${partition}:sts::${accountOfRole(roleArn)}:assumed-role/${name}/${sessionName}`;
}

const POLICY_NAMES = { secret: 'secret-policy', 'kms-key': 'key-policy' } as const;

export interface IamGateOptions {
  readonly mode: IamMode;
  readonly store: LocalStore;
  readonly sts: () => StsService;
}

export class IamGate {
  readonly decisions = new DecisionLog();
  private readonly resourcePolicies: ReturnType<LocalStore['collection']>;

  constructor(private readonly options: IamGateOptions) {
    this.resourcePolicies = options.store.collection<StoredResourcePolicy>('iam/resource-policies');
    this.resourcePolicies.catch(() => undefined);
  }

  get mode(): IamMode {
    return this.options.mode;
  }

  /** The caller of a signed request; throws the AwsError AWS would answer for bad credentials. */
  async authenticate(claim: SignedClaim, request: WireRequest, now: Date): Promise<Caller> {
    const session = claim.accessKeyId.startsWith('ASIA') ? await this.options.sts().session(claim.accessKeyId) : undefined;
    return authenticate(claim, request, session, now);
  }

  /** Throws the service's AccessDenied when the call is refused and the mode enforces. */
  async check(caller: Caller, service: string, operation: string, req: ServiceRequest, scope: RequestScope, now: Date): Promise<void> {
    if (this.options.mode === 'off') return;
    await this.judge(caller, service, operation, operationInput(service, operation, req), scope, now);
  }

  /**
   * A call a service makes with a role's credentials on its own (Step Functions
   * as the state machine's execution role: a Task's Lambda invoke, a map run's
   * child executions, its ItemReader and ResultWriter), judged, recorded and
   * refused like a request to the endpoint: throws the service's AccessDenied.
   */
  async checkAsRole(role: RoleSession, service: string, operation: string, input: OperationInput, scope: RequestScope, now: Date): Promise<void> {
    if (this.options.mode === 'off') return;
    const caller: Caller = { kind: 'session', accountId: accountOfRole(role.roleArn), arn: sessionArn(role), roleArn: role.roleArn, sessionName: role.sessionName };
    await this.judge(caller, service, operation, input, scope, now);
  }

  private async judge(caller: Caller, service: string, operation: string, input: OperationInput, scope: RequestScope, now: Date): Promise<void> {
    const decision = await this.decide(caller, service, operation, input, scope);
    if (!decision) return;
    this.decisions.record({
      time: now.toISOString(),
      principal: caller.arn,
      action: decision.action,
      resource: decision.resource,
      decision: decision.decision,
      ...(decision.statement ? { statement: decision.statement } : {}),
    });
    if (refuses(this.options.mode, decision.decision)) {
      const refusal = denial(service, caller.arn, decision.action, decision.resource, decision.reason);
      throw new AwsError(refusal.code, refusal.message, refusal.status);
    }
  }

  /** Undefined when the request is malformed in a way the service refuses before IAM is asked (STS validates RoleArn first). */
  private async decide(caller: Caller, service: string, operation: string, input: OperationInput, scope: RequestScope): Promise<CallDecision | undefined> {
    const resources = await storedResources(this.options.store, service, input.protocol === 'json' ? input.body : {}, scope);
    let request: AuthorizationRequest;
    try {
      request = withoutUnresolvedAliases(authorizationRequest(service, operation, input, scope, resources));
    } catch (err) {
      if (err instanceof UnmappedOperation) throw new AwsError('InternalFailure', err.message, 500);
      throw err;
    }
    if (request.resourcePolicy === 'role-trust' && !request.resources.every((arn) => ROLE_ARN.test(arn))) return undefined;
    const sts = this.options.sts();
    const role = caller.kind === 'session' ? await sts.role(caller.roleArn) : undefined;
    // A role this cloud has no record of has no policies: it may do nothing.
    const principal = principalOf(caller, role ? (role.policies ?? [UNDECLARED]) : []);
    const trusts = new Map<string, NamedPolicy>();
    if (request.resourcePolicy === 'role-trust') {
      for (const arn of request.resources) {
        const target = await sts.role(arn);
        if (target) trusts.set(arn, { name: 'trust', document: sts.trustPolicyOf(target) });
      }
    }
    const stored = await this.resourcePolicies;
    const policies: ResourcePolicies = (kind, arn) => {
      if (kind === 'role-trust') return trusts.get(arn);
      const found = stored.get(arn) as StoredResourcePolicy | undefined;
      return found && found.kind === kind ? { name: POLICY_NAMES[kind], document: found.document } : undefined;
    };
    return authorize(principal, request, policies);
  }

  /** `/_certpipe/iam/*` routes: decisions, the per-role report, resource policies. */
  routes(): Record<string, (req: ServiceRequest) => Promise<ServiceResponse>> {
    return {
      'GET /_certpipe/iam': async () => jsonResponse(200, { mode: this.options.mode }),
      'GET /_certpipe/iam/decisions': async () => jsonResponse(200, this.decisions.toJSON()),
      'DELETE /_certpipe/iam/decisions': async () => {
        const cleared = this.decisions.list().length;
        this.decisions.clear();
        return jsonResponse(200, { cleared });
      },
      'GET /_certpipe/iam/report': async () => {
        const roles = await this.options.sts().roles();
        const policies = Object.fromEntries(roles.map((r) => [r.roleArn, r.policies ?? []]));
        return jsonResponse(200, { mode: this.options.mode, roles: iamReport(this.decisions.list(), policies) });
      },
      'POST /_certpipe/iam/resource-policies': async (req) => {
        let records: StoredResourcePolicy[];
        try {
          const body = JSON.parse(req.body.toString('utf8') || '{}') as unknown;
          records = (Array.isArray(body) ? body : [body]).map(parseResourcePolicy);
        } catch (err) {
          return jsonResponse(400, { error: (err as Error).message });
        }
        const stored = await this.resourcePolicies;
        for (const record of records) await stored.put(record.arn, record);
        return jsonResponse(201, { policies: records });
      },
    };
  }
}

/**
 * KMS authorizes on the key, never the alias; with no local KMS record the key
 * behind an alias is unknown, so that on-behalf call is not judged (the
 * secret's own action still is).
 */
function withoutUnresolvedAliases(request: AuthorizationRequest): AuthorizationRequest {
  if (!request.onBehalf?.length) return request;
  return { ...request, onBehalf: request.onBehalf.filter((part) => !part.resources.some((arn) => /^arn:[^:]+:kms:[^:]*:\d{12}:alias\//.test(arn))) };
}

function parseResourcePolicy(raw: unknown): StoredResourcePolicy {
  const { arn, kind, document } = (raw ?? {}) as Record<string, unknown>;
  if (typeof arn !== 'string' || !arn.startsWith('arn:')) throw new Error('"arn" must be the ARN of the key or secret');
  if (kind !== 'secret' && kind !== 'kms-key') throw new Error('"kind" must be "secret" or "kms-key"');
  if (typeof document !== 'object' || document === null || !('Statement' in document)) throw new Error('"document" must be a policy document with a Statement');
  return { arn, kind, document: document as PolicyDocument };
}
