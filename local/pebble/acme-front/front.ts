// A thin HTTPS front for Pebble 2.4: it adds what Pebble lacks and Let's Encrypt
// has, and passes everything else through untouched (Host included: Pebble builds
// its URLs from Host and checks each JWS "url" against it, so clients keep talking
// to the front and signatures still verify). What it adds:
//   - the directory gains `renewalInfo` and `meta.profiles` (Let's Encrypt's three);
//   - `GET /renewal-info/<certID>` (RFC 9773) for certificates issued through it,
//     learned from the certificate downloads that pass by;
//   - newOrder's `replaces` and `profile` are checked as Let's Encrypt checks them
//     (`alreadyReplaced` included), then forwarded as they are: the JWS cannot be
//     re-signed, and Pebble ignores payload fields it does not know;
//   - on demand, answers with a fault (429/503 and Retry-After: Pebble cannot).
// Its knobs live on the local AWS endpoint (knobs.ts), next to the other /_certpipe routes.
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { faultResponse, parseFault, RENEWAL_INFO_PATH, resourceOf, type AcmeFault, type AcmeResource } from './faults.js';
import {
  checkProfile,
  checkReplaces,
  learnCertificate,
  normaliseSerial,
  PROFILES,
  RENEWAL_INFO_RETRY_AFTER_SECONDS,
  renewalInfoBody,
  type FrontProblem,
  type IssuedThroughFront,
  type SuggestedWindow,
} from './renewalInfo.js';

export interface AcmeFrontOptions {
  /** Pebble's origin, e.g. https://127.0.0.1:14001 */
  readonly upstream: string;
  /** Pebble's listener certificate and key (the front serves the same names), and the CA that signed them. */
  readonly certPath: string;
  readonly keyPath: string;
  readonly caPem: string;
  /** @default 0 (any free port) */
  readonly port?: number;
}

export interface LoggedRequest {
  /** Epoch milliseconds when the request arrived. */
  readonly at: number;
  readonly method: string;
  readonly resource: AcmeResource;
  readonly status: number;
  /** True when the front answered with a fault instead of Pebble. */
  readonly injected: boolean;
}

export interface ActiveFault extends AcmeFault {
  /** Requests answered with this fault so far. */
  hits: number;
}

/** A newOrder the front forwarded to Pebble. */
export interface ForwardedOrder {
  readonly time: string;
  readonly identifiers: string[];
  readonly profile?: string;
  readonly replaces?: string;
}

export interface AcmeFront {
  /** e.g. https://127.0.0.1:40123 */
  readonly url: string;
  readonly directoryUrl: string;
  readonly requests: readonly LoggedRequest[];
  readonly faults: readonly ActiveFault[];
  readonly orders: readonly ForwardedOrder[];
  addFault(fault: AcmeFault): void;
  clearFaults(): void;
  /** Moves the suggested window of the certificate with this serial (hex); false when the front never saw it. */
  setWindow(serial: string, window: SuggestedWindow): boolean;
  close(): Promise<void>;
}

const ACME_ERROR = 'urn:ietf:params:acme:error:';

export async function startAcmeFront(opts: AcmeFrontOptions): Promise<AcmeFront> {
  const upstream = new URL(opts.upstream);
  const agent = new https.Agent({ ca: opts.caPem, keepAlive: true });
  const requests: LoggedRequest[] = [];
  const faults: ActiveFault[] = [];
  const orders: ForwardedOrder[] = [];
  const issued = new Map<string, IssuedThroughFront>();
  /** The certID an order replaces, by the order's finalize URL (in every order object Pebble returns). */
  const replacing = new Map<string, string>();
  /** The account that placed an order, by its finalize URL; then by its certificate's path once valid. */
  const orderedBy = new Map<string, string>();
  const certificateOf = new Map<string, string>();
  const addFault = (fault: AcmeFault) => void faults.push({ ...parseFault(fault), hits: 0 });

  const server = https.createServer({ cert: readFileSync(opts.certPath), key: readFileSync(opts.keyPath) }, (req, res) => {
    const path = req.url ?? '/';
    const at = Date.now();
    const method = req.method ?? 'GET';
    const resource = resourceOf(path);
    const log = (status: number, injected: boolean) => void requests.push({ at, method, resource, status, injected });
    const fault = faults.find((f) => f.request === resource && f.hits < (f.count ?? 1));
    if (fault) {
      fault.hits += 1;
      const answer = faultResponse(fault);
      log(answer.status, true);
      req.resume();
      res.writeHead(answer.status, answer.headers).end(answer.body);
      return;
    }
    const answer = (status: number, headers: Record<string, string>, body: string) => {
      log(status, false);
      res.writeHead(status, headers).end(body);
    };
    const problem = (p: FrontProblem) =>
      answer(p.status, { 'content-type': 'application/problem+json' }, JSON.stringify({ type: `${ACME_ERROR}${p.type}`, detail: p.detail, status: p.status }));

    if (resource === 'renewalInfo') {
      req.resume();
      const cert = method === 'GET' ? issued.get(decodeURIComponent(path.split('?')[0]!.slice(RENEWAL_INFO_PATH.length))) : undefined;
      if (method !== 'GET') return problem({ status: 405, type: 'malformed', detail: 'renewalInfo is read with GET' });
      if (!cert) return problem({ status: 404, type: 'malformed', detail: 'no certificate with this identifier was issued by this CA' });
      return answer(200, { 'content-type': 'application/json', 'retry-after': String(RENEWAL_INFO_RETRY_AFTER_SECONDS) }, JSON.stringify(renewalInfoBody(cert)));
    }
    if (resource === 'newOrder' && method === 'POST') {
      return void readAll(req).then((body) => {
        const payload = jwsPayload(body) as { identifiers?: { value?: unknown }[]; replaces?: unknown; profile?: unknown } | undefined;
        const identifiers = (payload?.identifiers ?? []).map((i) => String(i?.value ?? ''));
        const account = jwsKid(body);
        const refused = payload && (checkReplaces(payload.replaces, identifiers, account, (id) => issued.get(id)) ?? checkProfile(payload.profile));
        if (refused) return problem(refused);
        forward(req, res, body, (status, text) => {
          if (status !== 201 || !payload) return text;
          orders.push({
            time: new Date(at).toISOString(),
            identifiers,
            ...(typeof payload.profile === 'string' ? { profile: payload.profile } : {}),
            ...(typeof payload.replaces === 'string' ? { replaces: payload.replaces } : {}),
          });
          const finalize = orderObject(text)?.finalize;
          if (finalize && typeof payload.replaces === 'string') replacing.set(finalize, payload.replaces);
          if (finalize && account) orderedBy.set(finalize, account);
          return text;
        });
      });
    }
    const inspect = inspectorFor(resource, path);
    forward(req, res, undefined, inspect);

    function forward(inReq: IncomingMessage, out: ServerResponse, body: Buffer | undefined, onBody?: (status: number, text: string) => string): void {
      const upstreamReq = https.request(
        { protocol: upstream.protocol, hostname: upstream.hostname, port: upstream.port, method, path, headers: inReq.headers, agent },
        (up) => {
          const status = up.statusCode ?? 502;
          log(status, false);
          // Only bodies the front reads are buffered (and never compressed: Pebble does not compress).
          if (!onBody || up.headers['content-encoding']) {
            out.writeHead(status, up.headers);
            up.pipe(out);
            return;
          }
          void readAll(up).then((raw) => {
            const text = onBody(status, raw.toString('utf8'));
            const headers = { ...up.headers, 'content-length': String(Buffer.byteLength(text)) };
            delete headers['transfer-encoding'];
            out.writeHead(status, headers).end(text);
          });
        },
      );
      upstreamReq.on('error', (err) => {
        log(502, false);
        if (!out.headersSent) out.writeHead(502, { 'content-type': 'text/plain' });
        out.end(`certpipe ACME front: Pebble did not answer: ${err.message}`);
      });
      if (body) upstreamReq.end(body);
      else inReq.pipe(upstreamReq);
    }
  });

  /** What the front reads on its way back: the directory to extend, orders turning valid, certificates. */
  function inspectorFor(resource: AcmeResource, path: string): ((status: number, text: string) => string) | undefined {
    if (resource === 'directory') return (status, text) => (status === 200 ? extendDirectory(text) : text);
    if (resource === 'order' || resource === 'finalize') {
      return (status, text) => {
        const order = status === 200 ? orderObject(text) : undefined;
        const account = order?.status === 'valid' && order.finalize ? orderedBy.get(order.finalize) : undefined;
        if (account && order?.certificate) certificateOf.set(pathOf(order.certificate), account);
        const old = order?.status === 'valid' && order.finalize ? replacing.get(order.finalize) : undefined;
        const cert = old ? issued.get(old) : undefined;
        if (cert) cert.replaced = true;
        return text;
      };
    }
    if (resource === 'cert') {
      return (status, text) => {
        const cert = status === 200 ? learnCertificate(text) : undefined;
        const account = certificateOf.get(path.split('?')[0]!);
        if (cert && !issued.has(cert.certId)) issued.set(cert.certId, account ? { ...cert, account } : cert);
        return text;
      };
    }
    return undefined;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`ACME directory port ${opts.port ?? 0} on ${upstream.hostname} is not available (${err.code ?? err.message})`)),
    );
    server.listen(opts.port ?? 0, upstream.hostname, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = upstream.hostname.includes(':') ? `[${upstream.hostname}]` : upstream.hostname;
  const url = `https://${host}:${port}`;
  return {
    url,
    directoryUrl: `${url}/dir`,
    requests,
    faults,
    orders,
    addFault,
    clearFaults: () => void (faults.length = 0),
    setWindow(serial, window) {
      const wanted = normaliseSerial(serial);
      const cert = [...issued.values()].find((c) => c.serial === wanted);
      if (!cert) return false;
      cert.window = window;
      return true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Pebble's directory plus renewalInfo and meta.profiles, at the origin its URLs already use (the client's Host). */
function extendDirectory(text: string): string {
  let dir: Record<string, unknown> & { meta?: Record<string, unknown> };
  try {
    dir = JSON.parse(text) as typeof dir;
  } catch {
    return text;
  }
  const origin = typeof dir.newNonce === 'string' ? new URL(dir.newNonce).origin : undefined;
  if (!origin) return text;
  return JSON.stringify({ ...dir, renewalInfo: `${origin}${RENEWAL_INFO_PATH.slice(0, -1)}`, meta: { ...dir.meta, profiles: PROFILES } }, null, 2);
}

function orderObject(text: string): { status?: string; finalize?: string; certificate?: string } | undefined {
  try {
    return JSON.parse(text) as { status?: string; finalize?: string; certificate?: string };
  } catch {
    return undefined;
  }
}

/** The JSON payload of a flattened JWS request body, or undefined when it is not one. */
function jwsPayload(body: Buffer): unknown {
  try {
    const jws = JSON.parse(body.toString('utf8')) as { payload?: unknown };
    return typeof jws.payload === 'string' && jws.payload ? JSON.parse(Buffer.from(jws.payload, 'base64url').toString('utf8')) : undefined;
  } catch {
    return undefined;
  }
}

/** The account URL (`kid`) in a flattened JWS request's protected header, or undefined. */
function jwsKid(body: Buffer): string | undefined {
  try {
    const jws = JSON.parse(body.toString('utf8')) as { protected?: unknown };
    const header = typeof jws.protected === 'string' ? (JSON.parse(Buffer.from(jws.protected, 'base64url').toString('utf8')) as { kid?: unknown }) : undefined;
    return typeof header?.kid === 'string' ? header.kid : undefined;
  } catch {
    return undefined;
  }
}

/** The path of an absolute URL Pebble returned (the front sees request paths only). */
function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}

function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}
