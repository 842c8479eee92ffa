// AWS SDK clients, created once per process and per (account, region), and the
// cross-account credentials the publisher gets by assuming a target's role with
// its ExternalId. The endpoint comes from the SDK's own AWS_ENDPOINT_URL unless a
// caller (a test) passes one, so the same code talks to AWS or the local cloud.
import { ACMClient } from '@aws-sdk/client-acm';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { Route53Client } from '@aws-sdk/client-route-53';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { AwsTransient } from './errors.js';

/** What every client shares; empty on Lambda (the SDK reads the environment). */
export interface AwsBaseConfig {
  readonly region?: string;
  readonly endpoint?: string;
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Attempts for every client but Route 53 (which always gets enough for PriorRequestNotComplete). */
  readonly maxAttempts?: number;
}

/** Where a publish target lives: a region, and a role to assume when it is another account. */
export interface TargetLocation {
  readonly region: string;
  readonly roleArn?: string;
  readonly externalId?: string;
}

export interface TargetClients {
  readonly accountId: string;
  readonly region: string;
  readonly secretsManager: SecretsManagerClient;
  readonly acm: ACMClient;
}

// Route 53 answers PriorRequestNotComplete while a change to the same name is in
// flight and throttles at 5 requests/s per account: adaptive retry with room.
const ROUTE53_MAX_ATTEMPTS = 8;
// Refresh assumed-role credentials this long before they expire.
const CREDENTIAL_MARGIN_MS = 5 * 60_000;
const ASSUMED_ROLE_SECONDS = 3600;

interface CachedCredentials {
  identity: AwsCredentialIdentity;
  expiresAt: number;
}

export class AwsClients {
  private readonly clients = new Map<string, unknown>();
  private readonly assumed = new Map<string, Promise<CachedCredentials>>();
  private callerAccount?: Promise<string>;

  constructor(
    private readonly base: AwsBaseConfig = {},
    private readonly now: () => Date = () => new Date(),
  ) {}

  get defaultRegion(): string {
    return this.base.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  }

  secretsManager(region = this.defaultRegion): SecretsManagerClient {
    return this.cached(`sm:${region}`, () => new SecretsManagerClient(this.config(region)));
  }

  acm(region = this.defaultRegion): ACMClient {
    return this.cached(`acm:${region}`, () => new ACMClient(this.config(region)));
  }

  /** Route 53 is global; its API lives in us-east-1. */
  route53(): Route53Client {
    return this.cached('route53', () => {
      const config = this.config('us-east-1');
      return new Route53Client({
        ...config,
        retryMode: 'adaptive',
        maxAttempts: Math.max(config.maxAttempts ?? 0, ROUTE53_MAX_ATTEMPTS),
      });
    });
  }

  sts(region = this.defaultRegion): STSClient {
    return this.cached(`sts:${region}`, () => new STSClient(this.config(region)));
  }

  eventBridge(region = this.defaultRegion): EventBridgeClient {
    return this.cached(`events:${region}`, () => new EventBridgeClient(this.config(region)));
  }


  /** The pipeline's own account (GetCallerIdentity, once). */
  accountId(): Promise<string> {
    this.callerAccount ??= this.sts()
      .send(new GetCallerIdentityCommand({}))
      .then((r) => {
        if (!r.Account) throw new Error('STS GetCallerIdentity returned no account');
        return r.Account;
      })
      .catch((err: unknown) => {
        this.callerAccount = undefined;
        throw asAwsError(err, 'STS GetCallerIdentity');
      });
    return this.callerAccount;
  }

  /**
   * Clients for a publish target: this account's when it names no role, otherwise
   * clients signed with the role's temporary credentials (assumed with the
   * target's ExternalId, cached until shortly before they expire).
   */
  async clientsFor(target: TargetLocation): Promise<TargetClients> {
    if (!target.roleArn) {
      return {
        accountId: await this.accountId(),
        region: target.region,
        secretsManager: this.secretsManager(target.region),
        acm: this.acm(target.region),
      };
    }
    const roleArn = target.roleArn;
    const accountId = accountOfRoleArn(roleArn);
    const credentials: AwsCredentialIdentityProvider = async () => (await this.assumeRole(roleArn, target.externalId)).identity;
    const key = `role:${roleArn}:${target.externalId ?? ''}:${target.region}`;
    const config = { ...this.config(target.region), credentials };
    return this.cached(key, () => ({
      accountId,
      region: target.region,
      secretsManager: new SecretsManagerClient(config),
      acm: new ACMClient(config),
    }));
  }

  private assumeRole(roleArn: string, externalId: string | undefined): Promise<CachedCredentials> {
    const key = `${roleArn}\n${externalId ?? ''}`;
    const existing = this.assumed.get(key);
    if (existing) {
      return existing.then((c) => (c.expiresAt - CREDENTIAL_MARGIN_MS > this.now().getTime() ? c : this.refresh(key, roleArn, externalId)));
    }
    return this.refresh(key, roleArn, externalId);
  }

  private refresh(key: string, roleArn: string, externalId: string | undefined): Promise<CachedCredentials> {
    const pending = this.sts()
      .send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          ExternalId: externalId,
          RoleSessionName: 'certpipe-publish',
          DurationSeconds: ASSUMED_ROLE_SECONDS,
        }),
      )
      .then((r): CachedCredentials => {
        const c = r.Credentials;
        if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error(`STS AssumeRole ${roleArn} returned no credentials`);
        const expiration = c.Expiration ?? new Date(this.now().getTime() + ASSUMED_ROLE_SECONDS * 1000);
        return {
          identity: {
            accessKeyId: c.AccessKeyId,
            secretAccessKey: c.SecretAccessKey,
            sessionToken: c.SessionToken,
            expiration,
          },
          expiresAt: expiration.getTime(),
        };
      })
      .catch((err: unknown) => {
        this.assumed.delete(key);
        throw asAwsError(err, `STS AssumeRole ${roleArn}`);
      });
    this.assumed.set(key, pending);
    return pending;
  }

  private config(region: string) {
    return {
      region,
      ...(this.base.endpoint ? { endpoint: this.base.endpoint } : {}),
      ...(this.base.credentials ? { credentials: this.base.credentials } : {}),
      ...(this.base.maxAttempts ? { maxAttempts: this.base.maxAttempts } : {}),
    };
  }

  private cached<T>(key: string, create: () => T): T {
    let client = this.clients.get(key) as T | undefined;
    if (!client) {
      client = create();
      this.clients.set(key, client);
    }
    return client;
  }
}

/** `arn:aws:iam::123456789012:role/name` → `123456789012`. */
export function accountOfRoleArn(roleArn: string): string {
  const account = roleArn.split(':')[4];
  if (!account || !/^\d{12}$/.test(account)) throw new Error(`"${roleArn}" is not an IAM role ARN with an account id`);
  return account;
}

/** The process-wide clients a Lambda handler uses (module scope: reused across warm invocations). */
let shared: AwsClients | undefined;
export function awsClients(): AwsClients {
  shared ??= new AwsClients();
  return shared;
}

/** The AWS error code of an SDK exception (its `name`). */
export function awsErrorName(err: unknown): string | undefined {
  const name = (err as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name : undefined;
}

const TRANSIENT_NAMES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'PriorRequestNotComplete',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalFailure',
  'InternalServiceError',
  'InternalServiceErrorException',
  'InternalError',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
]);

/** Throttling, 5xx and network failures: worth retrying later. */
export function isTransientAwsError(err: unknown): boolean {
  const name = awsErrorName(err);
  if (name && TRANSIENT_NAMES.has(name)) return true;
  const status = (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  if (typeof status === 'number' && status >= 500) return true;
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN'].includes(code);
}

/** What survives the SDK's retries: transient failures become AwsTransient, the rest pass unchanged. */
export function asAwsError(err: unknown, what: string): unknown {
  if (isTransientAwsError(err)) {
    return new AwsTransient(`${what}: ${awsErrorName(err) ?? 'error'}: ${(err as Error).message}`, { cause: err });
  }
  return err;
}
