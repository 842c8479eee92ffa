// A Secrets Manager secret as the local endpoint stores it (one resource per
// secret), and the staging-label rules AWS applies to its versions.
import { AwsError } from '../../types.js';

export interface StoredVersion {
  readonly id: string;
  readonly secretString?: string;
  /** Base64, exactly as the JSON protocol carries a blob. */
  readonly secretBinary?: string;
  stages: string[];
  readonly createdMs: number;
  lastAccessedMs?: number;
}

export interface Tag {
  Key: string;
  Value: string;
}

export interface StoredSecret {
  readonly name: string;
  readonly arn: string;
  description?: string;
  kmsKeyId?: string;
  tags: Tag[];
  readonly createdMs: number;
  lastChangedMs: number;
  lastAccessedMs?: number;
  /** In creation order, oldest first. */
  versions: StoredVersion[];
}

export const CURRENT = 'AWSCURRENT';
export const PREVIOUS = 'AWSPREVIOUS';

/** AWS keeps versions without a label only up to about this many; older ones go. */
const MAX_UNLABELLED_VERSIONS = 100;
const MAX_STAGES_PER_VERSION = 20;

export function versionWithStage(secret: StoredSecret, stage: string): StoredVersion | undefined {
  return secret.versions.find((v) => v.stages.includes(stage));
}

export function versionById(secret: StoredSecret, id: string): StoredVersion | undefined {
  return secret.versions.find((v) => v.id === id);
}

export function sameValue(v: StoredVersion, secretString?: string, secretBinary?: string): boolean {
  return v.secretString === secretString && v.secretBinary === secretBinary;
}

/**
 * Attach `stage` to `target`, taking it from whichever version held it. Moving
 * AWSCURRENT labels the version that loses it AWSPREVIOUS, as AWS does.
 */
export function moveStage(secret: StoredSecret, stage: string, target: StoredVersion): void {
  const holder = versionWithStage(secret, stage);
  if (holder === target) return;
  if (holder) holder.stages = holder.stages.filter((s) => s !== stage);
  target.stages = [...target.stages, stage];
  if (stage === CURRENT && holder) {
    const previous = versionWithStage(secret, PREVIOUS);
    if (previous) previous.stages = previous.stages.filter((s) => s !== PREVIOUS);
    holder.stages = [...holder.stages, PREVIOUS];
  }
  checkStageCount(target);
}

export function removeStage(version: StoredVersion, stage: string): void {
  version.stages = version.stages.filter((s) => s !== stage);
}

export function checkStageCount(version: StoredVersion): void {
  if (version.stages.length > MAX_STAGES_PER_VERSION) {
    throw new AwsError(
      'LimitExceededException',
      `A version can have at most ${MAX_STAGES_PER_VERSION} staging labels; version ${version.id} would have ${version.stages.length}.`,
    );
  }
}

/** Drop the oldest unlabelled versions beyond AWS's limit; labelled versions always stay. */
export function pruneVersions(secret: StoredSecret): void {
  const unlabelled = secret.versions.filter((v) => v.stages.length === 0);
  const excess = unlabelled.length - MAX_UNLABELLED_VERSIONS;
  if (excess <= 0) return;
  const dropped = new Set(unlabelled.slice(0, excess));
  secret.versions = secret.versions.filter((v) => !dropped.has(v));
}

const DAY_MS = 86_400_000;

/** AWS reports the last access date truncated to the day. */
export function accessDay(nowMs: number): number {
  return Math.floor(nowMs / DAY_MS) * DAY_MS;
}
