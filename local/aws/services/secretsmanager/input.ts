// Request validation shared by the Secrets Manager operations, with the error
// codes AWS answers for each kind of bad input.
import { AwsError } from '../../types.js';
import type { Tag } from './model.js';

const lcFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

/** Members whose value AWS never repeats in an error (they are marked sensitive in the API model). */
const SENSITIVE_MEMBERS = new Set(['SecretString', 'SecretBinary']);

/** What AWS's request validation layer answers for a missing or out-of-range member. */
export function validationError(member: string, value: unknown, constraint: string): AwsError {
  const shown = SENSITIVE_MEMBERS.has(member) ? '' : value === undefined || value === null ? 'null ' : `'${String(value)}' `;
  return new AwsError(
    'ValidationException',
    `1 validation error detected: Value ${shown}at '${lcFirst(member)}' failed to satisfy constraint: ${constraint}`,
  );
}

export function requiredString(input: Record<string, unknown>, member: string, maxLength = 2048): string {
  const value = input[member];
  if (typeof value !== 'string') throw validationError(member, value, 'Member must not be null');
  if (value.length < 1 || value.length > maxLength) {
    throw validationError(member, value, `Member must have length between 1 and ${maxLength}`);
  }
  return value;
}

export function optionalString(input: Record<string, unknown>, member: string, maxLength: number, minLength = 0): string | undefined {
  const value = input[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw validationError(member, value, 'Member must be a string');
  if (value.length < minLength || value.length > maxLength) {
    throw validationError(member, value, `Member must have length between ${minLength} and ${maxLength}`);
  }
  return value;
}

export function maxResults(input: Record<string, unknown>, fallback: number, max = 100): number {
  const value = input.MaxResults;
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw validationError('MaxResults', value, `Member must have value between 1 and ${max}`);
  }
  return value;
}

export interface SecretValue {
  readonly secretString?: string;
  readonly secretBinary?: string;
}

/** SecretString or SecretBinary (base64 on the wire), never both; undefined when neither is given. */
export function secretValue(input: Record<string, unknown>): SecretValue | undefined {
  const secretString = optionalString(input, 'SecretString', 65_536);
  const secretBinary = optionalString(input, 'SecretBinary', Math.ceil(65_536 / 3) * 4);
  if (secretString !== undefined && secretBinary !== undefined) {
    throw new AwsError(
      'InvalidParameterException',
      "You can't specify both a binary secret value and a string secret value in the same secret.",
    );
  }
  if (secretString === undefined && secretBinary === undefined) return undefined;
  return { secretString, secretBinary };
}

const TOKEN_LENGTH = { min: 32, max: 64 };

export function requestToken(input: Record<string, unknown>): string | undefined {
  return optionalString(input, 'ClientRequestToken', TOKEN_LENGTH.max, TOKEN_LENGTH.min);
}

export function stageList(raw: unknown, member = 'VersionStages'): string[] {
  if (!Array.isArray(raw)) throw validationError(member, raw, 'Member must be a list');
  if (raw.length > 20) throw validationError(member, raw, 'Member must have length less than or equal to 20');
  for (const stage of raw) {
    if (typeof stage !== 'string' || stage.length < 1 || stage.length > 256) {
      throw validationError(member, stage, 'Member must have length between 1 and 256');
    }
  }
  return [...new Set(raw as string[])];
}

const MAX_TAGS = 50;

export function tagList(raw: unknown): Tag[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw validationError('Tags', raw, 'Member must be a list');
  const tags = new Map<string, string>();
  for (const tag of raw as { Key?: unknown; Value?: unknown }[]) {
    const key = tag?.Key;
    const value = tag?.Value ?? '';
    if (typeof key !== 'string' || key.length < 1 || key.length > 128) {
      throw validationError('Tags.member.key', key, 'Member must have length between 1 and 128');
    }
    if (typeof value !== 'string' || value.length > 256) {
      throw validationError('Tags.member.value', value, 'Member must have length less than or equal to 256');
    }
    if (key.toLowerCase().startsWith('aws:')) {
      throw new AwsError('InvalidParameterException', `Tag keys that start with "aws:" are reserved: ${key}`);
    }
    tags.set(key, value);
  }
  return [...tags].map(([Key, Value]) => ({ Key, Value }));
}

/** Merge tags into an existing set, a new value replacing the old one for the same key. */
export function mergeTags(existing: readonly Tag[], added: readonly Tag[]): Tag[] {
  const merged = new Map(existing.map((t) => [t.Key, t.Value]));
  for (const t of added) merged.set(t.Key, t.Value);
  if (merged.size > MAX_TAGS) {
    throw new AwsError('LimitExceededException', `A secret can have at most ${MAX_TAGS} tags.`);
  }
  return [...merged].map(([Key, Value]) => ({ Key, Value }));
}
