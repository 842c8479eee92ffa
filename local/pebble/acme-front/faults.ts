// Which ACME resource a request is for, and the answers the front gives instead of
// Pebble's while a fault is set. Pure: the server in front.ts does the I/O.

/** Where the front serves renewalInfo (RFC 9773): `GET /renewal-info/<certID>`. */
export const RENEWAL_INFO_PATH = '/renewal-info/';

/** ACME resources by Pebble 2.4's paths (RFC 8555 names where there is one). */
export const ACME_RESOURCES = ['directory', 'newNonce', 'newAccount', 'account', 'newOrder', 'order', 'finalize', 'authz', 'chall', 'cert', 'renewalInfo', 'other'] as const;
export type AcmeResource = (typeof ACME_RESOURCES)[number];

const PEBBLE_PATHS: [string, AcmeResource, 'exact' | 'prefix'][] = [
  ['/dir', 'directory', 'exact'],
  ['/nonce-plz', 'newNonce', 'exact'],
  ['/sign-me-up', 'newAccount', 'exact'],
  ['/my-account/', 'account', 'prefix'],
  ['/order-plz', 'newOrder', 'exact'],
  ['/my-order/', 'order', 'prefix'],
  ['/finalize-order/', 'finalize', 'prefix'],
  ['/authZ/', 'authz', 'prefix'],
  ['/chalZ/', 'chall', 'prefix'],
  ['/certZ/', 'cert', 'prefix'],
  // Not Pebble's: the front answers it (RFC 9773).
  [RENEWAL_INFO_PATH, 'renewalInfo', 'prefix'],
];

export function resourceOf(path: string): AcmeResource {
  const p = path.split('?')[0]!;
  for (const [prefix, resource, match] of PEBBLE_PATHS) {
    if (match === 'exact' ? p === prefix : p.startsWith(prefix)) return resource;
  }
  return 'other';
}

/** `POST /_certpipe/acme/faults` body: answer the next `count` requests for `request` with `status`. */
export interface AcmeFault {
  readonly request: AcmeResource;
  /** 429 (rateLimited) or 503 (serverInternal); any 4xx/5xx is accepted. */
  readonly status: number;
  /** Seconds for the Retry-After header; none when absent. */
  readonly retryAfter?: number;
  /** How many matching requests get the fault. @default 1 */
  readonly count?: number;
  /** Problem type without the ACME namespace. @default rateLimited for 429, serverInternal otherwise */
  readonly type?: string;
  readonly detail?: string;
}

/** A clear error naming the field, for a knob request that cannot work. */
export function parseFault(body: unknown): AcmeFault {
  const f = body as Partial<AcmeFault> | null;
  if (!f || typeof f !== 'object') throw new Error('body: expected a JSON object like {"request":"newOrder","status":429,"retryAfter":30,"count":1}');
  if (!ACME_RESOURCES.includes(f.request as AcmeResource)) throw new Error(`request: expected one of ${ACME_RESOURCES.join(', ')}`);
  if (!Number.isInteger(f.status) || f.status! < 400 || f.status! > 599) throw new Error('status: expected an HTTP error status, e.g. 429 or 503');
  if (f.retryAfter !== undefined && !(Number.isInteger(f.retryAfter) && f.retryAfter >= 0)) throw new Error('retryAfter: expected whole seconds >= 0');
  if (f.count !== undefined && !(Number.isInteger(f.count) && f.count >= 1)) throw new Error('count: expected a whole number >= 1');
  return f as AcmeFault;
}

/** The response the front sends instead of forwarding. */
export function faultResponse(fault: AcmeFault): { status: number; headers: Record<string, string>; body: string } {
  const type = fault.type ?? (fault.status === 429 ? 'rateLimited' : 'serverInternal');
  const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
  if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
  const detail = fault.detail ?? `certpipe ACME front: injected ${fault.status} for ${fault.request}`;
  return { status: fault.status, headers, body: JSON.stringify({ type: `urn:ietf:params:acme:error:${type}`, detail, status: fault.status }) };
}
