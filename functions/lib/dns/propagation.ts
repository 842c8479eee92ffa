// Is the challenge visible to the CA yet? Asks the zone's authoritative
// nameservers (every one of them: the CA may ask any) or the configured
// resolvers for the exact TXT values. "Not yet" (NXDOMAIN, NODATA, a value
// missing, a server not answering) is a normal answer, never an exception: the
// state machine waits and asks again, and gives up with DnsPropagationTimeout.
import { lookup, Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { GetHostedZoneCommand, type Route53Client } from '@aws-sdk/client-route-53';
import { groupByFqdn } from '../acme/challenge.js';
import { asAwsError } from '../aws.js';
import { normaliseDnsName } from '../dnsName.js';

/** What one server said about a name's TXT set. */
export interface TxtAnswer {
  /** `ip:port` asked. */
  server: string;
  /** `found` (values listed), `nxdomain`, `nodata`, or `error` (no usable answer: timeout, SERVFAIL, refused). */
  status: 'found' | 'nxdomain' | 'nodata' | 'error';
  values: string[];
  /** DNS error code when `status` is `error`. */
  error?: string;
}

export interface PropagationOptions {
  /**
   * Servers to ask instead of the authoritative ones: `ip`, `ip:port`,
   * `[ipv6]:port` or `host[:port]` (the local cloud's DNS is `127.0.0.1:8053`).
   * Empty or absent: the zone's authoritative nameservers.
   */
  resolvers?: readonly string[];
  /** Authoritative nameservers (host names or addresses) of the zone holding a name; default: found through DNS. */
  nameserversFor?: (fqdn: string) => Promise<readonly string[]>;
  /** Per query. @default 2000 */
  timeoutMs?: number;
}

export interface PropagationResult {
  ready: boolean;
  /** Names whose values some server does not show yet. */
  missing: string[];
  /** One line per shortfall, for logs: name, server and what it answered. */
  details: string[];
}

const DEFAULT_TIMEOUT_MS = 2000;

/** Every server's answer for the TXT set at `fqdn`. */
export async function authoritativeTxt(fqdn: string, options: PropagationOptions = {}): Promise<TxtAnswer[]> {
  const name = normaliseDnsName(fqdn);
  const servers = await serversFor(name, options);
  return Promise.all(servers.map((server) => queryTxt(server, name, options.timeoutMs ?? DEFAULT_TIMEOUT_MS)));
}

/** Ready when every server shows every expected value at its name. */
export async function checkPropagation(
  input: { records: readonly { fqdn: string; value: string }[] } & PropagationOptions,
): Promise<PropagationResult> {
  const missing: string[] = [];
  const details: string[] = [];
  const groups = [...groupByFqdn(input.records)];
  const answers = await Promise.all(groups.map(([fqdn]) => authoritativeTxt(fqdn, input)));
  groups.forEach(([fqdn, expected], i) => {
    const perServer = answers[i]!;
    if (perServer.length === 0) {
      missing.push(fqdn);
      details.push(`${fqdn}: no nameserver to ask`);
      return;
    }
    let complete = true;
    for (const answer of perServer) {
      const absent = expected.filter((v) => !answer.values.includes(v));
      if (absent.length === 0) continue;
      complete = false;
      const said = answer.status === 'error' ? `error ${answer.error}` : answer.status;
      details.push(`${fqdn} @${answer.server}: ${absent.length} of ${expected.length} value(s) missing (${said})`);
    }
    if (!complete) missing.push(fqdn);
  });
  return { ready: missing.length === 0, missing, details };
}

/** The nameservers Route 53 delegates a hosted zone to (its delegation set). */
export async function route53Nameservers(route53: Route53Client, zoneId: string): Promise<string[]> {
  try {
    const zone = await route53.send(new GetHostedZoneCommand({ Id: zoneId }));
    return zone.DelegationSet?.NameServers ?? [];
  } catch (err) {
    throw asAwsError(err, `Route 53 GetHostedZone ${zoneId}`);
  }
}

/**
 * The authoritative nameservers of the zone holding `fqdn`, found as a resolver
 * would: the NS set of the closest enclosing name that has one.
 */
export async function discoverNameservers(fqdn: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string[]> {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 2 });
  const labels = normaliseDnsName(fqdn).split('.');
  for (let i = 0; i < labels.length - 1; i++) {
    try {
      const ns = await resolver.resolveNs(labels.slice(i).join('.'));
      if (ns.length) return ns;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== 'ENODATA' && code !== 'ENOTFOUND') throw err;
    }
  }
  return [];
}

/** Split `host`, `host:port`, `ip`, `ip:port`, `[v6]:port` into host and port. */
export function parseServer(server: string, defaultPort = 53): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(server);
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2] ? Number(bracketed[2]) : defaultPort };
  if (isIP(server) === 6) return { host: server, port: defaultPort };
  const colon = server.lastIndexOf(':');
  if (colon > 0 && /^\d+$/.test(server.slice(colon + 1))) {
    return { host: server.slice(0, colon), port: Number(server.slice(colon + 1)) };
  }
  return { host: server, port: defaultPort };
}

/** `ip:port` in the form Resolver.setServers takes. */
export function formatServer(ip: string, port: number): string {
  return isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}

async function serversFor(fqdn: string, options: PropagationOptions): Promise<string[]> {
  const configured = options.resolvers?.filter((r) => r.trim() !== '') ?? [];
  const names = configured.length
    ? configured
    : await (options.nameserversFor ?? ((n: string) => discoverNameservers(n, options.timeoutMs)))(fqdn);
  const addresses = await Promise.all(names.map((n) => addressesOf(n)));
  return [...new Set(addresses.flat())];
}

async function addressesOf(server: string): Promise<string[]> {
  const { host, port } = parseServer(server);
  if (isIP(host)) return [formatServer(host, port)];
  try {
    const found = await lookup(host.replace(/\.$/, ''), { all: true });
    return found.map((a) => formatServer(a.address, port));
  } catch {
    // A nameserver we cannot find cannot show the record: it counts as not answering.
    return [`${host}:${port}`];
  }
}

async function queryTxt(server: string, fqdn: string, timeoutMs: number): Promise<TxtAnswer> {
  // A new resolver per query: no cache can hide a change between two checks.
  const resolver = new Resolver({ timeout: timeoutMs, tries: 2 });
  try {
    resolver.setServers([server]);
  } catch (err) {
    return { server, status: 'error', values: [], error: (err as { code?: string }).code ?? 'EBADSERVER' };
  }
  try {
    const chunks = await resolver.resolveTxt(fqdn);
    return { server, status: 'found', values: chunks.map((c) => c.join('')) };
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'EUNKNOWN';
    if (code === 'ENOTFOUND') return { server, status: 'nxdomain', values: [] };
    if (code === 'ENODATA') return { server, status: 'nodata', values: [] };
    return { server, status: 'error', values: [], error: code };
  }
}
