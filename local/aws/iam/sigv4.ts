// SigV4 as AWS checks it: the canonical request rebuilt from what arrived on
// the wire, signed again with the secret the local cloud issued, compared with
// the signature the client sent. Pure: the caller looks the secret up.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** What the client claims: its key, scope and signature (header or presigned query). */
export interface SignedClaim {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
  /** `X-Amz-Date` / `x-amz-date`, e.g. 20261129T091200Z. */
  readonly amzDate: string;
  readonly sessionToken?: string;
  readonly presigned: boolean;
}

export interface WireRequest {
  readonly method: string;
  /** The raw request target (path and query) as sent. */
  readonly target: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
};

/** The claim of a signed request, or undefined when it carries no SigV4 credential. */
export function readClaim(headers: IncomingHttpHeaders, query: URLSearchParams): SignedClaim | undefined {
  const auth = header(headers, 'authorization') ?? '';
  const presigned = !auth && query.has('X-Amz-Credential');
  const credential = presigned ? query.get('X-Amz-Credential') : /Credential=([^,\s]+)/.exec(auth)?.[1];
  if (!credential) return undefined;
  const [accessKeyId, date, region, service] = credential.split('/');
  if (!accessKeyId || !date || !region || !service) return undefined;
  const signedHeaders = (presigned ? query.get('X-Amz-SignedHeaders') : /SignedHeaders=([^,\s]+)/.exec(auth)?.[1]) ?? '';
  const signature = (presigned ? query.get('X-Amz-Signature') : /Signature=([0-9a-f]+)/.exec(auth)?.[1]) ?? '';
  const amzDate = (presigned ? query.get('X-Amz-Date') : header(headers, 'x-amz-date')) ?? '';
  const sessionToken = (presigned ? query.get('X-Amz-Security-Token') : header(headers, 'x-amz-security-token')) ?? undefined;
  return {
    accessKeyId,
    date,
    region,
    service,
    signedHeaders: signedHeaders.split(';').filter(Boolean),
    signature,
    amzDate,
    presigned,
    ...(sessionToken ? { sessionToken } : {}),
  };
}

/** RFC 3986 escaping as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
const escape = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const decode = (s: string) => {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
};

/** Every service but S3 signs the path normalised and escaped once more (the SDKs and botocore agree). */
function canonicalPath(rawPath: string): string {
  const segments: string[] = [];
  for (const segment of rawPath.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const normalised = `/${segments.join('/')}${segments.length > 0 && rawPath.endsWith('/') ? '/' : ''}`;
  return escape(normalised).replace(/%2F/g, '/');
}

function canonicalQuery(rawQuery: string, presigned: boolean): string {
  const pairs = rawQuery
    .split('&')
    .filter(Boolean)
    .map((part) => {
      const eq = part.indexOf('=');
      return eq < 0 ? [decode(part), ''] : [decode(part.slice(0, eq)), decode(part.slice(eq + 1))];
    })
    .filter(([key]) => !(presigned && key === 'X-Amz-Signature'))
    .map(([key, value]) => [escape(key!), escape(value!)] as const);
  pairs.sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

/** The signature the request would carry if signed with `secretAccessKey`. */
export function expectedSignature(request: WireRequest, claim: SignedClaim, secretAccessKey: string): string {
  const q = request.target.indexOf('?');
  const rawPath = q < 0 ? request.target : request.target.slice(0, q);
  const rawQuery = q < 0 ? '' : request.target.slice(q + 1);
  const headers = claim.signedHeaders.map((name) => `${name}:${(header(request.headers, name) ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const payloadHash = claim.presigned ? 'UNSIGNED-PAYLOAD' : (header(request.headers, 'x-amz-content-sha256') ?? sha256(request.body));
  const canonical = [request.method, claim.service === 's3' ? rawPath : canonicalPath(rawPath), canonicalQuery(rawQuery, claim.presigned), headers, claim.signedHeaders.join(';'), payloadHash].join('\n');
  const scope = `${claim.date}/${claim.region}/${claim.service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', claim.amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, claim.date), claim.region), claim.service), 'aws4_request');
  return createHmac('sha256', key).update(toSign).digest('hex');
}

/** Whether the request was signed with `secretAccessKey` (constant-time compare). */
export function signatureMatches(request: WireRequest, claim: SignedClaim, secretAccessKey: string): boolean {
  const expected = Buffer.from(expectedSignature(request, claim, secretAccessKey));
  const given = Buffer.from(claim.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
