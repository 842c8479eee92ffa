// Tag rules shared by ImportCertificate, AddTagsToCertificate and RemoveTagsFromCertificate.
import { constraint, invalidParameter, invalidTag, tooManyTags } from './errors.js';
import type { Tag } from './model.js';

export const MAX_TAGS = 50;
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

/** Validates a `Tags` list member (1..50 tags, unique keys, no `aws:` prefix). */
export function readTags(value: unknown, member = 'tags'): Tag[] {
  if (value === undefined || value === null) throw constraint(member, 'Member must not be null', null);
  if (!Array.isArray(value)) throw invalidParameter(`${member} must be a list of tags`);
  if (value.length < 1) throw constraint(member, 'Member must have length greater than or equal to 1', '[]');
  if (value.length > MAX_TAGS) throw tooManyTags();
  const seen = new Set<string>();
  return value.map((raw, i) => {
    const at = `${member}.${i + 1}.member`;
    const key = (raw as { Key?: unknown })?.Key;
    const tagValue = (raw as { Value?: unknown })?.Value;
    if (typeof key !== 'string') throw constraint(`${at}.key`, 'Member must not be null', null);
    if (key.length < 1 || key.length > 128) throw constraint(`${at}.key`, 'Member must have length between 1 and 128', key);
    if (!TAG_TEXT.test(key)) throw constraint(`${at}.key`, 'Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:\\/=+\\-@]*', key);
    if (key.toLowerCase().startsWith('aws:')) throw invalidTag(`The tag key '${key}' is invalid: the aws: prefix is reserved for AWS use.`);
    if (tagValue !== undefined && tagValue !== null) {
      if (typeof tagValue !== 'string' || tagValue.length > 256) {
        throw constraint(`${at}.value`, 'Member must have length less than or equal to 256', tagValue);
      }
      if (!TAG_TEXT.test(tagValue)) {
        throw constraint(`${at}.value`, 'Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:\\/=+\\-@]*', tagValue);
      }
    }
    if (seen.has(key)) throw invalidParameter(`The tag key '${key}' is specified more than once.`);
    seen.add(key);
    return typeof tagValue === 'string' ? { Key: key, Value: tagValue } : { Key: key };
  });
}

/** Adds or replaces tags by key; a certificate holds at most 50. */
export function addTags(existing: readonly Tag[], added: readonly Tag[]): Tag[] {
  const byKey = new Map(existing.map((t) => [t.Key, t]));
  for (const tag of added) byKey.set(tag.Key, tag);
  if (byKey.size > MAX_TAGS) throw tooManyTags();
  return [...byKey.values()];
}

/** A tag given with a Value is removed only when the value matches; without one, by key alone. */
export function removeTags(existing: readonly Tag[], removed: readonly Tag[]): Tag[] {
  return existing.filter(
    (tag) => !removed.some((r) => r.Key === tag.Key && (r.Value === undefined || r.Value === (tag.Value ?? ''))),
  );
}
