// The staging gate and the canary in the config: which issuer is whose staging
// twin, which certificates are gated, and the canary as one more certificate of
// the inventory. Read defensively by the cross-checks (like checks.ts), typed by toInventory.
import type { CertificateSpec } from '../../functions/lib/inventory.js';
import { isWithinZone, normaliseDnsName } from './formats.js';

import { CANARY_NAME } from '../../functions/lib/gate/canary.js';

export { CANARY_NAME };
/** The canary's secret (config names cannot collide with its name: see gateProblems). */
export const CANARY_SECRET_NAME = 'certpipe/canary';

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

interface IssuerLike {
  name?: unknown;
  preset?: unknown;
  staging?: unknown;
}

/**
 * The staging twin of an issuer: the one it names with `staging:`, or for the
 * `letsencrypt` preset the config's `letsencrypt-staging` issuer when there is
 * one. Never an implicit issuer: an issuer the config does not list would be a
 * second ACME account nobody chose (and one more directory to trust).
 */
export function stagingTwinOf(issuer: IssuerLike, issuers: readonly IssuerLike[]): string | undefined {
  const named = str(issuer.staging);
  if (named !== undefined) return named;
  if (issuer.preset !== 'letsencrypt') return undefined;
  return str(issuers.find((i) => i.preset === 'letsencrypt-staging')?.name);
}

/** Staging issuers: every issuer some issuer names as its twin, and every letsencrypt-staging preset. */
export function stagingIssuerNames(issuers: readonly IssuerLike[]): Set<string> {
  const names = new Set<string>();
  for (const i of issuers) {
    const twin = stagingTwinOf(i, issuers);
    if (twin) names.add(twin);
    if (i.preset === 'letsencrypt-staging' && str(i.name)) names.add(i.name as string);
  }
  return names;
}

/** The issuer a certificate without `issuer:` uses: the only one that is not a staging twin. */
export function defaultIssuer(issuers: readonly IssuerLike[]): string | undefined {
  if (issuers.length === 1) return str(issuers[0]!.name);
  const staging = stagingIssuerNames(issuers);
  const production = issuers.filter((i) => !staging.has(str(i.name) ?? ''));
  return production.length === 1 ? str(production[0]!.name) : undefined;
}

/** The rehearsal secret of a gated certificate: beside its own, read by no consumer. */
export function stagingSecretName(secretName: string): string {
  return `${secretName}/staging`;
}

/** `every: 12h` → seconds; undefined when it is not a duration. */
export function everySeconds(text: string): number | undefined {
  const m = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$/.exec(text);
  if (!m || text === '') return undefined;
  const [d, h, min] = m.slice(1).map((x) => Number(x ?? 0)) as [number, number, number];
  const seconds = d * 86400 + h * 3600 + min * 60;
  return seconds > 0 ? seconds : undefined;
}

const RATE_UNIT_SECONDS: Record<string, number> = { minute: 60, minutes: 60, hour: 3600, hours: 3600, day: 86400, days: 86400 };

/** Seconds between scheduled runs: a rate() as written; a cron() counts as daily (the cadence check allows no less). */
export function scheduleIntervalSeconds(schedule: string): number {
  const rate = /^rate\((\d+)\s+([a-z]+)\)$/.exec(schedule.trim());
  const seconds = rate ? Number(rate[1]) * (RATE_UNIT_SECONDS[rate[2]!] ?? Number.NaN) : Number.NaN;
  return Number.isFinite(seconds) && seconds > 0 ? seconds : 86_400;
}

export function gateProblems(doc: Rec): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  const issuers = list(doc.issuers).filter(isRec);
  const names = issuers.map((i) => str(i.name));
  issuers.forEach((issuer, ii) => {
    const twin = str(issuer.staging);
    if (twin === undefined) return;
    if (twin === issuer.name) problems.push({ path: ['issuers', ii, 'staging'], message: 'names the issuer itself — name its staging issuer, or remove it' });
    else if (!names.includes(twin)) problems.push({ path: ['issuers', ii, 'staging'], message: `"${twin}" is not a configured issuer — add it to issuers, or use one of: ${names.filter(Boolean).join(', ')}` });
    else if (stagingTwinOf(issuers.find((i) => i.name === twin)!, issuers)) {
      problems.push({ path: ['issuers', ii, 'staging'], message: `"${twin}" has a staging twin of its own — a staging issuer is not gated; remove its "staging"` });
    }
  });
  list(doc.certificates).forEach((c, ci) => {
    if (isRec(c) && c.name === CANARY_NAME) problems.push({ path: ['certificates', ci, 'name'], message: `"${CANARY_NAME}" is the canary's name — choose another` });
  });
  const canary = doc.canary;
  if (isRec(canary)) {
    const issuer = str(canary.issuer);
    if (issuer !== undefined && !stagingIssuerNames(issuers).has(issuer)) {
      problems.push({
        path: ['canary', 'issuer'],
        message: `"${issuer}" is not a staging issuer — the canary never spends production quota: use an issuer that is some issuer's "staging" twin, or a letsencrypt-staging preset`,
      });
    }
    const dnsName = str(canary.dnsName);
    const zones = list(doc.hostedZones).filter(isRec).map((z) => str(z.name)).filter((z): z is string => !!z).map(normaliseDnsName);
    if (dnsName !== undefined && !zones.some((z) => isWithinZone(normaliseDnsName(dnsName), z))) {
      problems.push({ path: ['canary', 'dnsName'], message: `no hosted zone covers "${dnsName}" — add its zone to hostedZones or pick a name in one` });
    }
  }
  return problems;
}

/** The canary as a certificate of the inventory: a staging issuer, its own secret, no targets. */
export function canarySpec(canary: { dnsName: string; issuer: string; every?: string }, scheduleSeconds: number): CertificateSpec {
  return {
    name: CANARY_NAME,
    dnsNames: [normaliseDnsName(canary.dnsName)],
    issuer: canary.issuer,
    keyAlgorithm: 'ecdsa-p256',
    privateKeyRotation: 'always',
    renewal: { renewAtFractionLeft: 1 / 3 },
    secretName: CANARY_SECRET_NAME,
    hostedZoneIds: {},
    targets: [],
    canary: { everySeconds: (canary.every !== undefined && everySeconds(canary.every)) || scheduleSeconds },
  };
}
