// ListCertificates: ACM's filters (statuses, key types with ACM's RSA-only default,
// key usages) and NextToken pagination over the collection's sorted key index.
import { decodeToken, encodeToken } from '../../protocol.js';
import type { Collection } from '../../types.js';
import { KEY_ALGORITHMS } from './certificate-facts.js';
import { constraint, invalidArgs, validation } from './errors.js';
import type { StoredCertificate } from './model.js';
import { certificateSummary, statusAt } from './views.js';

const STATUSES = ['PENDING_VALIDATION', 'ISSUED', 'INACTIVE', 'EXPIRED', 'VALIDATION_TIMED_OUT', 'REVOKED', 'FAILED'];
/** ACM's documented default: without Includes.keyTypes only RSA_1024 and RSA_2048 certificates that name a domain. */
const DEFAULT_KEY_TYPES = ['RSA_1024', 'RSA_2048'];
const MAX_ITEMS = 1000;
const SCAN_BATCH = 256;
const TOKEN_PREFIX = 'acm-list:';

type Predicate = (cert: StoredCertificate) => boolean;

function enumList(value: unknown, member: string, allowed: readonly string[]): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const list = Array.isArray(value) ? value.map(String) : [String(value)];
  const bad = list.find((v) => !allowed.includes(v));
  if (bad !== undefined) {
    throw constraint(member, `Member must satisfy constraint: [Member must satisfy enum value set: [${allowed.join(', ')}]]`, bad);
  }
  return list;
}

function matcher(input: Record<string, any>, now: Date): Predicate {
  const checks: Predicate[] = [];
  const statuses = enumList(input.CertificateStatuses, 'certificateStatuses', STATUSES);
  if (statuses) checks.push((c) => statuses.includes(statusAt(c, now)));

  const includes = (input.Includes ?? {}) as Record<string, unknown>;
  const keyTypes = enumList(includes.keyTypes, 'includes.keyTypes', KEY_ALGORITHMS);
  if (keyTypes) checks.push((c) => keyTypes.includes(c.facts.keyAlgorithm));
  else checks.push((c) => DEFAULT_KEY_TYPES.includes(c.facts.keyAlgorithm) && c.facts.domainName !== undefined);

  const keyUsage = Array.isArray(includes.keyUsage) ? includes.keyUsage.map(String) : undefined;
  if (keyUsage) checks.push((c) => keyUsage.includes('ANY') || c.facts.keyUsages.some((u) => keyUsage.includes(u)));

  const extended = Array.isArray(includes.extendedKeyUsage) ? includes.extendedKeyUsage.map(String) : undefined;
  if (extended) {
    checks.push((c) =>
      c.facts.extendedKeyUsages.length === 0
        ? extended.includes('NONE')
        : extended.includes('ANY') || c.facts.extendedKeyUsages.some((e) => extended.includes(e.Name)),
    );
  }
  // Imported certificates are never exportable and never managed by another service.
  if (includes.exportOption !== undefined && includes.exportOption !== null) checks.push(() => includes.exportOption === 'DISABLED');
  if (includes.managedBy !== undefined && includes.managedBy !== null) checks.push(() => false);

  return (c) => checks.every((check) => check(c));
}

function maxItemsOf(value: unknown): number {
  if (value === undefined || value === null) return MAX_ITEMS;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw constraint('maxItems', 'Member must have value greater than or equal to 1', value);
  if (n > MAX_ITEMS) throw constraint('maxItems', `Member must have value less than or equal to ${MAX_ITEMS}`, value);
  return n;
}

function positionOf(token: unknown): string | undefined {
  if (token === undefined || token === null || token === '') return undefined;
  const decoded = decodeToken(String(token), 'InvalidArgsException');
  if (!decoded?.startsWith(TOKEN_PREFIX)) throw invalidArgs('The NextToken is not valid.');
  return decoded.slice(TOKEN_PREFIX.length);
}

const tokenFor = (position: string) => encodeToken(TOKEN_PREFIX + position);

export interface ListPage {
  CertificateSummaryList: Record<string, unknown>[];
  NextToken?: string;
}

export function listCertificates(certs: Collection<StoredCertificate>, input: Record<string, any>, now: Date): ListPage {
  const { SortBy, SortOrder } = input;
  if ((SortBy === undefined) !== (SortOrder === undefined)) {
    throw validation('SortBy and SortOrder must be specified together.');
  }
  enumList(SortBy, 'sortBy', ['CREATED_AT']);
  enumList(SortOrder, 'sortOrder', ['ASCENDING', 'DESCENDING']);
  const matches = matcher(input, now);
  const max = maxItemsOf(input.MaxItems);
  const from = positionOf(input.NextToken);
  const page: StoredCertificate[] = [];
  let next: string | undefined;

  if (SortBy) {
    // Sorting needs every match anyway; the position is the next item's sort key.
    const sortKey = (c: StoredCertificate) => `${c.createdAt}|${c.arn}`;
    const descending = SortOrder === 'DESCENDING';
    const ordered = certs
      .keys()
      .map((k) => certs.get(k)!)
      .filter(matches)
      .sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1) * (descending ? -1 : 1));
    const start = from === undefined ? 0 : ordered.findIndex((c) => (descending ? sortKey(c) <= from : sortKey(c) >= from));
    const slice = start < 0 ? [] : ordered.slice(start, start + max + 1);
    page.push(...slice.slice(0, max));
    if (slice.length > max) next = sortKey(slice[max]!);
  } else {
    // Walk the key index in batches until the page is full and one more match shows there is a next page.
    let cursor = from;
    scan: for (;;) {
      const keys = certs.keysFrom(cursor, SCAN_BATCH);
      for (const key of keys) {
        const cert = certs.get(key);
        if (!cert || !matches(cert)) continue;
        if (page.length === max) {
          next = key;
          break scan;
        }
        page.push(cert);
      }
      if (keys.length < SCAN_BATCH) break;
      cursor = `${keys[keys.length - 1]}\u0000`;
    }
  }
  return {
    CertificateSummaryList: page.map((c) => certificateSummary(c, now)),
    ...(next !== undefined ? { NextToken: tokenFor(next) } : {}),
  };
}
