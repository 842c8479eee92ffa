// AWS SDK clients, created once per process, and how AWS errors are classified.
// The endpoint comes from the SDK's own AWS_ENDPOINT_URL unless a caller (a test)
// passes one, so the same code talks to AWS or the local cloud. Cross-account
// clients for publish targets live in targets.ts, Route 53's in dns/route53.ts.
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { AwsTransient } from './workflow/errors.js';

/** What every client shares; empty on Lambda (the SDK reads the environment). */
export interface AwsBaseConfig {
  readonly region?: string;
  readonly endpoint?: string;
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Attempts for every client but Route 53 (which always gets enough for PriorRequestNotComplete). */
  readonly maxAttempts?: number;
}

/** Any AWS SDK v3 client class. */
export type ClientClass<C> = new (config: Record<string, unknown>) => C;

/**
 * SDK clients created once per process, per class, region and options. The
 * class is the caller's import, so a function bundles only the clients it uses.
 */
export class AwsClients {
  private readonly clients = new Map<ClientClass<unknown>, Map<string, unknown>>();

  constructor(private readonly base: AwsBaseConfig = {}) {}

  get defaultRegion(): string {
    return this.base.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  }

  /** The client of `Client` for `region`; `options` are merged into its config (keyed by their JSON). */
  client<C>(Client: ClientClass<C>, region = this.defaultRegion, options: Record<string, unknown> = {}): C {
    let byConfig = this.clients.get(Client) as Map<string, C> | undefined;
    if (!byConfig) {
      byConfig = new Map();
      this.clients.set(Client, byConfig);
    }
    const key = `${region}\n${JSON.stringify(options)}`;
    let client = byConfig.get(key);
    if (!client) {
      client = new Client({ ...this.config(region), ...options });
      byConfig.set(key, client);
    }
    return client;
  }

  secretsManager(region = this.defaultRegion): SecretsManagerClient {
    return this.client(SecretsManagerClient, region);
  }

  /** The base config for `region` (endpoint, credentials, attempts), for clients built elsewhere. */
  config(region: string): { region: string; endpoint?: string; credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider; maxAttempts?: number } {
    return {
      region,
      ...(this.base.endpoint ? { endpoint: this.base.endpoint } : {}),
      ...(this.base.credentials ? { credentials: this.base.credentials } : {}),
      ...(this.base.maxAttempts ? { maxAttempts: this.base.maxAttempts } : {}),
    };
  }
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
