// Tags of the primary secret: what CheckExpiry reads from one ListSecrets. Pure.
import { createHash } from 'node:crypto';
import type { Tag } from '@aws-sdk/client-secrets-manager';
import { ariCertId } from '../acme/ari.js';
import { decodeAriCache } from '../acme/ariCache.js';
import { parseRevocationTag } from '../acme/revocation.js';
import { decodeFailures, decodeOrders } from '../budget/ledger.js';
import { keyAlgorithmSchema } from '../inventory.js';
import { TAG, type IssuedCertificate, type StoredCertificateFacts, type UnissuedLedger } from './model.js';

// Secrets Manager documents 255 in places and 256 in others: stay within both.
const MAX_TAG_VALUE = 255;
const CURRENT = 'AWSCURRENT';

/** A stable digest of a set of DNS names (order and case do not matter). */
export function dnsNamesDigest(names: readonly string[]): string {
  const canonical = [...new Set(names.map((n) => n.toLowerCase()))].sort().join(',');
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

/** The dns-names tag: the comma list, or when too long a prefix of it, `~` and the digest of the whole. */
export function encodeDnsNamesTag(names: readonly string[]): string {
  const full = names.join(',');
  if (full.length <= MAX_TAG_VALUE) return full;
  const suffix = `~${dnsNamesDigest(names)}`;
  const room = MAX_TAG_VALUE - suffix.length;
  const cut = full.slice(0, room);
  const lastComma = cut.lastIndexOf(',');
  return `${lastComma > 0 ? cut.slice(0, lastComma + 1) : cut}${suffix}`;
}

/** Names from the tag; `digest` is set when the list was truncated. */
export function decodeDnsNamesTag(value: string): { names: string[]; digest?: string } {
  const truncated = /~([0-9a-f]{16})$/.exec(value);
  const list = truncated ? value.slice(0, truncated.index) : value;
  const names = list.split(',').filter((n) => n !== '');
  return truncated ? { names, digest: truncated[1] } : { names };
}

export function acmTagKey(accountId: string, region: string): string {
  return `${TAG.acmPrefix}${accountId}:${region}`;
}

/** Tags describing the current certificate of a primary secret. */
export function certificateTags(
  issued: IssuedCertificate,
  extra: { issuedAt: Date; renewalTime?: Date; gateFingerprint?: string },
): Tag[] {
  const tags: Tag[] = [
    { Key: TAG.managed, Value: 'true' },
    { Key: TAG.certificate, Value: issued.certificateName },
    { Key: TAG.notBefore, Value: issued.notBefore },
    { Key: TAG.notAfter, Value: issued.notAfter },
    { Key: TAG.serial, Value: issued.serial },
    { Key: TAG.issuedAt, Value: extra.issuedAt.toISOString() },
    { Key: TAG.issuer, Value: issued.issuer },
    { Key: TAG.dnsNames, Value: encodeDnsNamesTag(issued.dnsNames) },
    { Key: TAG.keyAlgorithm, Value: issued.keyAlgorithm },
  ];
  if (extra.renewalTime) tags.push({ Key: TAG.renewalTime, Value: extra.renewalTime.toISOString() });
  const certId = certIdOf(issued.certificate);
  if (certId) tags.push({ Key: TAG.ariCertId, Value: certId });
  if (extra.gateFingerprint) tags.push({ Key: TAG.gateFingerprint, Value: extra.gateFingerprint });
  return tags;
}

/** A certificate without an Authority Key Identifier has no ARI identifier: it renews by the policy alone. */
function certIdOf(certificatePem: string): string | undefined {
  try {
    return ariCertId(certificatePem);
  } catch {
    return undefined;
  }
}

/**
 * Facts from a ListSecrets entry's tags, or undefined when the secret holds no
 * issued certificate yet (or is a copy). A truncated name list is restored from
 * `knownNames` when their digest matches.
 */
export function factsFromTags(
  entry: { Name?: string; ARN?: string; Tags?: Tag[]; SecretVersionsToStages?: Record<string, string[]> },
  knownNames?: readonly string[],
): (StoredCertificateFacts & { certificateName: string }) | undefined {
  const tags = new Map((entry.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
  if (tags.has(TAG.copyOf)) return undefined;
  const certificateName = tags.get(TAG.certificate);
  const notBefore = date(tags.get(TAG.notBefore));
  const notAfter = date(tags.get(TAG.notAfter));
  const serial = tags.get(TAG.serial);
  if (!certificateName || !notBefore || !notAfter || !serial) return undefined;

  const decoded = decodeDnsNamesTag(tags.get(TAG.dnsNames) ?? '');
  const dnsNames =
    decoded.digest && knownNames && dnsNamesDigest(knownNames) === decoded.digest ? [...knownNames] : decoded.names;
  const keyAlgorithm = keyAlgorithmSchema.safeParse(tags.get(TAG.keyAlgorithm));
  const acmCertificateArns: Record<string, string> = {};
  for (const [key, value] of tags) {
    if (key.startsWith(TAG.acmPrefix)) acmCertificateArns[key.slice(TAG.acmPrefix.length)] = value;
  }
  const currentVersionId = Object.entries(entry.SecretVersionsToStages ?? {}).find(([, s]) => s.includes(CURRENT))?.[0];
  const pendingOrderUrl = tags.get(TAG.pendingOrder) || undefined;
  const publishPending = (tags.get(TAG.publishPending) ?? '').split(',').filter(Boolean);
  const issuedAt = date(tags.get(TAG.issuedAt));
  const renewalTime = date(tags.get(TAG.renewalTime));
  const deferredUntil = date(tags.get(TAG.deferredUntil));
  const deferredReason = tags.get(TAG.deferredReason) || undefined;
  const ariCertIdTag = tags.get(TAG.ariCertId) || undefined;
  const ariCache = decodeAriCache(tags.get(TAG.ariCache), tags.get(TAG.ariExplanation) || undefined);
  const failedAuthorizations = decodeFailures(tags.get(TAG.failedAuthz), dnsNames);
  const revoked = parseRevocationTag(tags.get(TAG.revoked))?.serial.toLowerCase() === serial.toLowerCase();
  return {
    certificateName,
    secretName: entry.Name ?? '',
    secretArn: entry.ARN ?? '',
    notBefore,
    notAfter,
    serial,
    dnsNames,
    issuer: tags.get(TAG.issuer) ?? '',
    ...(keyAlgorithm.success ? { keyAlgorithm: keyAlgorithm.data } : {}),
    ...(pendingOrderUrl ? { pendingOrder: true, pendingOrderUrl } : {}),
    ...(publishPending.length ? { publishPending } : {}),
    ...(currentVersionId ? { currentVersionId } : {}),
    ...(issuedAt ? { issuedAt } : {}),
    ...(renewalTime ? { renewalTime } : {}),
    ...(revoked ? { revoked } : {}),
    ...(deferredUntil ? { deferredUntil } : {}),
    ...(deferredReason ? { deferredReason } : {}),
    ...(ariCertIdTag ? { ariCertId: ariCertIdTag } : {}),
    ...(ariCache ? { ariCache } : {}),
    ...(tags.has(TAG.orders) ? { ordersPlaced: decodeOrders(tags.get(TAG.orders)) } : {}),
    ...(failedAuthorizations.length ? { failedAuthorizations } : {}),
    ...(tags.get(TAG.gateFingerprint) ? { gateFingerprint: tags.get(TAG.gateFingerprint)! } : {}),
    acmCertificateArns,
  };
}

/**
 * The budget's ledger on a secret that holds no issued certificate yet (a first issuance
 * whose orders failed): named by the configured names, as the secret carries none.
 * Undefined when there is no ledger on it.
 */
export function unissuedLedgerFromTags(entry: { Tags?: Tag[] }, knownNames: readonly string[]): UnissuedLedger | undefined {
  const tags = new Map((entry.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
  if (tags.has(TAG.copyOf) || (!tags.has(TAG.orders) && !tags.has(TAG.failedAuthz))) return undefined;
  return { ordersPlaced: decodeOrders(tags.get(TAG.orders)), failedAuthorizations: decodeFailures(tags.get(TAG.failedAuthz), knownNames) };
}

function date(value: string | undefined): Date | undefined {
  if (!value) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d;
}
