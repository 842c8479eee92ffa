// Turns what acme-client and the CA report into certpipe's typed errors. This is
// the only place that knows ACME problem types and axios error codes, so the rest
// of certpipe never depends on acme-client's messages.
import {
  AcmeOrderInvalid,
  AcmeOrderNotReady,
  AcmeRequestRejected,
  AcmeUnavailable,
  CertpipeError,
  RateLimited,
} from '../workflow/errors.js';

const ACME_ERROR = 'urn:ietf:params:acme:error:';

/** An RFC 7807 problem document the CA sent, with the request it answered. */
export class AcmeProblem extends Error {
  constructor(
    readonly url: string,
    readonly status: number,
    readonly type: string | undefined,
    readonly detail: string | undefined,
    readonly retryAfterSeconds: number | undefined,
    readonly subproblems: { type?: string; detail?: string; identifier?: { value?: string } }[] = [],
  ) {
    super(`${status} ${type ?? 'unknown problem'} from ${url}${detail ? `: ${detail}` : ''}`);
    this.name = 'AcmeProblem';
  }

  /** The problem type without the ACME namespace, e.g. `rateLimited`. */
  get shortType(): string | undefined {
    return this.type?.startsWith(ACME_ERROR) ? this.type.slice(ACME_ERROR.length) : this.type;
  }
}

/**
 * A request that got no HTTP response (refused, reset, timed out, TLS failure).
 * It deliberately has no axios `config`: acme-client's response interceptor then
 * passes it through instead of failing on the missing response.
 */
export class AcmeNetworkError extends Error {
  constructor(
    readonly url: string | undefined,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AcmeNetworkError';
  }
}

/** Problem details as one line: the detail, then each subproblem's identifier and detail. */
export function describeProblem(problem: {
  type?: string;
  detail?: string;
  subproblems?: { type?: string; detail?: string; identifier?: { value?: string } }[];
}): string {
  const parts = [problem.type ? `${problem.type}` : undefined, problem.detail].filter(Boolean) as string[];
  for (const sub of problem.subproblems ?? []) {
    parts.push(`[${sub.identifier?.value ?? '?'}] ${sub.type ?? ''} ${sub.detail ?? ''}`.trim());
  }
  return parts.join(': ').replace(/\s+/g, ' ');
}

/** Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(header: unknown, now: Date = new Date()): number | undefined {
  if (typeof header !== 'string' || header.trim() === '') return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value);
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now.getTime()) / 1000));
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'ERR_NETWORK',
]);

const TLS_TRUST_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Map any failure of an ACME call to a typed certpipe error; `what` names the call for the message. */
export function toAcmeError(err: unknown, what: string): CertpipeError {
  if (err instanceof CertpipeError) return err;
  if (err instanceof AcmeProblem) return fromProblem(err, what);

  const code = (err as { code?: unknown })?.code;
  const message = err instanceof Error ? err.message : String(err);
  const url = err instanceof AcmeNetworkError ? err.url : (err as { config?: { url?: string } })?.config?.url;
  const where = url ? ` (${url})` : '';
  if (typeof code === 'string' && NETWORK_CODES.has(code)) {
    return new AcmeUnavailable(`${what}: the ACME server did not answer${where}: ${code}`, { cause: err });
  }
  if (typeof code === 'string' && TLS_TRUST_CODES.has(code)) {
    return new AcmeRequestRejected(
      `${what}: the ACME server's TLS certificate is not trusted${where}: ${code}. ` +
        'For a private or test CA, point CERTPIPE_ACME_CA_BUNDLE at its CA certificate (PEM).',
      { cause: err },
    );
  }
  if (err instanceof AcmeNetworkError) {
    return new AcmeUnavailable(`${what}: no answer from the ACME server${where}: ${code} ${message}`, { cause: err });
  }
  // acme-client reports directory and nonce failures as plain messages carrying the HTTP status.
  const status = /returned error (\d{3})/.exec(message)?.[1];
  if (status && Number(status) >= 500) {
    return new AcmeUnavailable(`${what}: ${message}`, { cause: err });
  }
  if (/Failed to get nonce/.test(message)) return new AcmeUnavailable(`${what}: ${message}`, { cause: err });
  return new AcmeRequestRejected(`${what}: ${message}`, { cause: err });
}

function fromProblem(p: AcmeProblem, what: string): CertpipeError {
  const detail = `${what}: ${p.message}`;
  const type = p.shortType;
  if (type === 'rateLimited' || p.status === 429) {
    return new RateLimited(detail, p.retryAfterSeconds, { cause: p });
  }
  if (type === 'badNonce' || type === 'serverInternal' || p.status >= 500) {
    return new AcmeUnavailable(detail, { cause: p, retryAfterSeconds: p.retryAfterSeconds });
  }
  if (type === 'orderNotReady') return new AcmeOrderNotReady(detail, { cause: p });
  if (type === 'externalAccountRequired') {
    return new AcmeRequestRejected(
      `${detail} — this CA registers accounts only with external account binding: add "eab" (keyId, and hmacKeySecret naming the Secrets Manager secret that holds the HMAC key) to the issuer`,
      { cause: p },
    );
  }
  return new AcmeRequestRejected(detail, { cause: p });
}

/**
 * A newOrder refusal that an order without `replaces` may get past (RFC 9773 §5):
 * any 4xx but rate limits and bad nonces. Let's Encrypt refuses `replaces` with
 * 409 alreadyReplaced, 403 unauthorized (another account ordered that certificate:
 * the CA forgot ours, or it was replaced), 404 (a certificate it does not know) and
 * 400 malformed (a certID it cannot parse, no identifier in common), each worded its
 * own way. Matching the words would miss one, and resending the same `replaces` on
 * every run would stop the certificate renewing at all; losing the rate-limit
 * exemption once costs far less.
 */
export function refusedReplaces(err: unknown): boolean {
  const problem = err instanceof AcmeProblem ? err : (err as { cause?: unknown } | undefined)?.cause;
  if (!(problem instanceof AcmeProblem)) return false;
  return problem.status >= 400 && problem.status < 500 && problem.status !== 429 && !['rateLimited', 'badNonce'].includes(problem.shortType ?? '');
}

/** The order or one of its authorizations is invalid: a new order is needed. */
export function orderInvalid(orderUrl: string, reasons: string[], failedIdentifiers: readonly string[] = []): AcmeOrderInvalid {
  const why = reasons.length ? reasons.join('; ') : 'the CA gave no problem detail';
  return new AcmeOrderInvalid(`ACME order ${orderUrl} is invalid: ${why}`, { failedIdentifiers });
}
