// The certificate store: Secrets Manager is the source of truth for what is
// issued. The layout below is a contract (the README documents it for users).
//
// Primary secret `spec.secretName`, in the pipeline's account and region:
//
//   AWSCURRENT   the certificate in use, JSON
//                { certificate, chain, privateKey, notBefore, notAfter, serial,
//                  dnsNames, issuer, keyAlgorithm, certificateName, orderUrl }
//                (PEM strings; ISO dates; `issuer` is the config's issuer name;
//                `chain` is the verified path to the trust anchor, root excluded),
//                plus `fullchain` (leaf + chain) when the certificate sets storeFullchain.
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
import { InvalidInput, RenewalInProgress } from '../workflow/errors.js';
import type { CertificateSpec, KeyAlgorithm } from '../inventory.js';
import {
  TAG,
  type IssuedCertificate,
  type PendingClaim,
  type PendingVersion,
  type StoredCertificateFacts,
  StoredInventory,
} from './model.js';
import { acmTagKey, certificateTags, factsFromTags, unissuedLedgerFromTags } from './tags.js';
import { claimToken, deterministicToken, issuedToken } from './tokens.js';
import { recordDeferral, type DeferralReason } from './deferral.js';
import { recordFailedAuthorizations, recordOrderPlaced } from './budgetLedger.js';
import { formatRevocationTag, parseRevocationTag, type RevocationRecord } from '../acme/revocation.js';

export * from './model.js';
export * from './tags.js';
export { claimToken, copyToken, issuedToken } from './tokens.js';
export { publishSecretCopy } from './copies.js';

const CURRENT = 'AWSCURRENT';
const PREVIOUS = 'AWSPREVIOUS';
const PENDING = 'AWSPENDING';
/** Labels the verified certificate between storing it and moving AWSPENDING to it. */
const VERIFIED = 'certpipe-verified';
/** Claims over one current version before giving up: each abandoned claim or rollback spends one. */
const MAX_CLAIM_ATTEMPTS = 100;

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

/**
 * One paginated ListSecrets over the managed secrets: the facts of every issued
 * certificate by name. Pass the certificate specs to restore truncated name lists.
 */
export async function scanInventory(
  sm: SecretsManagerClient,
  specs: readonly Pick<CertificateSpec, 'name' | 'dnsNames' | 'secretName'>[] = [],
): Promise<StoredInventory> {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const result = new StoredInventory();
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
      if (!facts) {
        const ledger = spec && entry.Name === spec.secretName ? unissuedLedgerFromTags(entry, spec.dnsNames) : undefined;
        if (ledger) result.unissued.set(spec!.name, ledger);
        continue;
      }
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
    const claim: PendingClaim = {
      pending: true,
      certificateName: spec.name,
      orderUrl: input.orderUrl,
      privateKey: input.privateKeyPem,
      keyAlgorithm: input.keyAlgorithm,
      dnsNames: [...input.dnsNames],
      createdAt: input.now.toISOString(),
    };
    // Racing executions derive the same token sequence, so the first write wins and
    // the other resumes it. A token whose version exists but holds no stage was spent
    // by a claim since abandoned (or built on a version a rollback made current
    // again): move on to the next one instead of mistaking it for a finished renewal.
    for (let attempt = 0; attempt < MAX_CLAIM_ATTEMPTS; attempt++) {
      const token = claimToken(spec.name, currentId, options.replacePendingVersionId, attempt);
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
      if (pending) {
        const ours = pending.kind === 'claim' && pending.versionId === token && pending.claim.orderUrl === input.orderUrl;
        if (!ours) return { outcome: 'resumed', pending };
        await this.tag(spec, [{ Key: TAG.pendingOrder, Value: input.orderUrl }]);
        return { outcome: 'claimed', pending };
      }
      const nowCurrent = versionWith((await this.stages(spec)) ?? {}, CURRENT);
      if (nowCurrent !== currentId) return { outcome: 'superseded', ...(nowCurrent ? { currentVersionId: nowCurrent } : {}) };
    }
    throw new InvalidInput(
      `${spec.secretName}: ${MAX_CLAIM_ATTEMPTS} claims built on version ${currentId ?? '(none)'} were abandoned; ` +
        "look at the secret's versions (certpipe inspect) before renewing again",
    );
  }

  /** What AWSPENDING holds, if anything. */
  async readPending(spec: CertificateSpec): Promise<PendingVersion | undefined> {
    const value = await this.read(spec, { VersionStage: PENDING });
    if (!value) return undefined;
    const parsed = parseVersion(spec.secretName, value.text);
    if ('placeholder' in parsed) return undefined;
    return 'pending' in parsed
      ? { kind: 'claim', versionId: value.versionId, claim: parsed }
      : { kind: 'issued', versionId: value.versionId, issued: parsed };
  }

  /** The certificate in use, or undefined when none was issued yet. */
  async readCurrent(spec: CertificateSpec): Promise<{ versionId: string; issued: IssuedCertificate } | undefined> {
    const value = await this.read(spec, { VersionStage: CURRENT });
    if (!value) return undefined;
    const parsed = parseVersion(spec.secretName, value.text);
    // Before the first issuance AWSCURRENT holds the placeholder (or, in a secret an
    // earlier certpipe created empty, the first claim, which AWS labelled current too).
    if ('placeholder' in parsed || 'pending' in parsed) return undefined;
    return { versionId: value.versionId, issued: parsed };
  }

  /**
   * Store the verified certificate as the new AWSPENDING version (idempotent per
   * serial), but only while AWSPENDING is still the claim it was finalized from:
   * if another execution replaced or abandoned that claim meanwhile, its renewal
   * wins and this certificate is not promoted (RenewalInProgress).
   */
  async storeIssued(spec: CertificateSpec, issued: IssuedCertificate, options: { claimVersionId: string }): Promise<string> {
    const token = issuedToken(spec.name, issued.serial);
    try {
      // A label of our own first: PutSecretValue would move AWSPENDING unconditionally.
      await this.sm.send(
        new PutSecretValueCommand({
          SecretId: spec.secretName,
          ClientRequestToken: token,
          SecretString: JSON.stringify(issued),
          VersionStages: [VERIFIED],
        }),
      );
    } catch (err) {
      if (awsErrorName(err) !== 'ResourceExistsException') {
        throw asAwsError(err, `Storing the issued certificate of ${spec.name} in ${spec.secretName}`);
      }
      // The same serial was stored before (a retry): fine as long as it is that certificate.
      const stored = await this.read(spec, { VersionId: token });
      const parsed = stored ? parseVersion(spec.secretName, stored.text) : undefined;
      if (!parsed || !('serial' in parsed) || parsed.serial !== issued.serial) {
        throw new InvalidInput(`${spec.secretName}: version ${token} exists and is not certificate ${issued.serial}`, {
          cause: err,
        });
      }
    }
    // Compare-and-set: RemoveFromVersionId fails unless AWSPENDING is still on our claim.
    try {
      await this.sm.send(
        new UpdateSecretVersionStageCommand({
          SecretId: spec.secretName,
          VersionStage: PENDING,
          MoveToVersionId: token,
          RemoveFromVersionId: options.claimVersionId,
        }),
      );
    } catch (err) {
      if (awsErrorName(err) !== 'InvalidParameterException') throw asAwsError(err, `Moving AWSPENDING of ${spec.secretName}`);
      const holder = versionWith((await this.stages(spec)) ?? {}, PENDING);
      if (holder !== token) {
        throw new RenewalInProgress(
          `${spec.name}: the claim this certificate (serial ${issued.serial}) was ordered for is no longer AWSPENDING of ` +
            `${spec.secretName} (another execution replaced it); not storing it over that renewal`,
        );
      }
      // A retry: AWSPENDING already moved to this certificate.
    }
    await this.updateStage(spec, { SecretId: spec.secretName, VersionStage: VERIFIED, RemoveFromVersionId: token }).catch(() => {
      // Only a label of ours is left behind; the next storeIssued moves it.
    });
    return token;
  }

  /**
   * Make the verified AWSPENDING certificate current (the old one becomes
   * AWSPREVIOUS), drop AWSPENDING and update the tags. Idempotent: when the
   * certificate with `serial` is already current, only the tags are refreshed.
   */
  async promote(
    spec: CertificateSpec,
    options: { now: Date; renewalTime?: Date; serial?: string; gateFingerprint?: string },
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
      try {
        if (pendingId !== currentId) {
          await this.moveStage(spec, CURRENT, pendingId, currentId);
        }
        await this.updateStage(spec, {
          SecretId: spec.secretName,
          VersionStage: PENDING,
          RemoveFromVersionId: pendingId,
        });
      } catch (err) {
        // Another execution promoting the same version moved the labels first: the outcome is the same.
        const now = awsErrorName(err) === 'InvalidParameterException' ? await this.stages(spec) : undefined;
        const done = now && versionWith(now, CURRENT) === pendingId && versionWith(now, PENDING) !== pendingId;
        if (!done) throw err;
      }
    }
    await this.tag(
      spec,
      certificateTags(issued, { issuedAt: options.now, renewalTime: options.renewalTime, gateFingerprint: options.gateFingerprint }),
    );
    await this.untag(spec, [TAG.pendingOrder]);
    return issued;
  }

  /** Put AWSPREVIOUS back as AWSCURRENT (the replaced one becomes AWSPREVIOUS) and re-tag. */
  async rollback(spec: CertificateSpec, options: { now: Date; renewalTime?: Date }): Promise<IssuedCertificate> {
    const stages = await this.stages(spec);
    const previousId = stages ? versionWith(stages, PREVIOUS) : undefined;
    if (!stages || !previousId) throw new InvalidInput(`${spec.secretName} has no previous version to roll back to`);
    const previous = await this.read(spec, { VersionId: previousId });
    if (!previous || !('serial' in parseVersion(spec.secretName, previous.text))) {
      throw new InvalidInput(`${spec.secretName}: the previous version is not a certificate (only one was ever issued); nothing to roll back to`);
    }
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
      // AWS labels a secret's first version AWSCURRENT whatever else is asked, so the
      // first version is a placeholder holding no key: the first claim must not become current.
      await this.sm.send(
        new CreateSecretCommand({
          Name: spec.secretName,
          Description: `certpipe certificate ${spec.name}`,
          SecretString: JSON.stringify(placeholder(spec.name)),
          ClientRequestToken: deterministicToken('placeholder', spec.name),
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

  /** Record a deferral (store/deferral.ts): the CA's Retry-After, or the budget's next slot; false when the secret does not exist yet. */
  recordDeferral(spec: CertificateSpec, until: Date, reason?: DeferralReason): Promise<boolean> {
    return recordDeferral(this.sm, spec, until, reason);
  }

  /** The budget's ledger (store/budgetLedger.ts): an order placed at the CA. */
  recordOrderPlaced(spec: CertificateSpec, at: Date): Promise<void> {
    return recordOrderPlaced(this.sm, spec, at);
  }

  /** The budget's ledger: authorizations the CA failed. */
  recordFailedAuthorizations(spec: CertificateSpec, identifiers: readonly string[], at: Date): Promise<void> {
    return recordFailedAuthorizations(this.sm, spec, identifiers, at);
  }

  /** The latest revocation recorded on the secret (`certpipe revoke`), if any. */
  async readRevocation(spec: CertificateSpec): Promise<RevocationRecord | undefined> {
    return parseRevocationTag((await this.tags(spec)).get(TAG.revoked));
  }

  /** Record a revocation the CA accepted: the tag CheckExpiry, history and key reuse read. */
  async recordRevocation(spec: CertificateSpec, record: RevocationRecord): Promise<void> {
    await this.tag(spec, [{ Key: TAG.revoked, Value: formatRevocationTag(record) }]);
  }

  /** Remember the targets a publish could not reach (none: forget them), so CheckExpiry sees PublishIncomplete. */
  async recordPublishPending(spec: CertificateSpec, targets: readonly string[]): Promise<void> {
    if (targets.length) await this.tag(spec, [{ Key: TAG.publishPending, Value: targets.join(',').slice(0, 255) }]);
    else await this.untag(spec, [TAG.publishPending]);
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

/** The first version of a certificate secret, before anything was issued: no key, no certificate. */
interface Placeholder {
  placeholder: true;
  certificateName: string;
  note: string;
}

function placeholder(certificateName: string): Placeholder {
  return { placeholder: true, certificateName, note: 'No certificate issued yet: certpipe writes the first one here.' };
}

function parseVersion(secretName: string, text: string): PendingClaim | IssuedCertificate | Placeholder {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidInput(`Secret ${secretName} does not hold certpipe JSON`);
  }
  const v = value as Partial<PendingClaim & IssuedCertificate>;
  if ((value as Partial<Placeholder>).placeholder === true) return value as Placeholder;
  if (v.pending === true && typeof v.orderUrl === 'string' && typeof v.privateKey === 'string') return v as PendingClaim;
  if (typeof v.certificate === 'string' && typeof v.privateKey === 'string' && typeof v.serial === 'string') {
    return v as IssuedCertificate;
  }
  throw new InvalidInput(`Secret ${secretName} holds JSON that is neither a certificate nor a pending claim`);
}

/** The issued JSON from the verified leaf and chain (`fullchain` only when the spec asks for it). */
export function buildIssued(input: {
  spec: Pick<CertificateSpec, 'name' | 'issuer' | 'keyAlgorithm' | 'storeFullchain'>;
  certificatePem: string;
  privateKeyPem: string;
  orderUrl: string;
  facts: { notBefore: Date; notAfter: Date; serial: string; dnsNames: string[]; keyAlgorithm?: KeyAlgorithm; chainPem: string };
}): IssuedCertificate {
  if (!input.certificatePem) throw new InvalidInput(`The CA returned no certificate for ${input.spec.name}`);
  return {
    certificate: input.certificatePem,
    chain: input.facts.chainPem,
    ...(input.spec.storeFullchain ? { fullchain: input.certificatePem + input.facts.chainPem } : {}),
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
