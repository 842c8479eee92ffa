// Contract between the local AWS endpoint's core (server, store, faults, protocols)
// and the service modules under local/aws/services/. A service module exports a
// factory `(cloud: LocalCloud) => LocalService`.
import type { IncomingHttpHeaders } from 'node:http';
import type { IamGate } from './iam/gate.js';

/** Who is calling and where: derived from the SigV4 Authorization header. */
export interface CallContext {
  /** SigV4 signing name from the credential scope: route53, secretsmanager, acm, sts, events, monitoring, states. */
  readonly service: string;
  /** Operation name, e.g. `PutSecretValue`, as returned by the service's `operationOf`. */
  readonly operation: string;
  /** Account of the authenticated caller (12-digit key id = that account's root; a temporary key = its role's account; other keys are refused). */
  readonly accountId: string;
  /** Region from the SigV4 credential scope. */
  readonly region: string;
  readonly accessKeyId: string;
  readonly requestId: string;
  readonly now: Date;
}

export interface ServiceRequest {
  readonly method: string;
  /** Path without the query string, percent-decoding left to the service. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface ServiceResponse {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
}

/** An AWS error as the service would send it. `code` is the AWS error code / exception shape name. */
export class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    /** `Sender` (client fault) or `Receiver` (server fault), used by the XML protocols. */
    readonly faultType: 'Sender' | 'Receiver' = status >= 500 ? 'Receiver' : 'Sender',
    /** Extra members serialised beside code and message (JSON protocols), e.g. for InvalidChangeBatch messages. */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = code;
  }
}

export interface LocalService {
  /** SigV4 signing name this module answers for. */
  readonly signingName: string;
  /** The operation a request is for (used for fault injection and logs); undefined when unknown. */
  operationOf(req: ServiceRequest): string | undefined;
  handle(req: ServiceRequest, ctx: CallContext): Promise<ServiceResponse>;
  /** Render an AwsError in this service's wire protocol. */
  renderError(err: AwsError, ctx: CallContext): ServiceResponse;
  /**
   * Local-only HTTP routes under `/_certpipe/` (not AWS APIs, not signed), keyed by
   * `"METHOD /_certpipe/path"`, e.g. `"GET /_certpipe/events"` to read back stored events.
   */
  readonly internalRoutes?: Record<string, (req: ServiceRequest) => Promise<ServiceResponse>>;
  /** Called once when the endpoint stops (stop timers, workers). */
  close?(): Promise<void>;
}

/**
 * One persisted collection of resources. Each resource is its own file, written
 * with write-then-rename, so a write costs the same whatever the collection size
 * and a crash never leaves a half-written resource. Reads are served from memory.
 */
export interface Collection<T> {
  get(key: string): T | undefined;
  has(key: string): boolean;
  /** Persist `value` under `key` (durable when the promise resolves). Writes to one key are serialised. */
  put(key: string, value: T): Promise<void>;
  delete(key: string): Promise<boolean>;
  /** Delete every resource; resolves to how many there were. */
  clear(): Promise<number>;
  /** Keys in ascending (code point) order, for stable pagination. */
  keys(): string[];
  /** Keys >= `from` in ascending order, at most `limit` of them (index for pagination). */
  keysFrom(from: string | undefined, limit: number): string[];
  readonly size: number;
}

export interface LocalStore {
  /** Open (load from disk on first use) a collection, e.g. `secretsmanager/000000000000/us-east-1/secrets`. */
  collection<T>(name: string): Promise<Collection<T>>;
}

/** Knobs that shape timing; tests and the fault API change them at run time. */
export interface LocalSettings {
  /** Route 53 change stays PENDING this long before INSYNC (ms). */
  insyncDelayMs: number;
  /** After INSYNC, a change becomes visible in the local DNS server only after this further delay (ms). */
  dnsLagMs: number;
  /** Names whose TXT records the DNS server must never show (simulates a record that never propagates). Lower-case FQDN without trailing dot. */
  dnsHiddenNames: string[];
  /** Default account for keys that are not 12 digits (LocalStack's convention). */
  defaultAccountId: string;
  /** Nameserver host name put in delegation sets and NS/SOA records. */
  nameserver: string;
  /** Route 53 requests per second per account, as AWS enforces (Throttling beyond); 0 = no limit. */
  route53RequestsPerSecond: number;
}

export interface AccountResolver {
  /** Account for an access key id (temporary keys issued by AssumeRole resolve to the role's account). */
  accountOf(accessKeyId: string): string;
  /** Record a temporary access key issued by STS AssumeRole. */
  registerTemporaryKey(accessKeyId: string, accountId: string, expiresAt: Date): Promise<void>;
}

/** What every service module receives. */
export interface LocalCloud {
  readonly store: LocalStore;
  readonly settings: LocalSettings;
  readonly accounts: AccountResolver;
  /** Clock; services never call `new Date()` directly, so tests can reason about time. */
  now(): Date;
  /** Where functions reach this endpoint: the Host of the latest request, so callers on any name or port are answered alike. */
  endpointUrl(): string;
  /** Other service modules by signing name (e.g. the DNS server reads route53's zones). */
  service<T extends LocalService>(signingName: string): T;
  /** The IAM judge, for calls a service makes as a role on its own (Step Functions as a state machine's execution role). */
  readonly iam: Pick<IamGate, 'checkAsRole'>;
}

export type ServiceFactory = (cloud: LocalCloud) => LocalService;
