// The cleanup decision and the challenge tags: pure, table-tested with a fixed clock.
import { describe, expect, it } from 'vitest';
import {
  decideCleanup,
  holderTagKey,
  matchesRecorded,
  readChallengeTags,
  valuesTags,
  HOLDER_TAG_PREFIX,
  VALUES_TAG_PREFIX,
} from '../../functions/lib/store/challengeHolders.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const MIN = 60_000;
const VALUES_KEY = `${VALUES_TAG_PREFIX}0123abcd:0`;

describe('decideCleanup (after releasing our own holder)', () => {
  const cases: Array<{ name: string; holders: Record<string, number>; remove: boolean; live: string[]; untag: string[] }> = [
    { name: 'nobody else holds: remove the values and their tags', holders: {}, remove: true, live: [], untag: [VALUES_KEY] },
    {
      name: 'a concurrent execution still holds: leave the values and their tags',
      holders: { B: NOW + 30 * MIN },
      remove: false,
      live: ['B'],
      untag: [],
    },
    {
      name: 'a holder whose lease ended cannot still run: drop it and remove',
      holders: { dead: NOW - MIN },
      remove: true,
      live: [],
      untag: ['dead', VALUES_KEY],
    },
    { name: 'a lease ending exactly now has ended', holders: { B: NOW }, remove: true, live: [], untag: ['B', VALUES_KEY] },
    {
      name: 'a live and a dead holder: leave the values, drop only the dead holder',
      holders: { B: NOW + MIN, dead: NOW - MIN },
      remove: false,
      live: ['B'],
      untag: ['dead'],
    },
    { name: 'an unreadable lease counts as ended', holders: { junk: Number.NaN }, remove: true, live: [], untag: ['junk', VALUES_KEY] },
  ];
  it.each(cases)('$name', ({ holders, remove, live, untag }) => {
    const decision = decideCleanup({ holders: new Map(Object.entries(holders)), valueTagKeys: [VALUES_KEY], nowMs: NOW });
    expect(decision.removeRecords).toBe(remove);
    expect(decision.liveHolders).toEqual(live);
    expect(decision.untag).toEqual(untag);
  });
});

describe('challenge tags', () => {
  const value = (c: string) => c.repeat(43);

  it('records values as prefixes, at most 15 per tag value within 255 characters, with tag-safe characters only', () => {
    const values = Array.from({ length: 40 }, (_, i) => `${String(i).padStart(2, '0')}${'x'.repeat(41)}`);
    const tags = valuesTags('https://ca.test/order/1', values);
    expect(tags).toHaveLength(3);
    for (const t of tags) {
      expect(t.Key.startsWith(VALUES_TAG_PREFIX)).toBe(true);
      expect(t.Value.length).toBeLessThanOrEqual(255);
      expect(t.Value).toMatch(/^[A-Za-z0-9_\- ]+$/);
      expect(t.Key).toMatch(/^[A-Za-z0-9_.:/=+\-@]{1,128}$/);
    }
    const read = readChallengeTags(new Map(tags.map((t) => [t.Key, t.Value])), 'certpipe:pending-order');
    expect(values.every((v) => matchesRecorded(read.valuePrefixes, v))).toBe(true);
  });

  it('two orders get separate keys; the same order the same keys (concurrent writers never overwrite each other)', () => {
    expect(valuesTags('https://ca.test/order/1', [value('a')])[0]!.Key).not.toBe(valuesTags('https://ca.test/order/2', [value('a')])[0]!.Key);
    expect(valuesTags('https://ca.test/order/1', [value('a')])).toEqual(valuesTags('https://ca.test/order/1', [value('a')]));
    expect(holderTagKey('arn:aws:states:us-east-1:1:execution:m:a')).not.toBe(holderTagKey('arn:aws:states:us-east-1:1:execution:m:b'));
    expect(holderTagKey('arn:aws:states:us-east-1:1:execution:m:a').startsWith(HOLDER_TAG_PREFIX)).toBe(true);
  });

  it('matches only full DNS-01 values with a recorded prefix, never another writer value', () => {
    const prefixes = readChallengeTags(new Map([[VALUES_KEY, valuesTags('o', [value('a')])[0]!.Value]]), 'x').valuePrefixes;
    expect(matchesRecorded(prefixes, value('a'))).toBe(true);
    expect(matchesRecorded(prefixes, `${'a'.repeat(16)}${'b'.repeat(27)}`)).toBe(true);
    expect(matchesRecorded(prefixes, 'a'.repeat(16))).toBe(false);
    expect(matchesRecorded(prefixes, value('b'))).toBe(false);
    expect(matchesRecorded(prefixes, 'v=spf1 include:example.test')).toBe(false);
  });

  it('reads the pending order, the holders with their lease end, and the value tag keys', () => {
    const read = readChallengeTags(
      new Map([
        ['certpipe:pending-order', 'https://ca.test/order/9'],
        [`${HOLDER_TAG_PREFIX}abc`, '2026-03-01T12:30:00.000Z'],
        [VALUES_KEY, 'p1 p2'],
        ['certpipe:serial', '01'],
      ]),
      'certpipe:pending-order',
    );
    expect(read.orderUrl).toBe('https://ca.test/order/9');
    expect([...read.holders]).toEqual([[`${HOLDER_TAG_PREFIX}abc`, NOW + 30 * MIN]]);
    expect(read.valueTagKeys).toEqual([VALUES_KEY]);
    expect([...read.valuePrefixes]).toEqual(['p1', 'p2']);
  });
});
