// The certificate store: Secrets Manager is the source of truth for what is
// issued. The layout below is a contract (the README documents it for users).
//
// Primary secret `spec.secretName`, in the pipeline's account and region:
//
//   AWSCURRENT   the certificate in use, JSON
//                { certificate, chain, fullchain, privateKey, notBefore, notAfter,
//                  serial, dnsNames, issuer, keyAlgorithm, certificateName, orderUrl }
//                (PEM strings; ISO dates; `issuer` is the config's issuer name).
//   AWSPREVIOUS  the one before it, for rollback.
//   AWSPENDING   while a renewal is in flight. First a claim
//                { pending: true, certificateName, orderUrl, privateKey, keyAlgorithm,
//                  dnsNames, createdAt }
//                written BEFORE the order is finalized, so the new key is durable and
//                a re-run resumes the same order; then, once the certificate is
//                downloaded and verified, a new version holding the full issued JSON.
//                Promotion moves AWSCURRENT to it (the old current becomes
//                AWSPREVIOUS) and removes AWSPENDING.
//
// Tags (so CheckExpiry needs one paginated ListSecrets, no per-secret reads):
//   certpipe:managed=true, certpipe:certificate, certpipe:not-before,
//   certpipe:not-after, certpipe:serial, certpipe:issued-at, certpipe:renewal-time,
//   certpipe:issuer, certpipe:dns-names (comma list; when longer than a tag value
//   allows, a prefix and `~` + a digest of the full list), certpipe:key-algorithm,
//   certpipe:pending-order (the order URL while one is in flight),
//   certpipe:acm:<account>:<region> (the ACM certificate ARN per ACM target).
//
// Copies (secretsmanager targets, any account/region) hold the issued JSON as
// AWSCURRENT and carry certpipe:managed, certpipe:certificate, certpipe:copy-of,
// certpipe:not-after and certpipe:serial; the inventory scan ignores them.
//
// Concurrency: every write carries a ClientRequestToken derived from what it
// means (certificate + the version it builds on, or the serial), so a repeat is
// a no-op and two executions racing for one certificate end with ONE pending
// version: the loser gets ResourceExistsException and resumes the winner's order.
import { createHash } from 'node:crypto';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
  type Tag,
} from '@aws-sdk/client-secrets-manager';
import { asAwsError, awsErrorName } from '../aws.js';
import { InvalidInput, PublishFailed } from '../errors.js';
import { keyAlgorithmSchema, type CertificateSpec, type KeyAlgorithm, type SecretTarget } from '../inventory.js';
import type { StoredFacts } from '../renewal.js';
import { deterministicToken } from './tokens.js';

export const TAG = {
  managed: 'certpipe:managed',
  certificate: 'certpipe:certificate',
  notBefore: 'certpipe:not-before',
  notAfter: 'certpipe:not-after',
  serial: 'certpipe:serial',
  issuedAt: 'certpipe:issued-at',
  renewalTime: 'certpipe:renewal-time',
  issuer: 'certpipe:issuer',
  dnsNames: 'certpipe:dns-names',
  keyAlgorithm: 'certpipe:key-algorithm',
  pendingOrder: 'certpipe:pending-order',
  copyOf: 'certpipe:copy-of',
  acmPrefix: 'certpipe:acm:',
} as const;

const MAX_TAG_VALUE = 255;
const CURRENT = 'AWSCURRENT';
const PREVIOUS = 'AWSPREVIOUS';
const PENDING = 'AWSPENDING';

/** The issued certificate as stored (AWSCURRENT). Holds the private key: never log it or pass it between states. */
export interface IssuedCertificate {
  certificate: string;
  chain: string;
  fullchain: string;
  privateKey: string;
  notBefore: string;
  notAfter: string;
  serial: string;
  dnsNames: string[];
  issuer: string;
  keyAlgorithm: KeyAlgorithm;
  certificateName: string;
  orderUrl: string;
}

/** The first AWSPENDING version of a renewal: the order in flight and its new key. */
export interface PendingClaim {
  pending: true;
  certificateName: string;
  orderUrl: string;
  privateKey: string;
  keyAlgorithm: KeyAlgorithm;
  dnsNames: string[];
  createdAt: string;
}

/** What AWSPENDING holds: a claim (order in flight) or the verified certificate awaiting promotion. */
export type PendingVersion =
  | { kind: 'claim'; versionId: string; claim: PendingClaim }
  | { kind: 'issued'; versionId: string; issued: IssuedCertificate };

/** Inventory facts of one certificate, read from its secret's tags. */
export interface StoredCertificateFacts extends StoredFacts {
  secretName: string;
  secretArn: string;
  currentVersionId?: string;
  pendingOrderUrl?: string;
  issuedAt?: Date;
  renewalTime?: Date;
  /** `<account>:<region>` → ACM certificate ARN. */
  acmCertificateArns: Record<string, string>;
}

export type ClaimOutcome =
  /** Our order is the one in flight. */
  | { outcome: 'claimed'; pending: PendingVersion }
  /** Another execution got there first: continue with its order (or its issued certificate). */
  | { outcome: 'resumed'; pending: PendingVersion }
  /** The certificate was renewed meanwhile (AWSCURRENT moved on): nothing to do. */
  | { outcome: 'superseded'; currentVersionId?: string };

export interface ClaimInput {
  orderUrl: string;
  privateKeyPem: string;
  keyAlgorithm: KeyAlgorithm;
  dnsNames: string[];
  now: Date;
}

export interface ClaimOptions {
  /** A dead pending version (its order is invalid) to replace; without it an existing claim is resumed. */
  replacePendingVersionId?: string;
  /** The AWSCURRENT version the renewal decision saw; if it has moved on, the claim is `superseded`. */
  expectedCurrentVersionId?: string;
}

// ---------------------------------------------------------------------------
// Pure encoding

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
  extra: { issuedAt: Date; renewalTime?: Date },
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
  return tags;
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
  const issuedAt = date(tags.get(TAG.issuedAt));
  const renewalTime = date(tags.get(TAG.renewalTime));
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
    ...(currentVersionId ? { currentVersionId } : {}),
    ...(issuedAt ? { issuedAt } : {}),
    ...(renewalTime ? { renewalTime } : {}),
    acmCertificateArns,
  };
}

function date(value: string | undefined): Date | undefined {
  if (!value) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** Token of the claim that builds on `currentVersionId` (and replaces a dead pending version, if any). */
export function claimToken(certificateName: string, currentVersionId: string | undefined, replaces = ''): string {
  return deterministicToken('claim', certificateName, currentVersionId ?? 'none', replaces);
}

export function issuedToken(certificateName: string, serial: string): string {
  return deterministicToken('issued', certificateName, serial);
}

export function copyToken(secretName: string, serial: string): string {
  return deterministicToken('copy', secretName, serial);
}

// ---------------------------------------------------------------------------

/**
 * One paginated ListSecrets over the managed secrets: the facts of every issued
 * certificate by name. Pass the certificate specs to restore truncated name lists.
 */
export async function scanInventory(
  sm: SecretsManagerClient,
  specs: readonly Pick<CertificateSpec, 'name' | 'dnsNames' | 'secretName'>[] = [],
): Promise<Map<string, StoredCertificateFacts>> {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const result = new Map<string, StoredCertificateFacts>();
  let NextToken: string | undefined;
  do {
    let page;
    try {
      page = await sm.send(
        new ListSecretsCommand({
          Filters: [{ Key: 'tag-key', Values: [TAG.managed] }],
          MaxResults: 100,
          ...(NextToken ? { NextToken } : {}),
        }),
      );
    } catch (err) {
      throw asAwsError(err, 'Secrets Manager ListSecrets');
    }
    for (const entry of page.SecretList ?? []) {
      const certificateName = entry.Tags?.find((t) => t.Key === TAG.certificate)?.Value;
      const spec = certificateName ? byName.get(certificateName) : undefined;
      const facts = factsFromTags(entry, spec?.dnsNames);
      if (!facts) continue;
      // A secret left behind under an old name never shadows the configured one.
      const existing = result.get(facts.certificateName);
      if (existing && spec && existing.secretName === spec.secretName) continue;
      const { certificateName: name, ...rest } = facts;
      result.set(name, rest);
    }
    NextToken = page.NextToken;
  } while (NextToken);
  return result;
}

export interface CertificateStoreOptions {
  /** KMS key for secrets this store creates (default: env CERTPIPE_KMS_KEY_ID; absent = the account's default key). */
  kmsKeyId?: string;
}

/** Versions and tags of the primary secrets, in the pipeline's account and region. */
export class CertificateStore {
  private readonly kmsKeyId: string | undefined;

  constructor(
    private readonly sm: SecretsManagerClient,
    options: CertificateStoreOptions = {},
  ) {
    this.kmsKeyId = options.kmsKeyId ?? (process.env.CERTPIPE_KMS_KEY_ID || undefined);
  }

  scanInventory(specs: readonly Pick<CertificateSpec, 'name' | 'dnsNames' | 'secretName'>[] = []) {
    return scanInventory(this.sm, specs);
  }

  /**
   * Record an order in flight and its new key as AWSPENDING, unless another
   * execution already did for the same current version: then resume theirs.
   */
  async claimPending(spec: CertificateSpec, input: ClaimInput, options: ClaimOptions = {}): Promise<ClaimOutcome> {
    let stages = await this.stages(spec);
    if (!stages) {
      await this.createEmpty(spec);
      stages = (await this.stages(spec)) ?? {};
    }
    const currentId = versionWith(stages, CURRENT);
    if (options.expectedCurrentVersionId !== undefined && currentId !== options.expectedCurrentVersionId) {
      return { outcome: 'superseded', ...(currentId ? { currentVersionId: currentId } : {}) };
    }
    const token = claimToken(spec.name, currentId, options.replacePendingVersionId);
    const claim: PendingClaim = {
      pending: true,
      certificateName: spec.name,
      orderUrl: input.orderUrl,
      privateKey: input.privateKeyPem,
      keyAlgorithm: input.keyAlgorithm,
      dnsNames: [...input.dnsNames],
      createdAt: input.now.toISOString(),
    };
    try {
      await this.sm.send(
        new PutSecretValueCommand({
          SecretId: spec.secretName,
          ClientRequestToken: token,
          SecretString: JSON.stringify(claim),
          VersionStages: [PENDING],
        }),
      );
    } catch (err) {
      if (awsErrorName(err) !== 'ResourceExistsException') {
        throw asAwsError(err, `Claiming the renewal of ${spec.name} in ${spec.secretName}`);
      }
    }
    // Whatever happened, AWSPENDING now tells who owns the renewal.
    const pending = await this.readPending(spec);
    if (!pending) {
      const now = versionWith((await this.stages(spec)) ?? {}, CURRENT);
      return { outcome: 'superseded', ...(now ? { currentVersionId: now } : {}) };
    }
    const ours = pending.kind === 'claim' && pending.versionId === token && pending.claim.orderUrl === input.orderUrl;
    if (ours) {
      await this.tag(spec, [{ Key: TAG.pendingOrder, Value: input.orderUrl }]);
      return { outcome: 'claimed', pending };
    }
    return { outcome: 'resumed', pending };
  }

  /** What AWSPENDING holds, if anything. */
  async readPending(spec: CertificateSpec): Promise<PendingVersion | undefined> {
    const value = await this.read(spec, { VersionStage: PENDING });
    if (!value) return undefined;
    const parsed = parseVersion(spec.secretName, value.text);
    return 'pending' in parsed
      ? { kind: 'claim', versionId: value.versionId, claim: parsed }
      : { kind: 'issued', versionId: value.versionId, issued: parsed };
  }

  /** The certificate in use, or undefined when none was issued yet. */
  async readCurrent(spec: CertificateSpec): Promise<{ versionId: string; issued: IssuedCertificate } | undefined> {
    const value = await this.read(spec, { VersionStage: CURRENT });
    if (!value) return undefined;
    const parsed = parseVersion(spec.secretName, value.text);
    if ('pending' in parsed) throw new InvalidInput(`${spec.secretName}: AWSCURRENT holds a pending claim, not a certificate`);
    return { versionId: value.versionId, issued: parsed };
  }

  /** Store the verified certificate as the new AWSPENDING version (idempotent per serial). */
  async storeIssued(spec: CertificateSpec, issued: IssuedCertificate): Promise<string> {
    const token = issuedToken(spec.name, issued.serial);
    try {
      await this.sm.send(
        new PutSecretValueCommand({
          SecretId: spec.secretName,
          ClientRequestToken: token,
          SecretString: JSON.stringify(issued),
          VersionStages: [PENDING],
        }),
      );
    } catch (err) {
      if (awsErrorName(err) !== 'ResourceExistsException') {
        throw asAwsError(err, `Storing the issued certificate of ${spec.name} in ${spec.secretName}`);
      }
      // The same serial was stored before (a retry): fine as long as it is that certificate.
      const stored = await this.read(spec, { VersionId: token });
      const parsed = stored ? parseVersion(spec.secretName, stored.text) : undefined;
      if (!parsed || 'pending' in parsed || parsed.serial !== issued.serial) {
        throw new InvalidInput(`${spec.secretName}: version ${token} exists and is not certificate ${issued.serial}`, {
          cause: err,
        });
      }
    }
    return token;
  }

  /**
   * Make the verified AWSPENDING certificate current (the old one becomes
   * AWSPREVIOUS), drop AWSPENDING and update the tags. Idempotent: when the
   * certificate with `serial` is already current, only the tags are refreshed.
   */
  async promote(
    spec: CertificateSpec,
    options: { now: Date; renewalTime?: Date; serial?: string },
  ): Promise<IssuedCertificate> {
    const stages = await this.stages(spec);
    if (!stages) throw new InvalidInput(`Secret ${spec.secretName} of ${spec.name} does not exist`);
    const currentId = versionWith(stages, CURRENT);
    const pendingId = versionWith(stages, PENDING);

    let issued: IssuedCertificate;
    if (!pendingId) {
      const current = await this.readCurrent(spec);
      if (!current || (options.serial && current.issued.serial !== options.serial)) {
        throw new InvalidInput(`${spec.secretName} has no verified pending certificate to promote`);
      }
      issued = current.issued;
    } else {
      const pending = await this.readPending(spec);
      if (!pending || pending.kind !== 'issued') {
        throw new InvalidInput(`${spec.secretName}: the pending version is an order in flight, not a verified certificate`);
      }
      if (options.serial && pending.issued.serial !== options.serial) {
        throw new InvalidInput(
          `${spec.secretName}: the pending certificate is ${pending.issued.serial}, not ${options.serial}`,
        );
      }
      issued = pending.issued;
      if (pendingId !== currentId) {
        await this.moveStage(spec, CURRENT, pendingId, currentId);
      }
      await this.updateStage(spec, {
        SecretId: spec.secretName,
        VersionStage: PENDING,
        RemoveFromVersionId: pendingId,
      });
    }
    await this.tag(spec, certificateTags(issued, { issuedAt: options.now, renewalTime: options.renewalTime }));
    await this.untag(spec, [TAG.pendingOrder]);
    return issued;
  }

  /** Put AWSPREVIOUS back as AWSCURRENT (the replaced one becomes AWSPREVIOUS) and re-tag. */
  async rollback(spec: CertificateSpec, options: { now: Date; renewalTime?: Date }): Promise<IssuedCertificate> {
    const stages = await this.stages(spec);
    const previousId = stages ? versionWith(stages, PREVIOUS) : undefined;
    if (!stages || !previousId) throw new InvalidInput(`${spec.secretName} has no previous version to roll back to`);
    await this.moveStage(spec, CURRENT, previousId, versionWith(stages, CURRENT));
    const current = await this.readCurrent(spec);
    if (!current) throw new InvalidInput(`${spec.secretName} has no current version after rollback`);
    await this.tag(spec, certificateTags(current.issued, { issuedAt: options.now, renewalTime: options.renewalTime }));
    return current.issued;
  }

  /** Forget a dead order's claim so the next run orders afresh (the claim version stays, unlabelled). */
  async abandonPending(spec: CertificateSpec, pendingVersionId: string): Promise<void> {
    await this.updateStage(spec, { SecretId: spec.secretName, VersionStage: PENDING, RemoveFromVersionId: pendingVersionId });
    await this.untag(spec, [TAG.pendingOrder]);
  }

  /** The ACM certificate ARN recorded for an account and region. */
  async acmCertificateArn(spec: CertificateSpec, accountId: string, region: string): Promise<string | undefined> {
    const tags = await this.tags(spec);
    return tags.get(acmTagKey(accountId, region));
  }

  async recordAcmCertificateArn(spec: CertificateSpec, accountId: string, region: string, arn: string): Promise<void> {
    await this.tag(spec, [{ Key: acmTagKey(accountId, region), Value: arn }]);
  }

  // -------------------------------------------------------------------------

  private async createEmpty(spec: CertificateSpec): Promise<void> {
    try {
      // No value: the first version must be a pending claim, never AWSCURRENT.
      await this.sm.send(
        new CreateSecretCommand({
          Name: spec.secretName,
          Description: `certpipe certificate ${spec.name}`,
          ...(this.kmsKeyId ? { KmsKeyId: this.kmsKeyId } : {}),
          Tags: [
            { Key: TAG.managed, Value: 'true' },
            { Key: TAG.certificate, Value: spec.name },
          ],
        }),
      );
    } catch (err) {
      if (awsErrorName(err) !== 'ResourceExistsException') throw asAwsError(err, `Creating secret ${spec.secretName}`);
    }
  }

  /** Version id → stages; undefined when the secret does not exist. */
  private async stages(spec: CertificateSpec): Promise<Record<string, string[]> | undefined> {
    const described = await this.describe(spec);
    return described ? (described.VersionIdsToStages ?? {}) : undefined;
  }

  private async tags(spec: CertificateSpec): Promise<Map<string, string>> {
    const described = await this.describe(spec);
    return new Map((described?.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
  }

  private async describe(spec: CertificateSpec) {
    try {
      return await this.sm.send(new DescribeSecretCommand({ SecretId: spec.secretName }));
    } catch (err) {
      if (awsErrorName(err) === 'ResourceNotFoundException') return undefined;
      throw asAwsError(err, `Describing secret ${spec.secretName}`);
    }
  }

  private async read(
    spec: CertificateSpec,
    which: { VersionStage: string } | { VersionId: string },
  ): Promise<{ versionId: string; text: string } | undefined> {
    try {
      const r = await this.sm.send(new GetSecretValueCommand({ SecretId: spec.secretName, ...which }));
      if (!r.VersionId || r.SecretString === undefined) return undefined;
      return { versionId: r.VersionId, text: r.SecretString };
    } catch (err) {
      if (awsErrorName(err) === 'ResourceNotFoundException') return undefined;
      throw asAwsError(err, `Reading secret ${spec.secretName}`);
    }
  }

  private moveStage(spec: CertificateSpec, stage: string, to: string, from: string | undefined): Promise<void> {
    return this.updateStage(spec, {
      SecretId: spec.secretName,
      VersionStage: stage,
      MoveToVersionId: to,
      ...(from && from !== to ? { RemoveFromVersionId: from } : {}),
    });
  }

  private async updateStage(
    spec: CertificateSpec,
    input: ConstructorParameters<typeof UpdateSecretVersionStageCommand>[0],
  ): Promise<void> {
    try {
      await this.sm.send(new UpdateSecretVersionStageCommand(input));
    } catch (err) {
      throw asAwsError(err, `Moving ${input.VersionStage} of ${spec.secretName}`);
    }
  }

  private async tag(spec: CertificateSpec, tags: Tag[]): Promise<void> {
    try {
      await this.sm.send(new TagResourceCommand({ SecretId: spec.secretName, Tags: tags }));
    } catch (err) {
      throw asAwsError(err, `Tagging secret ${spec.secretName}`);
    }
  }

  private async untag(spec: CertificateSpec, keys: string[]): Promise<void> {
    try {
      await this.sm.send(new UntagResourceCommand({ SecretId: spec.secretName, TagKeys: keys }));
    } catch (err) {
      throw asAwsError(err, `Untagging secret ${spec.secretName}`);
    }
  }
}

function versionWith(stages: Record<string, string[]>, stage: string): string | undefined {
  return Object.entries(stages).find(([, s]) => s.includes(stage))?.[0];
}

function parseVersion(secretName: string, text: string): PendingClaim | IssuedCertificate {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidInput(`Secret ${secretName} does not hold certpipe JSON`);
  }
  const v = value as Partial<PendingClaim & IssuedCertificate>;
  if (v.pending === true && typeof v.orderUrl === 'string' && typeof v.privateKey === 'string') return v as PendingClaim;
  if (typeof v.certificate === 'string' && typeof v.privateKey === 'string' && typeof v.serial === 'string') {
    return v as IssuedCertificate;
  }
  throw new InvalidInput(`Secret ${secretName} holds JSON that is neither a certificate nor a pending claim`);
}

// ---------------------------------------------------------------------------
// Copies in other accounts and regions

/** Write the issued JSON to a secretsmanager target (created on first use); idempotent per serial. */
export async function publishSecretCopy(
  sm: SecretsManagerClient,
  target: Pick<SecretTarget, 'name' | 'region'>,
  issued: IssuedCertificate,
): Promise<{ secretName: string; versionId: string }> {
  const token = copyToken(target.name, issued.serial);
  const SecretString = JSON.stringify(issued);
  const tags: Tag[] = [
    { Key: TAG.managed, Value: 'true' },
    { Key: TAG.certificate, Value: issued.certificateName },
    { Key: TAG.copyOf, Value: issued.certificateName },
    { Key: TAG.notAfter, Value: issued.notAfter },
    { Key: TAG.serial, Value: issued.serial },
  ];
  const where = `secret ${target.name} in ${target.region}`;
  const put = () => sm.send(new PutSecretValueCommand({ SecretId: target.name, ClientRequestToken: token, SecretString }));
  try {
    try {
      await put();
    } catch (err) {
      if (awsErrorName(err) !== 'ResourceNotFoundException') throw err;
      try {
        await sm.send(new CreateSecretCommand({ Name: target.name, ClientRequestToken: token, SecretString, Tags: tags }));
        return { secretName: target.name, versionId: token };
      } catch (createErr) {
        // Another execution created it first: write our version on top.
        if (awsErrorName(createErr) !== 'ResourceExistsException') throw createErr;
        await put();
      }
    }
    await sm.send(new TagResourceCommand({ SecretId: target.name, Tags: tags }));
  } catch (err) {
    if (awsErrorName(err) === 'ResourceExistsException') {
      throw new PublishFailed(`${where}: version ${token} exists with other content`, [where], { cause: err });
    }
    throw asAwsError(err, `Copying ${issued.certificateName} to ${where}`);
  }
  return { secretName: target.name, versionId: token };
}

/** The issued JSON from the CA's full chain (leaf first) and verified facts. */
export function buildIssued(input: {
  spec: Pick<CertificateSpec, 'name' | 'issuer' | 'keyAlgorithm'>;
  certificates: readonly string[];
  privateKeyPem: string;
  orderUrl: string;
  facts: { notBefore: Date; notAfter: Date; serial: string; dnsNames: string[]; keyAlgorithm?: KeyAlgorithm };
}): IssuedCertificate {
  const [leaf, ...chain] = input.certificates;
  if (!leaf) throw new InvalidInput(`The CA returned no certificate for ${input.spec.name}`);
  return {
    certificate: leaf,
    chain: chain.join(''),
    fullchain: input.certificates.join(''),
    privateKey: input.privateKeyPem,
    notBefore: input.facts.notBefore.toISOString(),
    notAfter: input.facts.notAfter.toISOString(),
    serial: input.facts.serial,
    dnsNames: [...input.facts.dnsNames],
    issuer: input.spec.issuer,
    keyAlgorithm: input.facts.keyAlgorithm ?? input.spec.keyAlgorithm,
    certificateName: input.spec.name,
    orderUrl: input.orderUrl,
  };
}
