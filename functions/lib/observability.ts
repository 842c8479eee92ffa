// Structured logs and Embedded Metric Format metrics, created once per process
// (module scope, reused across invocations). Every log line passes through a
// redactor, so a PEM private key that reaches a log call still never reaches a log.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { createPrivateKey } from 'node:crypto';
import { CertpipeError } from './workflow/errors.js';
import { DIMENSION, METRIC, METRICS_NAMESPACE, SERVICE_NAME } from './workflow/metrics.js';

export { DIMENSION, METRIC, METRICS_NAMESPACE, SERVICE_NAME } from './workflow/metrics.js';

// ---------------------------------------------------------------------------
// Redaction

export const REDACTED = '[REDACTED]';

// Every PEM block except the public kinds, whatever its label says ("PRIVATE KEY",
// "OPENSSH PRIVATE KEY", or one a tool made up), including one cut off before its
// END line and one inside JSON-escaped text.
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?(?:-----END \1-----|$)/g;
const PUBLIC_PEM_LABELS = new Set([
  'CERTIFICATE',
  'TRUSTED CERTIFICATE',
  'CERTIFICATE REQUEST',
  'NEW CERTIFICATE REQUEST',
  'PUBLIC KEY',
  'RSA PUBLIC KEY',
  'X509 CRL',
  'PKCS7',
]);
// A run of base64 (line breaks and escaped line breaks allowed) long enough to be
// DER: a key without its PEM armour, or a PEM body cut out of one.
const BASE64_RUN = /[A-Za-z0-9+/](?:[A-Za-z0-9+/=]|\r?\n|\\r\\n|\\n){59,}/g;
const LINE_BREAK = /\r?\n|\\r\\n|\\n/g;
/** Private members of a JWK (RFC 7518) written as JSON text, escaped or not. */
const JWK_PRIVATE_TEXT = /(\\?")(d|p|q|dp|dq|qi|k)\1\s*:\s*\1[A-Za-z0-9_-]{16,}\1/g;
/** Fields that hold key material by name, whatever their format. */
const SENSITIVE_FIELD = /^(private[-_]?key(?:[-_]?pem)?|account[-_]?key(?:[-_]?pem)?|hmac[-_]?key)$/i;
/** Private members of a JWK (RFC 7518): present only in a private key. */
const JWK_PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

/** Whether the base64 text decodes to (the start of) a private key's DER. */
function isPrivateKeyDer(base64: string): boolean {
  const der = Buffer.from(base64, 'base64');
  if (der.length < 32) return false;
  for (const type of ['pkcs8', 'sec1', 'pkcs1'] as const) {
    try {
      createPrivateKey({ key: der, format: 'der', type });
      return true;
    } catch {
      // not this encoding
    }
  }
  // A cut-off key still starts as one: SEQUENCE, then version INTEGER 0 (PKCS#8, PKCS#1) or 1 (SEC1),
  // then an AlgorithmIdentifier SEQUENCE (PKCS#8), an OCTET STRING (SEC1) or an INTEGER (PKCS#1).
  if (der[0] !== 0x30) return false;
  const at = der[1]! < 0x80 ? 2 : 2 + (der[1]! & 0x7f);
  const [tag, len, version, next] = [der[at], der[at + 1], der[at + 2], der[at + 3]];
  return tag === 0x02 && len === 0x01 && ((version === 0x00 && (next === 0x30 || next === 0x02)) || (version === 0x01 && next === 0x04));
}

/** The text with every private PEM block, base64 private key DER and private JWK member replaced by [REDACTED]. */
export function redactText(text: string): string {
  let out = text.replace(PEM_BLOCK, (block, label: string) => (PUBLIC_PEM_LABELS.has(label.trim()) ? block : REDACTED));
  out = out.replace(BASE64_RUN, (run) => {
    // A word before the key on the line above is base64 too: try the run from each line start.
    const starts = [0, ...[...run.matchAll(LINE_BREAK)].map((m) => m.index! + m[0].length)];
    for (const start of starts) {
      const candidate = run.slice(start);
      if (candidate.length >= 60 && isPrivateKeyDer(candidate.replace(LINE_BREAK, ''))) return run.slice(0, start) + REDACTED;
    }
    return run;
  });
  if (out.includes('kty')) out = out.replace(JWK_PRIVATE_TEXT, (_m, q: string, member: string) => `${q}${member}${q}:${q}${REDACTED}${q}`);
  return out;
}

function isJwk(value: object): value is Record<string, unknown> {
  return typeof (value as { kty?: unknown }).kty === 'string';
}

function redactField(key: string, value: unknown): unknown {
  // A sensitive field is hidden whatever its form (string, Buffer, KeyObject, JWK).
  if (SENSITIVE_FIELD.test(key) && value !== undefined && value !== null && value !== '') return REDACTED;
  if (typeof value === 'string') return redactText(value);
  if (value && typeof value === 'object' && !Array.isArray(value) && isJwk(value)) {
    const copy: Record<string, unknown> = { ...value };
    for (const member of JWK_PRIVATE_MEMBERS) if (member in copy) copy[member] = REDACTED;
    return copy;
  }
  return value;
}

/**
 * A deep copy of `value` safe to log, emit or return from a state: PEM private
 * keys, fields named like privateKey / accountKey / hmacKey and private JWK
 * members become [REDACTED]. Dates, buffers and other objects pass through.
 */
export function redact<T>(value: T): T {
  const seen = new WeakSet<object>();
  const walk = (key: string, v: unknown): unknown => {
    const replaced = redactField(key, v);
    if (replaced instanceof Error) {
      const copy = new Error(redactText(replaced.message));
      copy.name = replaced.name;
      copy.stack = replaced.stack === undefined ? undefined : redactText(replaced.stack);
      return copy;
    }
    if (Array.isArray(replaced)) {
      if (seen.has(replaced)) return replaced;
      seen.add(replaced);
      return replaced.map((item, i) => walk(String(i), item));
    }
    if (replaced && typeof replaced === 'object' && Object.getPrototypeOf(replaced) === Object.prototype) {
      if (seen.has(replaced)) return replaced;
      seen.add(replaced);
      return Object.fromEntries(Object.entries(replaced).map(([k, item]) => [k, walk(k, item)]));
    }
    return replaced;
  };
  return walk('', value) as T;
}

/** Where key material sits in `value` (a path like `$.secret.privateKey`), or undefined. */
export function findKeyMaterial(value: unknown): string | undefined {
  const seen = new WeakSet<object>();
  const search = (v: unknown, path: string): string | undefined => {
    if (typeof v === 'string') return redactText(v) !== v ? path : undefined;
    if (v instanceof Uint8Array) return search(Buffer.from(v).toString('latin1'), path);
    if (v instanceof Error) return search(v.message, `${path}.message`) ?? search(v.stack ?? '', `${path}.stack`);
    if (!v || typeof v !== 'object' || seen.has(v)) return undefined;
    seen.add(v);
    if (!Array.isArray(v) && isJwk(v) && JWK_PRIVATE_MEMBERS.some((m) => typeof v[m] === 'string' && v[m] !== REDACTED)) {
      return path;
    }
    for (const [k, item] of Object.entries(v)) {
      const hit = search(item, Array.isArray(v) ? `${path}[${k}]` : `${path}.${k}`);
      if (hit) return hit;
    }
    return undefined;
  };
  return search(value, '$');
}

/** Thrown when something about to leave the function (state output, event, log) holds a private key. */
export class KeyMaterialLeak extends CertpipeError {
  override readonly name: string = 'KeyMaterialLeak';
}

/** Throws KeyMaterialLeak naming where the key is (never the key) when `value` holds private key material. */
export function assertNoKeyMaterial(value: unknown, what = 'value'): void {
  const at = findKeyMaterial(value);
  if (at) throw new KeyMaterialLeak(`${what} contains private key material at ${at}`);
}

// ---------------------------------------------------------------------------
// Logger and metrics

/** Runs on every key/value Powertools serialises, the message included. */
export function redactingReplacer(key: string, value: unknown): unknown {
  return redactField(key, value);
}

export const logger = new Logger({ serviceName: SERVICE_NAME, jsonReplacerFn: redactingReplacer });

/** Aggregate metrics (no dimension beyond service), flushed by publishMetrics(). */
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });

// Metrics with their own dimension are emitted through a separate instance, so a
// Certificate or Status dimension never lands on the aggregate metrics.
const dimensioned = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });

const DAY_SECONDS = 86_400;

/** Emits DaysToExpiry and ExpirationTimestamp for one certificate now (one EMF record). */
export function recordExpiry(certificate: string, notAfter: Date, now: Date): void {
  const secondsLeft = (notAfter.getTime() - now.getTime()) / 1000;
  dimensioned.addDimension(DIMENSION.Certificate, certificate);
  dimensioned.addMetric(METRIC.DaysToExpiry, MetricUnit.NoUnit, Math.round((secondsLeft / DAY_SECONDS) * 100) / 100);
  dimensioned.addMetric(METRIC.ExpirationTimestamp, MetricUnit.NoUnit, Math.floor(notAfter.getTime() / 1000));
  dimensioned.publishStoredMetrics();
}

/** Counts renewals; a zero is worth emitting so the alarm sees data, not silence. */
export function recordRenewal(outcome: 'succeeded' | 'failed', count = 1): void {
  metrics.addMetric(outcome === 'succeeded' ? METRIC.RenewalsSucceeded : METRIC.RenewalsFailed, MetricUnit.Count, count);
}

const acmeRequests = new Map<string, number>();

/** Counts one ACME request by its HTTP status (or "error" when no response came back). */
export function recordAcmeRequest(status: number | 'error'): void {
  const key = String(status);
  acmeRequests.set(key, (acmeRequests.get(key) ?? 0) + 1);
}

/** Flushes what was recorded during this invocation; call once at the end of a handler. */
export function publishMetrics(): void {
  for (const [status, count] of acmeRequests) {
    dimensioned.addDimension(DIMENSION.Status, status);
    dimensioned.addMetric(METRIC.AcmeRequests, MetricUnit.Count, count);
    dimensioned.publishStoredMetrics();
  }
  acmeRequests.clear();
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
}
