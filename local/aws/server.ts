// The local AWS endpoint: one HTTP server that speaks the wire protocols of the
// AWS calls certpipe makes. The SDK finds it through AWS_ENDPOINT_URL, so the
// function code does not know it is local.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultInjector } from './faults.js';
import type { Caller } from './iam/credentials.js';
import { IamGate } from './iam/gate.js';
import { parseIamMode, type IamMode } from './iam/mode.js';
import { readClaim } from './iam/sigv4.js';
import { jsonResponse } from './protocol.js';
import { acceptedHosts, bodyLimitOf, hostAllowed, isJsonContentType } from './request-guards.js';
import { loadServices } from './services/index.js';
import type { StsService } from './services/sts/service.js';
import { FileStore } from './store.js';
import {
  AwsError,
  type AccountResolver,
  type CallContext,
  type Collection,
  type LocalCloud,
  type LocalService,
  type LocalSettings,
  type ServiceRequest,
  type ServiceResponse,
} from './types.js';

export const DEFAULT_ACCOUNT_ID = '000000000000';

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

export const DEFAULT_SETTINGS: LocalSettings = {
  insyncDelayMs: 1000,
  dnsLagMs: 0,
  dnsHiddenNames: [],
  defaultAccountId: DEFAULT_ACCOUNT_ID,
  nameserver: 'ns1.certpipe.localhost',
  route53RequestsPerSecond: 5,
};

export interface LocalAwsOptions {
  /** 0 = an ephemeral port. Default 4566. */
  readonly port?: number;
  readonly host?: string;
  /** Where state persists. */
  readonly dataDir: string;
  readonly settings?: Partial<LocalSettings>;
  /** How IAM decisions apply. Default: CERTPIPE_IAM, else `enforce`. */
  readonly iamMode?: IamMode;
}

export interface LocalAws {
  readonly url: string;
  readonly port: number;
  readonly cloud: LocalCloud;
  readonly faults: FaultInjector;
  /** The IAM judge: its mode and recent decisions. */
  readonly iam: IamGate;
  /** Adds local-only `/_certpipe/` routes of a part started after the endpoint (the ACME front's knobs). */
  mountRoutes(routes: Record<string, (req: ServiceRequest) => Promise<ServiceResponse>>): void;
  close(): Promise<void>;
}

interface SigV4Scope {
  accessKeyId: string;
  region: string;
  service: string;
}

/** Reads the credential scope of a SigV4 request (header or presigned query); the signature is checked by the IAM gate. */
export function sigV4Scope(headers: IncomingMessage['headers'], query: URLSearchParams): SigV4Scope | undefined {
  const claim = readClaim(headers, query);
  return claim && { accessKeyId: claim.accessKeyId, region: claim.region, service: claim.service };
}

interface TemporaryKey {
  accountId: string;
  expiresAt: string;
}

class Accounts implements AccountResolver {
  constructor(
    private readonly keys: Collection<TemporaryKey>,
    private readonly settings: LocalSettings,
  ) {}

  accountOf(accessKeyId: string): string {
    if (/^\d{12}$/.test(accessKeyId)) return accessKeyId;
    return this.keys.get(accessKeyId)?.accountId ?? this.settings.defaultAccountId;
  }

  async registerTemporaryKey(accessKeyId: string, accountId: string, expiresAt: Date): Promise<void> {
    await this.keys.put(accessKeyId, { accountId, expiresAt: expiresAt.toISOString() });
  }
}

/**
 * The request body, or undefined when it is larger than `limit` bytes. An
 * oversized body is read to its end and dropped, so the client gets its answer
 * instead of a reset connection, and memory holds at most `limit` bytes.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
      else chunks.length = 0;
    });
    req.on('end', () => resolve(size <= limit ? Buffer.concat(chunks) : undefined));
    req.on('error', reject);
  });
}

const tooLarge = (limit: number) =>
  new AwsError('RequestEntityTooLarge', `Request body is larger than the ${limit} bytes this service accepts.`, 413);

function send(res: ServerResponse, response: ServiceResponse, requestId?: string): void {
  const headers: Record<string, string> = { ...(response.headers ?? {}) };
  if (requestId && !Object.keys(headers).some((h) => h.toLowerCase() === 'x-amzn-requestid')) {
    headers['x-amzn-RequestId'] = requestId;
  }
  res.writeHead(response.status, headers);
  res.end(response.body ?? '');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startLocalAws(options: LocalAwsOptions): Promise<LocalAws> {
  const settings: LocalSettings = { ...DEFAULT_SETTINGS, ...options.settings };
  const store = new FileStore(options.dataDir);
  const accounts = new Accounts(await store.collection<TemporaryKey>('sts/temporary-keys'), settings);
  const faults = new FaultInjector();
  const services = new Map<string, LocalService>();
  /** Learnt from each request's Host header; until the first, where the server listens. */
  let endpointUrl: string | undefined;

  // Before the cloud: services judge the calls they make as a role through it (STS is reached only once a call is judged).
  const iam = new IamGate({
    mode: options.iamMode ?? parseIamMode(process.env.CERTPIPE_IAM),
    store,
    sts: () => cloud.service<StsService>('sts'),
  });

  const cloud: LocalCloud = {
    store,
    settings,
    accounts,
    now: () => new Date(),
    endpointUrl: () => endpointUrl ?? `http://${listen.host}:${listen.port}`,
    service<T extends LocalService>(signingName: string): T {
      const service = services.get(signingName);
      if (!service) throw new Error(`The local endpoint has no ${signingName} service`);
      return service as T;
    },
    iam,
  };

  for (const factory of await loadServices()) {
    const service = factory(cloud);
    services.set(service.signingName, service);
  }

  const internalRoutes = new Map<string, (req: ServiceRequest) => Promise<ServiceResponse>>();
  internalRoutes.set('GET /_certpipe/health', async () =>
    jsonResponse(200, { status: 'ok', services: [...services.keys()].sort() }),
  );
  internalRoutes.set('GET /_certpipe/faults', async () => jsonResponse(200, { faults: faults.list() }));
  internalRoutes.set('POST /_certpipe/faults', async (req) => {
    try {
      const body = JSON.parse(req.body.toString('utf8') || '{}');
      const added = (Array.isArray(body) ? body : [body]).map((rule) => faults.add(rule));
      return jsonResponse(201, { faults: added });
    } catch (err) {
      return jsonResponse(400, { error: (err as Error).message });
    }
  });
  // The cleared rules come back with their hits, so a test can check that each fault fired.
  internalRoutes.set('DELETE /_certpipe/faults', async () => jsonResponse(200, { faults: [], cleared: faults.clear() }));
  internalRoutes.set('GET /_certpipe/settings', async () => jsonResponse(200, settings));
  internalRoutes.set('POST /_certpipe/settings', async (req) => {
    let patch: Partial<LocalSettings>;
    try {
      patch = JSON.parse(req.body.toString('utf8') || '{}');
    } catch {
      return jsonResponse(400, { error: 'settings must be a JSON object' });
    }
    for (const [key, value] of Object.entries(patch)) {
      if (!(key in settings)) return jsonResponse(400, { error: `unknown setting "${key}"` });
      const current = settings[key as keyof LocalSettings];
      if (typeof current !== typeof value || Array.isArray(current) !== Array.isArray(value)) {
        return jsonResponse(400, { error: `setting "${key}" must be of type ${Array.isArray(current) ? 'array' : typeof current}` });
      }
    }
    Object.assign(settings, patch);
    return jsonResponse(200, settings);
  });
  for (const service of services.values()) {
    for (const [route, handler] of Object.entries(service.internalRoutes ?? {})) internalRoutes.set(route, handler);
  }
  for (const [route, handler] of Object.entries(iam.routes())) internalRoutes.set(route, handler);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const request = (body: Buffer): ServiceRequest => ({ method, path: url.pathname, query: url.searchParams, headers: req.headers, body });

    if (!hostAllowed(req.headers.host, listen)) {
      await readBody(req, 0);
      const shown = JSON.stringify(String(req.headers.host ?? '').slice(0, 100));
      send(res, jsonResponse(421, { __type: 'MisdirectedRequest', message: `This endpoint answers as ${acceptedHosts(listen)}, not Host ${shown}: requests under other names are refused (DNS rebinding).` }));
      return;
    }
    if (req.headers.host) endpointUrl = `http://${req.headers.host}`;

    if (url.pathname.startsWith('/_certpipe/')) {
      const body = await readBody(req, bodyLimitOf('_certpipe'));
      if (!body) {
        send(res, jsonResponse(413, { error: tooLarge(bodyLimitOf('_certpipe')).message }));
        return;
      }
      // A browser sends text/plain or form posts cross-site without asking first; JSON it must ask for.
      if ((body.length > 0 || BODY_METHODS.has(method)) && !isJsonContentType(req.headers['content-type'])) {
        send(res, jsonResponse(415, { error: `${method} ${url.pathname} takes a body of Content-Type application/json (send -H 'content-type: application/json').` }));
        return;
      }
      const route = internalRoutes.get(`${method} ${url.pathname}`);
      send(res, route ? await route(request(body)) : jsonResponse(404, { error: `no route ${method} ${url.pathname}` }));
      return;
    }

    const requestId = randomUUID();
    const claim = readClaim(req.headers, url.searchParams);
    const service = claim ? services.get(claim.service) : undefined;
    const body = await readBody(req, bodyLimitOf(claim?.service ?? ''));
    if (!claim || !service) {
      const message = claim
        ? `The local endpoint does not implement the ${claim.service} service`
        : 'Request is missing Authentication Token';
      send(res, jsonResponse(claim ? 400 : 403, { __type: claim ? 'UnknownServiceException' : 'MissingAuthenticationTokenException', message }), requestId);
      return;
    }

    const serviceRequest = request(body ?? Buffer.alloc(0));
    const ctxFor = (accountId: string): CallContext => ({
      service: claim.service,
      operation: body ? (service.operationOf(serviceRequest) ?? 'Unknown') : 'Unknown',
      accountId,
      region: claim.region,
      accessKeyId: claim.accessKeyId,
      requestId,
      now: cloud.now(),
    });
    if (!body) {
      send(res, service.renderError(tooLarge(bodyLimitOf(claim.service)), ctxFor(accounts.accountOf(claim.accessKeyId))), requestId);
      return;
    }
    let caller: Caller;
    try {
      caller = await iam.authenticate(claim, { method, target: req.url ?? '/', headers: req.headers, body }, cloud.now());
    } catch (err) {
      if (!(err instanceof AwsError)) throw err;
      send(res, service.renderError(err, ctxFor(settings.defaultAccountId)), requestId);
      return;
    }
    const ctx = ctxFor(caller.accountId);

    try {
      // An operation the service does not know is its own error to answer (nothing to authorize).
      if (ctx.operation !== 'Unknown') await iam.check(caller, ctx.service, ctx.operation, serviceRequest, { accountId: ctx.accountId, region: ctx.region }, ctx.now);
      const fault = faults.evaluate({ ...ctx, input: jsonInput(body) });
      if (fault.latencyMs > 0) await sleep(fault.latencyMs);
      if (fault.error) throw fault.error;
      send(res, await service.handle(serviceRequest, ctx), requestId);
    } catch (err) {
      const awsError =
        err instanceof AwsError
          ? err
          : new AwsError('InternalFailure', `The local ${claim.service} endpoint failed: ${(err as Error).message}`, 500);
      if (!(err instanceof AwsError)) console.error(`[certpipe-local] ${ctx.service}.${ctx.operation} failed`, err);
      send(res, service.renderError(awsError, ctx), requestId);
    }
  }

  /** Where the server listens, known once it is bound (port 0 picks one). */
  const listen = { host: options.host ?? '127.0.0.1', port: 0 };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      console.error('[certpipe-local] request failed', err);
      if (!res.headersSent) send(res, jsonResponse(500, { __type: 'InternalFailure', message: String(err) }));
      else res.end();
    });
  });
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 4566, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host ?? '127.0.0.1';
  listen.host = host;
  listen.port = port;

  return {
    url: `http://${host}:${port}`,
    port,
    cloud,
    faults,
    iam,
    mountRoutes(routes) {
      for (const [route, handler] of Object.entries(routes)) internalRoutes.set(route, handler);
    },
    async close() {
      // Reverse order of start: a service closes before the ones it calls (Step Functions before Lambda).
      for (const service of [...services.values()].reverse()) await service.close?.();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A JSON-protocol request's input, for fault rules that match on it; undefined for other protocols. */
function jsonInput(body: Buffer): unknown {
  if (body.length === 0 || body[0] !== 0x7b) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}
