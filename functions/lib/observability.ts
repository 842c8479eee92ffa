// Structured logs and Embedded Metric Format metrics, created once per process
// (module scope, reused across invocations). Every log line passes through a
// redactor, so a PEM private key that reaches a log call still never reaches a log.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { CertpipeError } from './errors.js';

export const SERVICE_NAME = 'certpipe';
export const METRICS_NAMESPACE = 'Certpipe';

/**
 * Metric names, part of the contract with the alarms and the dashboard. Every
 * metric also carries Powertools' `service` dimension (= "certpipe").
 */
export const METRIC = {
  /** Per certificate (dimension Certificate): days until notAfter, negative once expired. */
  DaysToExpiry: 'DaysToExpiry',
  /** Per certificate (dimension Certificate): notAfter as Unix seconds. */
  ExpirationTimestamp: 'ExpirationTimestamp',
  RenewalsSucceeded: 'RenewalsSucceeded',
  RenewalsFailed: 'RenewalsFailed',
  /** ACME HTTP requests, by dimension Status (the HTTP status, or "error" when none came back). */
  AcmeRequests: 'AcmeRequests',
} as const;
export const DIMENSION = { Certificate: 'Certificate', Status: 'Status' } as const;

// ---------------------------------------------------------------------------
// Redaction

export const REDACTED = '[REDACTED]';

// Any PEM private key (PKCS#8, SEC1 "EC", PKCS#1 "RSA", "ENCRYPTED", "OPENSSH"),
// including one cut off before its END line, and one inside JSON-escaped text.
const PRIVATE_KEY_BLOCK = /-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----[\s\S]*?(?:-----END \1PRIVATE KEY-----|$)/g;
/** Fields that hold key material by name, whatever their format. */
const SENSITIVE_FIELD = /^(private[-_]?key(?:[-_]?pem)?|account[-_]?key(?:[-_]?pem)?|hmac[-_]?key)$/i;
/** Private members of a JWK (RFC 7518): present only in a private key. */
const JWK_PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

/** The text with every PEM private key block replaced by [REDACTED]. */
export function redactText(text: string): string {
  return text.replace(PRIVATE_KEY_BLOCK, REDACTED);
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
    if (typeof v === 'string') return new RegExp(PRIVATE_KEY_BLOCK.source).test(v) ? path : undefined;
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
export class KeyMaterialLeak extends CertpipeError {}

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
