// Local STS (AWS Query protocol): GetCallerIdentity and AssumeRole, and the
// local cloud's record of roles and of the temporary credentials it issued. A
// role's account becomes the account of its credentials, so cross-account flows
// run for real against the local endpoint.
//
// Roles are registered through `POST /_certpipe/iam/roles` with their trust
// policy and identity policies (the local deploy registers the synthesized
// ones). Whether a caller may assume a role is decided by the IAM judge on the
// request path (local/aws/iam/), with the role's trust policy, before this
// service runs; the short form `{ roleArn, externalId }` stands for a trust
// policy that lets any principal of the pipeline account in with that ExternalId.
import { createHash, randomBytes } from 'node:crypto';
import type { NamedPolicy, PolicyDocument } from '../../iam/evaluate.js';
import { queryService, xmlEscape, jsonResponse } from '../../protocol.js';
import {
  AwsError,
  type CallContext,
  type Collection,
  type LocalCloud,
  type LocalService,
  type ServiceFactory,
  type ServiceRequest,
  type ServiceResponse,
} from '../../types.js';

const XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';
const ROLE_ARN = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;
const DEFAULT_DURATION_S = 3600;
/** AWS's default MaxSessionDuration for a role, and the cap for role chaining. */
const DEFAULT_MAX_SESSION_S = 3600;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** A role as registered: its trust policy and identity policies. */
export interface RoleRecord {
  readonly roleArn: string;
  /** Short form of a trust policy: AssumeRole must present exactly this ExternalId. */
  readonly externalId?: string;
  /** The role's MaxSessionDuration (seconds, 3600 to 43200). Default 3600, as in IAM. */
  readonly maxSessionDurationSeconds?: number;
  /** The AssumeRolePolicyDocument. Absent: built from `externalId` (any principal of the pipeline account). */
  readonly trustPolicy?: PolicyDocument;
  /**
   * Inline and attached identity policies. Absent (a role registered in the short
   * form, before the local deploy registered synthesized roles): its sessions'
   * calls are allowed and recorded as `local:undeclared-role-policies`, so the
   * report shows them. `[]` allows nothing.
   */
  readonly policies?: readonly NamedPolicy[];
}

/** Who holds a temporary key issued by AssumeRole, and what signs its requests. */
export interface SessionRecord {
  readonly accountId: string;
  readonly roleArn: string;
  readonly roleName: string;
  readonly sessionName: string;
  readonly expiresAt: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

/** Temporary credentials of a role, as AssumeRole and Lambda hand them out. */
export interface IssuedCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
}

export interface StsService extends LocalService {
  /** The caller's ARN: the assumed-role ARN for a temporary key, else the account's root. */
  callerArn(accessKeyId: string, accountId: string): Promise<string>;
  /** The session a temporary key belongs to (expired ones included), if this cloud issued it. */
  session(accessKeyId: string): Promise<SessionRecord | undefined>;
  role(roleArn: string): Promise<RoleRecord | undefined>;
  roles(): Promise<RoleRecord[]>;
  /** The trust policy AssumeRole is judged by: the registered one, or the short form's. */
  trustPolicyOf(role: RoleRecord): PolicyDocument;
  /** Credentials of the role for `durationSeconds`, as the Lambda service gets them for a function's role. */
  issue(roleArn: string, sessionName: string, durationSeconds: number, now: Date): Promise<IssuedCredentials>;
}

const stsError = (code: string, message: string, status = 400) => new AwsError(code, message, status);
const validation = (member: string, value: string | null, constraint: string) =>
  stsError(
    'ValidationError',
    `1 validation error detected: Value ${value === null ? 'null' : `'${value}'`} at '${member}' failed to satisfy constraint: ${constraint}`,
  );

function base32Id(bytes: Buffer, length: number): string {
  let id = '';
  for (let i = 0; i < length; i++) id += BASE32[bytes[i % bytes.length]! % 32];
  return id;
}

/** IAM role ids are stable per role: derive one from the ARN. */
function roleIdOf(roleArn: string): string {
  return `AROA${base32Id(createHash('sha256').update(roleArn).digest(), 17)}`;
}

const isPolicy = (d: unknown): d is PolicyDocument =>
  typeof d === 'object' && d !== null && typeof (d as { Statement?: unknown }).Statement === 'object' && (d as { Statement?: unknown }).Statement !== null;

function parsePolicies(raw: unknown): NamedPolicy[] {
  if (!Array.isArray(raw)) throw new Error('"policies" must be a list of { name, document }');
  return raw.map((p: unknown, i) => {
    const { name, document } = (p ?? {}) as Record<string, unknown>;
    if (typeof name !== 'string' || !name) throw new Error(`"policies[${i}].name" must be the policy's name`);
    if (!isPolicy(document)) throw new Error(`"policies[${i}].document" must be a policy document with a Statement`);
    return { name, document };
  });
}

function parseRole(raw: unknown): RoleRecord {
  const { roleArn, externalId, maxSessionDurationSeconds, trustPolicy, policies } = (raw ?? {}) as Record<string, unknown>;
  if (typeof roleArn !== 'string' || !ROLE_ARN.test(roleArn)) {
    throw new Error('"roleArn" must be a role ARN such as arn:aws:iam::111111111111:role/certpipe-publisher');
  }
  if (externalId !== undefined && (typeof externalId !== 'string' || !EXTERNAL_ID.test(externalId))) {
    throw new Error('"externalId" must be 2 to 1224 characters of [A-Za-z0-9+=,.@:/_-]');
  }
  if (
    maxSessionDurationSeconds !== undefined &&
    (typeof maxSessionDurationSeconds !== 'number' ||
      !Number.isInteger(maxSessionDurationSeconds) ||
      maxSessionDurationSeconds < 3600 ||
      maxSessionDurationSeconds > 43_200)
  ) {
    throw new Error('"maxSessionDurationSeconds" must be an integer from 3600 to 43200');
  }
  if (trustPolicy !== undefined && !isPolicy(trustPolicy)) throw new Error('"trustPolicy" must be a policy document with a Statement');
  return {
    roleArn,
    ...(externalId !== undefined ? { externalId } : {}),
    ...(maxSessionDurationSeconds !== undefined ? { maxSessionDurationSeconds } : {}),
    ...(trustPolicy !== undefined ? { trustPolicy } : {}),
    ...(policies !== undefined ? { policies: parsePolicies(policies) } : {}),
  };
}

class Sts {
  readonly roles: Promise<Collection<RoleRecord>>;
  readonly sessions: Promise<Collection<SessionRecord>>;

  constructor(private readonly cloud: LocalCloud) {
    this.roles = cloud.store.collection<RoleRecord>('sts/roles');
    this.sessions = cloud.store.collection<SessionRecord>('sts/sessions');
    // Keep a failed load from surfacing as an unhandled rejection; callers see it when they await.
    this.roles.catch(() => undefined);
    this.sessions.then((sessions) => this.forgetOldSessions(sessions)).catch(() => undefined);
  }

  /** Sessions that expired over a day ago are of no further use; keep the data directory from growing forever. */
  private async forgetOldSessions(sessions: Collection<SessionRecord>): Promise<void> {
    const cutoff = this.cloud.now().getTime() - 86_400_000;
    const old = sessions.keys().filter((key) => Date.parse(sessions.get(key)?.expiresAt ?? '') < cutoff);
    await Promise.all(old.map((key) => sessions.delete(key)));
  }

  async callerArn(accessKeyId: string, accountId: string): Promise<string> {
    const session = (await this.sessions).get(accessKeyId);
    if (session) return `arn:aws:sts::${session.accountId}:assumed-role/${session.roleName}/${session.sessionName}`;
    return `arn:aws:iam::${accountId}:root`;
  }

  async getCallerIdentity(ctx: CallContext): Promise<string> {
    const session = (await this.sessions).get(ctx.accessKeyId);
    if (session && Date.parse(session.expiresAt) <= ctx.now.getTime()) {
      throw stsError('ExpiredTokenException', 'The security token included in the request is expired');
    }
    const arn = await this.callerArn(ctx.accessKeyId, ctx.accountId);
    const userId = session ? `${roleIdOf(session.roleArn)}:${session.sessionName}` : ctx.accountId;
    return `<Arn>${xmlEscape(arn)}</Arn><UserId>${xmlEscape(userId)}</UserId><Account>${ctx.accountId}</Account>`;
  }

  async assumeRole(params: URLSearchParams, ctx: CallContext): Promise<string> {
    const roleArn = params.get('RoleArn');
    const sessionName = params.get('RoleSessionName');
    const externalId = params.get('ExternalId');
    const durationParam = params.get('DurationSeconds');
    if (roleArn === null) throw validation('roleArn', null, 'Member must not be null');
    if (sessionName === null) throw validation('roleSessionName', null, 'Member must not be null');
    const role = ROLE_ARN.exec(roleArn);
    if (!role) throw stsError('ValidationError', `${roleArn} is invalid: RoleArn must be the ARN of an IAM role`);
    if (!SESSION_NAME.test(sessionName)) {
      throw validation('roleSessionName', sessionName, 'Member must satisfy regular expression pattern: [\\w+=,.@-]{2,64}');
    }
    if (externalId !== null && !EXTERNAL_ID.test(externalId)) {
      throw validation('externalId', externalId, 'Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]{2,1224}');
    }
    const duration = durationParam === null ? DEFAULT_DURATION_S : Number(durationParam);
    if (!Number.isInteger(duration) || duration < 900 || duration > 43_200) {
      throw validation('durationSeconds', durationParam, 'Member must have value between 900 and 43200');
    }

    const [sessions, roles] = await Promise.all([this.sessions, this.roles]);
    // The trust policy (ExternalId, principal) was judged on the request path before this runs.
    const registered = roles.get(roleArn);
    if (sessions.has(ctx.accessKeyId) && duration > DEFAULT_MAX_SESSION_S) {
      throw stsError('ValidationError', 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
    }
    if (duration > (registered?.maxSessionDurationSeconds ?? DEFAULT_MAX_SESSION_S)) {
      throw stsError('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
    }

    const { accessKeyId, secretAccessKey, sessionToken, expiration } = await this.issue(roleArn, sessionName, duration, ctx.now);
    const assumedArn = `arn:aws:sts::${role[2]!}:assumed-role/${role[3]!}/${sessionName}`;
    return (
      `<Credentials><AccessKeyId>${accessKeyId}</AccessKeyId>` +
      `<SecretAccessKey>${xmlEscape(secretAccessKey)}</SecretAccessKey>` +
      `<SessionToken>${xmlEscape(sessionToken)}</SessionToken>` +
      `<Expiration>${expiration.toISOString()}</Expiration></Credentials>` +
      `<AssumedRoleUser><AssumedRoleId>${roleIdOf(roleArn)}:${xmlEscape(sessionName)}</AssumedRoleId>` +
      `<Arn>${xmlEscape(assumedArn)}</Arn></AssumedRoleUser>`
    );
  }

  async issue(roleArn: string, sessionName: string, durationSeconds: number, now: Date): Promise<IssuedCredentials> {
    const role = ROLE_ARN.exec(roleArn);
    if (!role) throw new Error(`${roleArn} is not a role ARN`);
    const accountId = role[2]!;
    const accessKeyId = `ASIA${base32Id(randomBytes(16), 16)}`;
    const secretAccessKey = randomBytes(30).toString('base64');
    const sessionToken = randomBytes(96).toString('base64');
    const expiration = new Date(now.getTime() + durationSeconds * 1000);
    const record: SessionRecord = { accountId, roleArn, roleName: role[3]!, sessionName, expiresAt: expiration.toISOString(), secretAccessKey, sessionToken };
    await (await this.sessions).put(accessKeyId, record);
    await this.cloud.accounts.registerTemporaryKey(accessKeyId, accountId, expiration);
    return { accessKeyId, secretAccessKey, sessionToken, expiration };
  }

  trustPolicyOf(role: RoleRecord): PolicyDocument {
    if (role.trustPolicy) return role.trustPolicy;
    const pipeline = this.cloud.settings.defaultAccountId;
    return {
      Version: '2012-10-17',
      Statement: [{
        Sid: role.externalId === undefined ? 'PipelineAccount' : 'PipelineAccountWithExternalId',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${pipeline}:root` },
        Action: 'sts:AssumeRole',
        ...(role.externalId === undefined ? {} : { Condition: { StringEquals: { 'sts:ExternalId': role.externalId } } }),
      }],
    };
  }

  async registerRoles(req: ServiceRequest): Promise<ServiceResponse> {
    let records: RoleRecord[];
    try {
      const body = JSON.parse(req.body.toString('utf8') || '{}');
      records = (Array.isArray(body) ? body : [body]).map(parseRole);
    } catch (err) {
      return jsonResponse(400, { error: (err as Error).message });
    }
    const roles = await this.roles;
    for (const record of records) await roles.put(record.roleArn, record);
    return jsonResponse(201, { roles: records });
  }

  async listRoles(): Promise<ServiceResponse> {
    const roles = await this.roles;
    return jsonResponse(200, { roles: roles.keys().map((key) => roles.get(key)) });
  }

  async deleteRole(req: ServiceRequest): Promise<ServiceResponse> {
    const roleArn = req.query.get('roleArn');
    if (!roleArn) return jsonResponse(400, { error: 'give the role to forget as ?roleArn=' });
    const deleted = await (await this.roles).delete(roleArn);
    return jsonResponse(deleted ? 200 : 404, deleted ? { deleted: roleArn } : { error: `no registered role ${roleArn}` });
  }
}

const sts: ServiceFactory = (cloud): StsService => {
  const impl = new Sts(cloud);
  const service = queryService({
    signingName: 'sts',
    xmlns: XMLNS,
    operations: {
      GetCallerIdentity: (_params, ctx) => impl.getCallerIdentity(ctx),
      AssumeRole: (params, ctx) => impl.assumeRole(params, ctx),
    },
  });
  return {
    ...service,
    callerArn: (accessKeyId, accountId) => impl.callerArn(accessKeyId, accountId),
    session: async (accessKeyId) => (await impl.sessions).get(accessKeyId),
    role: async (roleArn) => (await impl.roles).get(roleArn),
    roles: async () => {
      const roles = await impl.roles;
      return roles.keys().map((key) => roles.get(key)!);
    },
    trustPolicyOf: (role) => impl.trustPolicyOf(role),
    issue: (roleArn, sessionName, duration, now) => impl.issue(roleArn, sessionName, duration, now),
    internalRoutes: {
      'POST /_certpipe/iam/roles': (req) => impl.registerRoles(req),
      'GET /_certpipe/iam/roles': () => impl.listRoles(),
      'DELETE /_certpipe/iam/roles': (req) => impl.deleteRole(req),
    },
  };
};

export default sts;
