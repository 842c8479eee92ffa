// A thin HTTPS front for Pebble: passes every request through untouched (Host
// included: Pebble builds its URLs from Host and checks each JWS "url" against it,
// so clients keep talking to the front and signatures still verify), except the
// next N requests for an ACME resource that a fault names, which get the CA's
// answer the test asked for: a status, a problem document and a Retry-After.
// Pebble 2.4 cannot send rate-limit answers; this is how tests get them.
//
// Knob, on the front itself: POST /_certpipe/acme/faults {"request":"newOrder","status":429,"retryAfter":30,"count":1};
// DELETE clears; GET lists the faults with their hits and the request log.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { faultResponse, parseFault, resourceOf, type AcmeFault, type AcmeResource } from './faults.js';

export interface AcmeFrontOptions {
  /** Pebble's origin, e.g. https://127.0.0.1:14000 */
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

export interface AcmeFront {
  /** e.g. https://127.0.0.1:40123 */
  readonly url: string;
  readonly directoryUrl: string;
  readonly requests: readonly LoggedRequest[];
  readonly faults: readonly ActiveFault[];
  addFault(fault: AcmeFault): void;
  clearFaults(): void;
  close(): Promise<void>;
}

const KNOB = '/_certpipe/acme/faults';

export async function startAcmeFront(opts: AcmeFrontOptions): Promise<AcmeFront> {
  const upstream = new URL(opts.upstream);
  const agent = new https.Agent({ ca: opts.caPem, keepAlive: true });
  const requests: LoggedRequest[] = [];
  const faults: ActiveFault[] = [];
  const addFault = (fault: AcmeFault) => void faults.push({ ...parseFault(fault), hits: 0 });

  const server = https.createServer({ cert: readFileSync(opts.certPath), key: readFileSync(opts.keyPath) }, (req, res) => {
    const path = req.url ?? '/';
    if (path.split('?')[0] === KNOB) return knob(req, res);
    const at = Date.now();
    const resource = resourceOf(path);
    const fault = faults.find((f) => f.request === resource && f.hits < (f.count ?? 1));
    if (fault) {
      fault.hits += 1;
      const answer = faultResponse(fault);
      requests.push({ at, method: req.method ?? 'GET', resource, status: answer.status, injected: true });
      req.resume();
      res.writeHead(answer.status, answer.headers).end(answer.body);
      return;
    }
    const forwarded = https.request(
      { protocol: upstream.protocol, hostname: upstream.hostname, port: upstream.port, method: req.method, path, headers: req.headers, agent },
      (up) => {
        requests.push({ at, method: req.method ?? 'GET', resource, status: up.statusCode ?? 502, injected: false });
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    forwarded.on('error', (err) => {
      requests.push({ at, method: req.method ?? 'GET', resource, status: 502, injected: false });
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`certpipe ACME front: Pebble did not answer: ${err.message}`);
    });
    req.pipe(forwarded);
  });

  function knob(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): void {
    const reply = (status: number, body: unknown): void => void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.method === 'GET') return reply(200, { faults, requests });
    if (req.method === 'DELETE') {
      faults.length = 0;
      return reply(200, { cleared: true });
    }
    if (req.method !== 'POST') return reply(405, { message: 'use GET, POST or DELETE' });
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return reply(415, { message: 'content-type: send application/json' });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
        for (const f of Array.isArray(body) ? body : [body]) addFault(f as AcmeFault);
        reply(200, { faults });
      } catch (err) {
        reply(400, { message: (err as Error).message });
      }
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
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
    addFault,
    clearFaults: () => void (faults.length = 0),
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
