// ListSecrets filters with AWS's semantics: values within one filter are
// alternatives, filters combine with AND, a leading `!` negates a value.
// name/tag-key/tag-value match case-sensitive prefixes; description and `all`
// match word prefixes without regard to case.
import { AwsError } from '../../types.js';
import type { StoredSecret } from './model.js';

const KEYS = ['description', 'name', 'tag-key', 'tag-value', 'primary-region', 'owning-service', 'all'] as const;
type FilterKey = (typeof KEYS)[number];
const VALUE_PATTERN = /^!?[a-zA-Z0-9 :_@/+=.\-!]*$/;

interface CompiledFilter {
  readonly key: FilterKey;
  readonly positive: string[];
  readonly negative: string[];
}

export interface SecretFilter {
  matches(secret: StoredSecret): boolean;
  /** Name prefixes every match starts with, when a name filter narrows the key range. */
  readonly namePrefixes?: string[];
}

/** Split as the console search does: camelCase humps, letter/digit changes and punctuation separate words. */
export function words(text: string): string[] {
  return (text.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+/g) ?? []).map((w) => w.toLowerCase());
}

function candidates(key: FilterKey, secret: StoredSecret): string[] {
  switch (key) {
    case 'name':
      return [secret.name];
    case 'tag-key':
      return secret.tags.map((t) => t.Key);
    case 'tag-value':
      return secret.tags.map((t) => t.Value);
    case 'description': {
      const text = (secret.description ?? '').toLowerCase();
      return text ? [text, ...text.split(/\s+/)] : [];
    }
    case 'all':
      return [secret.name, secret.description ?? '', ...secret.tags.flatMap((t) => [t.Key, t.Value])].flatMap(words);
    default:
      // Local secrets are never replicated nor owned by another service.
      return [];
  }
}

function valueMatches(key: FilterKey, secret: StoredSecret, value: string): boolean {
  const pool = candidates(key, secret);
  if (key === 'all') {
    const wanted = words(value);
    return wanted.some((w) => pool.some((c) => c.startsWith(w)));
  }
  const needle = key === 'description' ? value.toLowerCase() : value;
  return pool.some((c) => c.startsWith(needle));
}

function compile(raw: unknown): CompiledFilter {
  const { Key, Values } = (raw ?? {}) as { Key?: unknown; Values?: unknown };
  if (typeof Key !== 'string' || !(KEYS as readonly string[]).includes(Key)) {
    throw new AwsError(
      'ValidationException',
      `1 validation error detected: Value '${String(Key)}' at 'filters.member.key' failed to satisfy constraint: Member must satisfy enum value set: [${KEYS.join(', ')}]`,
    );
  }
  const values = Array.isArray(Values) ? Values.map(String) : [];
  if (values.length < 1 || values.length > 10) {
    throw new AwsError('InvalidParameterException', `A filter must have between 1 and 10 values; ${Key} has ${values.length}.`);
  }
  for (const v of values) {
    if (v.length > 512 || !VALUE_PATTERN.test(v)) {
      throw new AwsError('InvalidParameterException', `Invalid filter value: ${v}`);
    }
  }
  return {
    key: Key as FilterKey,
    positive: values.filter((v) => !v.startsWith('!')),
    negative: values.filter((v) => v.startsWith('!')).map((v) => v.slice(1)),
  };
}

export function compileFilters(raw: unknown): SecretFilter {
  if (raw !== undefined && !Array.isArray(raw)) throw new AwsError('InvalidParameterException', 'Filters must be a list.');
  const filters = (raw ?? []).map(compile);
  if (filters.length > 10) throw new AwsError('InvalidParameterException', 'You can specify at most 10 filters.');
  // Every match must satisfy each filter, so one name filter's prefixes bound the key range.
  const nameFilter = filters.find((f) => f.key === 'name' && f.positive.length > 0);
  return {
    matches(secret) {
      return filters.every(
        (f) =>
          (f.positive.length === 0 || f.positive.some((v) => valueMatches(f.key, secret, v))) &&
          !f.negative.some((v) => valueMatches(f.key, secret, v)),
      );
    },
    namePrefixes: nameFilter?.positive,
  };
}

/**
 * True when no key at or after `key` (in code-point order) can start with any
 * of `prefixes`: `key` is past every prefix and starts with none of them.
 */
export function pastAllPrefixes(key: string, prefixes: readonly string[]): boolean {
  return prefixes.every((p) => key > p && !key.startsWith(p));
}
