// Synth-time checks of CertificateRenewalPipeline's props. Each failure names the
// prop and the fix; nothing here touches AWS.
import { Duration } from 'aws-cdk-lib';
import { parseInventory, type Inventory } from '../../functions/lib/inventory.js';
import { InfraPropsError } from './errors.js';
import { normaliseDnsName } from './permissions.js';

const CONSTRUCT = 'CertificateRenewalPipeline';
const fail = (prop: string, problem: string, fix: string): never => {
  throw new InfraPropsError(CONSTRUCT, prop, problem, fix);
};

/** Step Functions runs at most 40 iterations of an inline Map at once. */
export const MAX_INLINE_MAP_CONCURRENCY = 40;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const UNITS: Record<string, number> = { minute: 60, minutes: 60, hour: 3600, hours: 3600, day: 86400, days: 86400 };

export function checkInventory(inventory: Inventory): Inventory {
  let parsed: Inventory;
  try {
    parsed = parseInventory(inventory);
  } catch (err) {
    return fail('inventory', (err as Error).message, 'build it with toInventory() from infra/config.ts, which applies every default');
  }
  const issuers = new Set(parsed.issuers.map((i) => i.name));
  const names = new Set<string>();
  const secrets = new Map<string, string>();
  const zones = parsed.hostedZones.map((z) => normaliseDnsName(z.name));
  for (const cert of parsed.certificates) {
    const at = `inventory.certificates[${cert.name}]`;
    if (names.has(cert.name)) fail(`${at}.name`, 'two certificates have this name', 'give each certificate its own name');
    names.add(cert.name);
    if (!issuers.has(cert.issuer)) {
      fail(`${at}.issuer`, `no issuer is named "${cert.issuer}"`, `add it to issuers or use one of: ${[...issuers].join(', ') || '(none)'}`);
    }
    const other = secrets.get(cert.secretName);
    if (other) fail(`${at}.secretName`, `"${cert.secretName}" is also the secret of certificate "${other}"`, 'give each certificate its own secretName');
    secrets.set(cert.secretName, cert.name);
    if (zones.length > 0) {
      for (const dnsName of cert.dnsNames) {
        const name = normaliseDnsName(dnsName).replace(/^\*\./, '');
        if (!zones.some((z) => name === z || name.endsWith(`.${z}`))) {
          fail(
            `${at}.dnsNames`,
            `"${dnsName}" is in none of the hosted zones (${zones.join(', ')}), so the pipeline could not write its challenge record`,
            'add the zone that holds this name to hostedZones',
          );
        }
      }
    }
    cert.targets.forEach((target, i) => {
      if (target.roleArn !== undefined && !ROLE_ARN.test(target.roleArn)) {
        fail(`${at}.targets[${i}].roleArn`, `"${target.roleArn}" is not an IAM role ARN`, 'use arn:aws:iam::<12-digit account>:role/<name>, the role the target stack creates');
      }
      if (target.roleArn && !target.externalId) {
        fail(`${at}.targets[${i}].externalId`, 'a cross-account target needs an ExternalId', 'set externalId to the value the target-account stack trusts');
      }
    });
  }
  if (!parsed.eventBusName) fail('inventory.eventBusName', 'is empty', "set it to 'default' or the name of your bus");
  return parsed;
}

export function checkCount(prop: string, value: number, min: number, max: number, fix: string): number {
  if (!Number.isInteger(value) || value < min || value > max) fail(prop, `must be an integer from ${min} to ${max} (got ${value})`, fix);
  return value;
}

export function checkNumber(prop: string, value: number, min: number, max: number, fix: string): number {
  if (!Number.isFinite(value) || value < min || value > max) fail(prop, `must be from ${min} to ${max} (got ${value})`, fix);
  return value;
}

export function checkDuration(prop: string, value: Duration, min: Duration, max: Duration, fix: string): Duration {
  const s = value.toSeconds();
  if (s < min.toSeconds() || s > max.toSeconds()) fail(prop, `must be from ${min.toHumanString()} to ${max.toHumanString()} (got ${value.toHumanString()})`, fix);
  return value;
}

export function checkEmails(prop: string, emails: readonly string[]): readonly string[] {
  for (const email of emails) if (!EMAIL.test(email)) fail(prop, `"${email}" is not an email address`, 'use name@example.com');
  return emails;
}

export function checkHttpsEndpoints(prop: string, urls: readonly string[]): readonly string[] {
  for (const url of urls) {
    let ok = false;
    try {
      ok = new URL(url).protocol === 'https:';
    } catch {
      ok = false;
    }
    if (!ok) fail(prop, `"${url}" is not an https:// URL`, 'use the HTTPS endpoint your pager gives you (SNS confirms it by a request to that URL)');
  }
  return urls;
}

/**
 * The MinDaysToExpiry alarm treats a day without data as breaching, so the
 * schedule must run at least daily: a `rate()` of at most one day, or a `cron()`
 * that fires every day. A one-time `at()` is refused for the same reason.
 */
export function checkScheduleCadence(prop: string, expression: string): void {
  const rate = /^rate\((\d+)\s+([a-z]+)\)$/.exec(expression.trim());
  if (rate) {
    const seconds = Number(rate[1]) * (UNITS[rate[2]!] ?? Number.NaN);
    if (!Number.isFinite(seconds) || seconds <= 0) fail(prop, `"${expression}" is not a valid rate`, 'write rate(<n> minutes|hours|days), e.g. rate(12 hours)');
    if (seconds > 86400) fail(prop, `"${expression}" runs less than daily, so the MinDaysToExpiry alarm (missing data pages) would fire between runs`, 'run at least daily, e.g. rate(12 hours)');
    return;
  }
  const cron = /^cron\((.+)\)$/.exec(expression.trim());
  if (cron) {
    const fields = cron[1]!.trim().split(/\s+/);
    if (fields.length !== 6) fail(prop, `"${expression}" needs 6 fields (minutes hours day-of-month month day-of-week year)`, 'e.g. cron(0 3,15 * * ? *)');
    const [, , dom, month, dow, year] = fields as [string, string, string, string, string, string];
    const every = (f: string) => f === '*' || f === '?';
    if (!(every(dom) && every(month) && every(dow) && every(year))) {
      fail(prop, `"${expression}" does not fire every day, so the MinDaysToExpiry alarm (missing data pages) would fire between runs`, 'use * or ? for day-of-month, month, day-of-week and year');
    }
    return;
  }
  fail(prop, `"${expression}" is not a recurring schedule`, 'use rate(12 hours) or a daily cron(...)');
}
