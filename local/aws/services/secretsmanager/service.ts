// Local Secrets Manager (AWS JSON 1.1). Each secret is one resource in a
// per-account, per-region collection keyed by name, so a write costs the same
// with ten secrets or ten thousand, and ListSecrets pages through the sorted key
// index instead of sorting everything per call.
import { randomInt, randomUUID } from 'node:crypto';
import { decodeToken, encodeToken, epochSeconds, jsonService } from '../../protocol.js';
import { AwsError, type CallContext, type Collection, type LocalCloud, type ServiceFactory } from '../../types.js';
import { compileFilters, pastAllPrefixes } from './filters.js';
import {
  maxResults,
  mergeTags,
  optionalString,
  requestToken,
  requiredString,
  secretValue,
  stageList,
  tagList,
  validationError,
  type SecretValue,
} from './input.js';
import {
  accessDay,
  CURRENT,
  moveStage,
  pruneVersions,
  removeStage,
  sameValue,
  versionById,
  versionWithStage,
  type StoredSecret,
  type StoredVersion,
} from './model.js';
import type { StsService } from '../sts/service.js';

type Secrets = Collection<StoredSecret>;
type Input = Record<string, any>;

const NOT_FOUND = "Secrets Manager can't find the specified secret.";
const NAME_PATTERN = /^[A-Za-z0-9/_+=.@!-]+$/;
const ARN_PATTERN = /^arn:(aws[a-z-]*):secretsmanager:([a-z0-9-]+):(\d{12}):secret:(.+)$/;
const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const SCAN_CHUNK = 256;

const notFound = (message = NOT_FOUND) => new AwsError('ResourceNotFoundException', message);
const invalidParameter = (message: string) => new AwsError('InvalidParameterException', message);
const seconds = (ms: number | undefined) => (ms === undefined ? undefined : epochSeconds(ms));

function arnSuffix(): string {
  let suffix = '';
  for (let i = 0; i < 6; i++) suffix += SUFFIX_ALPHABET[randomInt(SUFFIX_ALPHABET.length)];
  return suffix;
}

/** The successor of `key` in code-point order: where the next page starts. */
const after = (key: string) => `${key}\u0000`;

function labelledVersions(secret: StoredSecret): Record<string, string[]> {
  return Object.fromEntries(secret.versions.filter((v) => v.stages.length > 0).map((v) => [v.id, [...v.stages]]));
}

/** The fields DescribeSecret and ListSecrets share. */
function summary(secret: StoredSecret): Record<string, unknown> {
  return {
    ARN: secret.arn,
    Name: secret.name,
    Description: secret.description,
    KmsKeyId: secret.kmsKeyId,
    LastChangedDate: seconds(secret.lastChangedMs),
    LastAccessedDate: seconds(secret.lastAccessedMs),
    CreatedDate: seconds(secret.createdMs),
  };
}

/**
 * Add a version to `secret` (a clone, changed in place), moving `stages` to it.
 * Idempotent on the request token: the same token and data return the existing
 * version unchanged; the same token with other data is refused, as AWS does.
 */
function addVersion(secret: StoredSecret, value: SecretValue, stages: string[], token: string, now: number) {
  const existing = versionById(secret, token);
  if (existing) {
    if (!sameValue(existing, value.secretString, value.secretBinary)) {
      throw new AwsError('ResourceExistsException', "You can't modify an existing version, you can only create a new version.");
    }
    return { id: existing.id, stages: existing.stages, isNew: false };
  }
  const version: StoredVersion = { id: token, ...value, stages: [], createdMs: now };
  secret.versions.push(version);
  for (const stage of stages) moveStage(secret, stage, version);
  secret.lastChangedMs = now;
  pruneVersions(secret);
  return { id: version.id, stages: version.stages, isNew: true };
}

/** Runs tasks for one key one at a time, in arrival order. */
class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const result = (this.tails.get(key) ?? Promise.resolve()).then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}

interface Located {
  readonly secrets: Secrets;
  /** The stored object itself: clone it before changing anything. */
  readonly secret: StoredSecret;
}

class SecretsManager {
  private readonly collections = new Map<string, Promise<Secrets>>();
  private readonly mutex = new KeyedMutex();

  constructor(private readonly cloud: LocalCloud) {}

  /**
   * Run an operation that reads, changes and writes one secret with no other
   * change to that secret in between, so concurrent calls never lose an update.
   */
  async exclusive<T>(input: Input, ctx: CallContext, operation: () => Promise<T>): Promise<T> {
    const id = typeof input.SecretId === 'string' ? input.SecretId : typeof input.Name === 'string' ? input.Name : '';
    const arn = ARN_PATTERN.exec(id);
    const accountId = arn ? arn[3]! : ctx.accountId;
    let name = id;
    if (arn) name = this.byArn(await this.secrets(accountId, ctx.region), id, arn[4]!)?.name ?? arn[4]!;
    return this.mutex.run(`${accountId}/${ctx.region}/${name}`, operation);
  }

  private secrets(accountId: string, region: string): Promise<Secrets> {
    const name = `secretsmanager/${accountId}/${region}/secrets`;
    let opened = this.collections.get(name);
    if (!opened) {
      opened = this.cloud.store.collection<StoredSecret>(name);
      this.collections.set(name, opened);
    }
    return opened;
  }

  private async callerArn(ctx: CallContext): Promise<string> {
    let sts: StsService | undefined;
    try {
      sts = this.cloud.service<StsService>('sts');
    } catch {
      // Without the STS module every caller is its account's root.
    }
    return sts ? sts.callerArn(ctx.accessKeyId, ctx.accountId) : `arn:aws:iam::${ctx.accountId}:root`;
  }

  /** Find a secret by name, full ARN or partial ARN (ARN without the random suffix). */
  private async locate(input: Input, ctx: CallContext): Promise<Located> {
    const secretId = requiredString(input, 'SecretId');
    const arn = ARN_PATTERN.exec(secretId);
    // Another region's ARN names a secret this regional endpoint does not hold.
    if (arn && arn[2] !== ctx.region) throw notFound();
    const accountId = arn ? arn[3]! : ctx.accountId;
    const secrets = await this.secrets(accountId, ctx.region);
    const secret = arn ? this.byArn(secrets, secretId, arn[4]!) : secrets.get(secretId);
    if (!secret) throw notFound();
    // No caller gives a secret a resource policy, so no other account may use it (as on AWS without one).
    if (accountId !== ctx.accountId) {
      const action = `secretsmanager:${ctx.operation}`;
      throw new AwsError(
        'AccessDeniedException',
        `User: ${await this.callerArn(ctx)} is not authorized to perform: ${action} on resource: ${secretId} because no resource-based policy allows the ${action} action`,
      );
    }
    return { secrets, secret };
  }

  private byArn(secrets: Secrets, arn: string, resource: string): StoredSecret | undefined {
    // A full ARN ends in `-` and six random characters; try that reading first.
    const full = /^(.+)-[A-Za-z0-9]{6}$/.exec(resource);
    const byFull = full ? secrets.get(full[1]!) : undefined;
    if (byFull?.arn === arn) return byFull;
    return secrets.get(resource);
  }

  async createSecret(input: Input, ctx: CallContext) {
    const name = requiredString(input, 'Name', 512);
    if (!NAME_PATTERN.test(name)) {
      throw invalidParameter('Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!');
    }
    const value = secretValue(input);
    const description = optionalString(input, 'Description', 2048);
    const kmsKeyId = optionalString(input, 'KmsKeyId', 2048);
    const tags = mergeTags([], tagList(input.Tags));
    const token = requestToken(input) ?? randomUUID();
    const now = ctx.now.getTime();

    const secrets = await this.secrets(ctx.accountId, ctx.region);
    const existing = secrets.get(name);
    if (existing) {
      // An SDK retry of a call that already succeeded carries the same token and data.
      const retried = value && versionById(existing, token);
      if (retried && sameValue(retried, value.secretString, value.secretBinary)) {
        return { ARN: existing.arn, Name: name, VersionId: token };
      }
      throw new AwsError('ResourceExistsException', `The operation failed because the secret ${name} already exists.`);
    }

    const secret: StoredSecret = {
      name,
      arn: `arn:aws:secretsmanager:${ctx.region}:${ctx.accountId}:secret:${name}-${arnSuffix()}`,
      description,
      kmsKeyId,
      tags,
      createdMs: now,
      lastChangedMs: now,
      versions: value ? [{ id: token, ...value, stages: [CURRENT], createdMs: now }] : [],
    };
    await secrets.put(name, secret);
    return { ARN: secret.arn, Name: name, VersionId: value ? token : undefined };
  }

  async putSecretValue(input: Input, ctx: CallContext) {
    const value = secretValue(input);
    if (!value) throw new AwsError('InvalidRequestException', 'You must provide either SecretString or SecretBinary.');
    const { secrets, secret } = await this.locate(input, ctx);
    const requested = input.VersionStages === undefined ? [CURRENT] : stageList(input.VersionStages);
    // AWS: "If this operation creates the first version for the secret, then Secrets
    // Manager automatically attaches the staging label AWSCURRENT to it."
    const stages = secret.versions.length === 0 && !requested.includes(CURRENT) ? [...requested, CURRENT] : requested;
    const token = requestToken(input) ?? randomUUID();
    const updated = structuredClone(secret);
    const version = addVersion(updated, value, stages, token, ctx.now.getTime());
    if (version.isNew) await secrets.put(updated.name, updated);
    return { ARN: secret.arn, Name: secret.name, VersionId: version.id, VersionStages: [...version.stages] };
  }

  async getSecretValue(input: Input, ctx: CallContext) {
    const versionId = optionalString(input, 'VersionId', 64, 32);
    const versionStage = optionalString(input, 'VersionStage', 256, 1);
    const { secrets, secret } = await this.locate(input, ctx);
    let version: StoredVersion | undefined;
    if (versionId !== undefined) {
      version = versionById(secret, versionId);
      if (!version) throw notFound(`Secrets Manager can't find the specified secret value for VersionId: ${versionId}`);
      if (versionStage !== undefined && !version.stages.includes(versionStage)) {
        throw notFound('You provided a VersionStage that is not associated to the provided VersionId.');
      }
    } else {
      const stage = versionStage ?? CURRENT;
      version = versionWithStage(secret, stage);
      if (!version) throw notFound(`Secrets Manager can't find the specified secret value for staging label: ${stage}`);
    }

    // The access date has day granularity, so at most one write per secret and day.
    const day = accessDay(ctx.now.getTime());
    if (version.lastAccessedMs !== day || secret.lastAccessedMs !== day) {
      const updated = structuredClone(secret);
      updated.lastAccessedMs = day;
      versionById(updated, version.id)!.lastAccessedMs = day;
      await secrets.put(updated.name, updated);
    }
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.id,
      SecretString: version.secretString,
      SecretBinary: version.secretBinary,
      VersionStages: [...version.stages],
      CreatedDate: epochSeconds(version.createdMs),
    };
  }

  async describeSecret(input: Input, ctx: CallContext) {
    const { secret } = await this.locate(input, ctx);
    return {
      ...summary(secret),
      Tags: secret.tags.length > 0 ? secret.tags : undefined,
      VersionIdsToStages: labelledVersions(secret),
    };
  }

  async listSecrets(input: Input, ctx: CallContext) {
    const limit = maxResults(input, 100);
    const filter = compileFilters(input.Filters);
    const secrets = await this.secrets(ctx.accountId, ctx.region);
    const prefixes = filter.namePrefixes;

    // SortOrder is not honoured: pages follow the name index, which keeps every page cheap.
    const page: StoredSecret[] = [];
    let nextKey: string | undefined;
    let from = decodeToken(input.NextToken) ?? (prefixes ? [...prefixes].sort()[0] : undefined);
    scan: for (;;) {
      const keys = secrets.keysFrom(from, SCAN_CHUNK);
      for (const key of keys) {
        if (prefixes && pastAllPrefixes(key, prefixes)) break scan;
        const secret = secrets.get(key);
        if (!secret) continue;
        if (!filter.matches(secret)) continue;
        if (page.length === limit) {
          nextKey = key;
          break scan;
        }
        page.push(secret);
      }
      if (keys.length < SCAN_CHUNK) break;
      from = after(keys[keys.length - 1]!);
    }
    return {
      SecretList: page.map((secret) => ({
        ...summary(secret),
        Tags: secret.tags,
        SecretVersionsToStages: labelledVersions(secret),
      })),
      NextToken: nextKey === undefined ? undefined : encodeToken(nextKey),
    };
  }

  async listSecretVersionIds(input: Input, ctx: CallContext) {
    const limit = maxResults(input, 100);
    const includeDeprecated = input.IncludeDeprecated === true;
    const { secret } = await this.locate(input, ctx);
    const versions = secret.versions.filter((v) => includeDeprecated || v.stages.length > 0).reverse();
    const token = decodeToken(input.NextToken);
    const start = token === undefined ? 0 : Number(token);
    if (!Number.isInteger(start) || start < 0) throw new AwsError('InvalidNextTokenException', 'The pagination token is invalid');
    const page = versions.slice(start, start + limit);
    return {
      Versions: page.map((v) => ({
        VersionId: v.id,
        VersionStages: [...v.stages],
        LastAccessedDate: seconds(v.lastAccessedMs),
        CreatedDate: epochSeconds(v.createdMs),
      })),
      NextToken: start + limit < versions.length ? encodeToken(String(start + limit)) : undefined,
      ARN: secret.arn,
      Name: secret.name,
    };
  }

  async updateSecretVersionStage(input: Input, ctx: CallContext) {
    const stage = requiredString(input, 'VersionStage', 256);
    const moveTo = optionalString(input, 'MoveToVersionId', 64, 32);
    const removeFrom = optionalString(input, 'RemoveFromVersionId', 64, 32);
    const { secrets, secret } = await this.locate(input, ctx);
    const updated = structuredClone(secret);
    const holder = versionWithStage(updated, stage);

    if (removeFrom !== undefined) {
      if (!versionById(updated, removeFrom)) throw invalidParameter(`Not a valid version ID: ${removeFrom}`);
      if (holder?.id !== removeFrom) {
        throw invalidParameter(
          holder
            ? `The parameter RemoveFromVersionId doesn't match: staging label ${stage} is currently attached to version ${holder.id}.`
            : `Staging label ${stage} is not attached to version ${removeFrom}.`,
        );
      }
    }
    if (moveTo !== undefined) {
      const target = versionById(updated, moveTo);
      if (!target) throw invalidParameter(`Not a valid version ID: ${moveTo}`);
      if (holder && holder !== target && removeFrom === undefined) {
        throw invalidParameter(
          `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder.id}, so you must explicitly reference that version in RemoveFromVersionId.`,
        );
      }
      moveStage(updated, stage, target);
    } else if (removeFrom !== undefined) {
      if (stage === CURRENT) {
        throw invalidParameter(`You can only move staging label ${CURRENT} to a different secret version. It can't be completely removed.`);
      }
      removeStage(holder!, stage);
    } else {
      throw invalidParameter('You must specify MoveToVersionId, RemoveFromVersionId, or both.');
    }
    updated.lastChangedMs = ctx.now.getTime();
    pruneVersions(updated);
    await secrets.put(updated.name, updated);
    return { ARN: updated.arn, Name: updated.name };
  }

  async tagResource(input: Input, ctx: CallContext) {
    if (input.Tags === undefined) throw validationError('Tags', undefined, 'Member must not be null');
    const added = tagList(input.Tags);
    const { secrets, secret } = await this.locate(input, ctx);
    const updated = structuredClone(secret);
    updated.tags = mergeTags(secret.tags, added);
    await secrets.put(updated.name, updated);
    return {};
  }

  async untagResource(input: Input, ctx: CallContext) {
    const keys = input.TagKeys;
    if (!Array.isArray(keys)) throw validationError('TagKeys', keys, 'Member must not be null');
    const { secrets, secret } = await this.locate(input, ctx);
    const updated = structuredClone(secret);
    updated.tags = secret.tags.filter((t) => !keys.includes(t.Key));
    await secrets.put(updated.name, updated);
    return {};
  }
}

const secretsManager: ServiceFactory = (cloud) => {
  const sm = new SecretsManager(cloud);
  return jsonService({
    signingName: 'secretsmanager',
    targetPrefix: 'secretsmanager',
    jsonVersion: '1.1',
    operations: {
      CreateSecret: (input, ctx) => sm.exclusive(input, ctx, () => sm.createSecret(input, ctx)),
      PutSecretValue: (input, ctx) => sm.exclusive(input, ctx, () => sm.putSecretValue(input, ctx)),
      GetSecretValue: (input, ctx) => sm.exclusive(input, ctx, () => sm.getSecretValue(input, ctx)),
      DescribeSecret: (input, ctx) => sm.describeSecret(input, ctx),
      ListSecrets: (input, ctx) => sm.listSecrets(input, ctx),
      ListSecretVersionIds: (input, ctx) => sm.listSecretVersionIds(input, ctx),
      UpdateSecretVersionStage: (input, ctx) => sm.exclusive(input, ctx, () => sm.updateSecretVersionStage(input, ctx)),
      TagResource: (input, ctx) => sm.exclusive(input, ctx, () => sm.tagResource(input, ctx)),
      UntagResource: (input, ctx) => sm.exclusive(input, ctx, () => sm.untagResource(input, ctx)),
    },
  });
};

export default secretsManager;
