// The small grammars of the config (DNS names, durations, schedules, ARNs, …).
// Each check returns a problem sentence ("what — fix") or undefined, so the
// schema and the cross-field checks word their errors the same way.
import { isIP } from 'node:net';
import { normaliseDnsName } from '../../functions/lib/dnsName.js';

export const NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const NAME_FIX = 'use 1–63 lower-case letters, digits and hyphens, starting with a letter or digit';

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
const DNS_NAME_FIX = 'use a host name like "www.example.com" or one wildcard label "*.example.com"';

export { normaliseDnsName };

/** Why `name` cannot be on a certificate (or be a zone when wildcards are not allowed). */
export function dnsNameProblem(name: string, options: { wildcard: boolean } = { wildcard: true }): string | undefined {
  const n = name.replace(/\.$/, '');
  if (n.length > 253) {
    return `"${name.slice(0, 40)}…" is ${n.length} characters long — a DNS name has at most 253; shorten it`;
  }
  if (isIP(n)) return `"${name}" is an IP address — certpipe issues DNS-01 certificates for DNS names only`;
  const base = options.wildcard && n.startsWith('*.') ? n.slice(2) : n;
  const labels = base.split('.');
  const valid = labels.length >= 2 && labels.every((l) => LABEL.test(l)) && !/^\d+$/.test(labels.at(-1)!);
  if (valid) return undefined;
  if (!options.wildcard && n.includes('*')) return `"${name}" has a wildcard — a hosted zone is a plain domain like "example.com"`;
  return `"${name}" is not a valid DNS name — ${DNS_NAME_FIX}`;
}

/** True when `name` is `zone` or inside it (both normalised). */
export function isWithinZone(name: string, zone: string): boolean {
  const bare = name.startsWith('*.') ? name.slice(2) : name;
  return bare === zone || bare.endsWith(`.${zone}`);
}

export type RenewBefore = { seconds: number } | { fraction: number };
const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;
const PERCENT = /^(\d+(?:\.\d+)?)%$/;
export const RENEW_BEFORE_FIX = 'use a duration like "30d", "720h", "1d12h" or a share of the lifetime like "33%"';

/** "30d" → 30 days in seconds, "33%" → 0.33 of the lifetime; undefined when it is neither. */
export function parseRenewBefore(text: string): RenewBefore | undefined {
  const pct = PERCENT.exec(text);
  if (pct) {
    const value = Number(pct[1]);
    return value > 0 && value < 100 ? { fraction: value / 100 } : undefined;
  }
  const m = DURATION.exec(text);
  if (!m || text === '') return undefined;
  const [d, h, min, s] = m.slice(1).map((x) => Number(x ?? 0)) as [number, number, number, number];
  const seconds = d * 86400 + h * 3600 + min * 60 + s;
  return seconds > 0 ? { seconds } : undefined;
}

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const CRON = /^cron\(([^)]+)\)$/;
export const SCHEDULE_FIX = 'use an EventBridge Scheduler expression like "rate(12 hours)", "rate(1 day)" or "cron(0 6 * * ? *)"';

export function scheduleProblem(expr: string): string | undefined {
  const rate = RATE.exec(expr);
  if (rate) {
    const value = Number(rate[1]);
    const unit = rate[2]!;
    if (value < 1) return `"${expr}" has a zero rate — ${SCHEDULE_FIX}`;
    const singular = !unit.endsWith('s');
    // EventBridge insists: "1 hour" but "2 hours".
    if (value === 1 && !singular) return `"${expr}" must use the singular unit for 1 — write "rate(1 ${unit.slice(0, -1)})"`;
    if (value > 1 && singular) return `"${expr}" must use the plural unit — write "rate(${value} ${unit}s)"`;
    return undefined;
  }
  const cron = CRON.exec(expr);
  if (cron) {
    const fields = cron[1]!.trim().split(/\s+/);
    if (fields.length !== 6) {
      return `"${expr}" has ${fields.length} cron fields, EventBridge needs 6 (minutes hours day-of-month month day-of-week year) — e.g. "cron(0 6 * * ? *)"`;
    }
    if (fields[2] !== '?' && fields[4] !== '?') {
      return `"${expr}" sets both day-of-month and day-of-week — put "?" in one of them, e.g. "cron(0 6 * * ? *)"`;
    }
    return undefined;
  }
  return `"${expr}" is not a schedule expression — ${SCHEDULE_FIX}`;
}

export const REGION_PATTERN = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;
export const REGION_FIX = 'use an AWS region name like "us-east-1" or "eu-west-1"';

// One definition with the functions' target ids (functions/lib/targetIds.ts).
export { ROLE_ARN_PATTERN, roleAccount } from '../../functions/lib/targetIds.js';
export const ROLE_ARN_FIX = 'use an IAM role ARN like "arn:aws:iam::111111111111:role/certpipe-target"';

export const EXTERNAL_ID_PATTERN = /^[\w+=,.@:/-]{2,1224}$/;
export const SECRET_NAME_PATTERN = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
export const SECRET_NAME_FIX = 'use 1–512 letters, digits and /_+=.@- like "certpipe/web"';
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;

export const ZONE_ID_PATTERN = /^(?:\/hostedzone\/)?[A-Z0-9]{1,32}$/;
export const ZONE_ID_FIX = 'use the Route 53 hosted zone id like "Z0123456789ABCDEFGHIJ"';

export function normaliseZoneId(id: string): string {
  return id.replace(/^\/hostedzone\//, '');
}

/**
 * True when an EAB "secret" looks like the HMAC key itself rather than the name
 * or ARN of the secret holding it: a long unbroken run of base64 with mixed case
 * and digits, which no one types as a secret name.
 */
export function looksLikeInlineKey(value: string): boolean {
  if (SECRET_ARN.test(value)) return false;
  return value
    .split('/')
    .some((part) => part.length >= 32 && /^[A-Za-z0-9+_=-]+$/.test(part) && /[a-z]/.test(part) && /[A-Z]/.test(part) && /\d/.test(part));
}

export function isSecretId(value: string): boolean {
  return SECRET_ARN.test(value) || SECRET_NAME_PATTERN.test(value);
}

export const RESOLVER_FIX = 'use "ip" or "ip:port", like "10.0.0.2", "10.0.0.2:53" or "[fd00::2]:53"';

/** Parses "1.2.3.4", "1.2.3.4:53", "::1" or "[::1]:53"; undefined when it is none of those. */
export function parseResolver(text: string): { host: string; port: number } | undefined {
  let host = text;
  let port = 53;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  const v4WithPort = /^([\d.]+):(\d+)$/.exec(text);
  if (bracketed) {
    host = bracketed[1]!;
    if (bracketed[2]) port = Number(bracketed[2]);
    if (isIP(host) !== 6) return undefined;
  } else if (v4WithPort) {
    host = v4WithPort[1]!;
    port = Number(v4WithPort[2]);
    if (isIP(host) !== 4) return undefined;
  } else if (!isIP(host)) {
    return undefined;
  }
  return port >= 1 && port <= 65535 ? { host, port } : undefined;
}
