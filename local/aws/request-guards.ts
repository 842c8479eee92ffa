// What the endpoint checks before a service sees a request. The endpoint is
// test equipment on a developer's machine: a web page in that developer's browser
// must not reach it (DNS rebinding: a foreign name resolving to 127.0.0.1 sends
// its own name as Host; a cross-site form can post text/plain without a
// preflight), and no request may be larger than AWS itself would accept.
import { isIP } from 'node:net';

export interface ListenAddress {
  /** The host the server was told to listen on, e.g. 127.0.0.1, ::1, 0.0.0.0. */
  readonly host: string;
  readonly port: number;
}

const WILDCARD = new Set(['0.0.0.0', '::', '']);
const LOOPBACK = new Set(['127.0.0.1', '::1']);

/** `[::1]:4566` → { name: '::1', port: '4566' }; a Host without a port has port undefined. */
function splitHost(hostHeader: string): { name: string; port: string | undefined } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(hostHeader);
  if (bracketed) return { name: bracketed[1]!, port: bracketed[2] };
  const colon = hostHeader.lastIndexOf(':');
  if (colon < 0) return { name: hostHeader, port: undefined };
  return { name: hostHeader.slice(0, colon), port: hostHeader.slice(colon + 1) };
}

/**
 * Whether a request's Host names this endpoint: the address it listens on, or
 * `localhost` when that address is loopback. A wildcard listener answers any IP
 * literal (an attacker's page can only send a name it controls). Port 80 may be
 * left out, as HTTP clients do.
 */
export function hostAllowed(hostHeader: string | undefined, listen: ListenAddress): boolean {
  if (!hostHeader) return false;
  const { name: rawName, port } = splitHost(hostHeader.trim().toLowerCase());
  if ((port ?? '80') !== String(listen.port)) return false;
  const name = rawName.replace(/\.$/, '');
  const listenHost = listen.host.toLowerCase();
  if (name === listenHost) return true;
  if (WILDCARD.has(listenHost)) return isIP(name) !== 0 || name === 'localhost';
  return name === 'localhost' && LOOPBACK.has(listenHost);
}

/** The Host values `hostAllowed` accepts, for the message that refuses the others. */
export function acceptedHosts(listen: ListenAddress): string {
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  if (WILDCARD.has(listen.host)) return `localhost:${listen.port} or an IP address with :${listen.port}`;
  return `${host}:${listen.port}${LOOPBACK.has(listen.host) ? ` or localhost:${listen.port}` : ''}`;
}

/** Whether a Content-Type header is JSON (parameters such as charset allowed). */
export function isJsonContentType(header: string | undefined): boolean {
  return (header ?? '').split(';')[0]!.trim().toLowerCase() === 'application/json';
}

/**
 * Largest request body, in bytes, per SigV4 service (and `_certpipe` for the
 * local-only routes). AWS's own limits, rounded up to leave room for the
 * envelope: ACM ImportCertificate takes a 32 KiB certificate, a 5 KiB key and a
 * 2 MiB chain, base64 in JSON; CloudWatch PutMetricData and EventBridge PutEvents
 * take 1 MB; Step Functions 256 KiB of input; Secrets Manager 64 KiB of secret;
 * Route 53 32,000 characters of values in at most 1,000 records (its own
 * InvalidChangeBatch checks the values; this bounds the XML around them).
 * Local-only routes carry Lambda payloads: 6 MB, as a synchronous Invoke.
 */
const BODY_LIMITS: Record<string, number> = {
  acm: 3 * 1024 * 1024,
  monitoring: 1024 * 1024,
  events: 1024 * 1024,
  states: 1024 * 1024,
  secretsmanager: 256 * 1024,
  route53: 512 * 1024,
  sts: 64 * 1024,
  _certpipe: 6 * 1024 * 1024,
};
const DEFAULT_BODY_LIMIT = 1024 * 1024;

export function bodyLimitOf(service: string): number {
  return BODY_LIMITS[service] ?? DEFAULT_BODY_LIMIT;
}
