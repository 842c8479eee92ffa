import { describe, expect, it } from 'vitest';
import type { IssuerLimits } from '../../../functions/lib/budget/limits.js';
import { planBudget, type BudgetCandidate, type FailedAuthorization, type Spend } from '../../../functions/lib/budget/plan.js';
import { registeredDomain } from '../../../functions/lib/budget/registeredDomain.js';

const NOW = new Date('2026-04-01T12:00:00.000Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs);
const iso = (offsetMs: number) => at(offsetMs).toISOString();

/** A due renewal of `<name>.example.com` expiring in `days`, unless told otherwise. */
const cert = (name: string, over: Partial<BudgetCandidate> = {}): BudgetCandidate => ({
  name,
  issuer: 'le',
  dnsNames: [`${name}.example.com`],
  urgent: false,
  notAfter: at(20 * DAY),
  renewal: true,
  ...over,
});
const spend = (dnsNames: string[], agoMs: number, issuer = 'le'): Spend => ({ issuer, at: at(-agoMs), dnsNames });

interface Case {
  name: string;
  limits: Record<string, IssuerLimits | undefined>;
  candidates: BudgetCandidate[];
  spent?: Spend[];
  failed?: FailedAuthorization[];
  admitted: string[];
  deferred: Array<[string, string, string]>; // name, limit, next slot
}

const cases: Case[] = [
  {
    name: 'an issuer without limits is not budgeted',
    limits: { le: undefined },
    candidates: [cert('a'), cert('b'), cert('c')],
    admitted: ['a', 'b', 'c'],
    deferred: [],
  },
  {
    name: 'new orders 2 per 3 h over 5: the 2 soonest to expire go, the next 2 wait 3 h, the fifth 6 h',
    limits: { le: { newOrdersPer3Hours: 2 } },
    candidates: [cert('e', { notAfter: at(25 * DAY) }), cert('a', { notAfter: at(5 * DAY) }), cert('d', { notAfter: at(21 * DAY) }), cert('b', { notAfter: at(9 * DAY) }), cert('c', { notAfter: at(10 * DAY) })],
    admitted: ['a', 'b'],
    deferred: [
      ['c', 'newOrdersPer3Hours', iso(3 * HOUR)],
      ['d', 'newOrdersPer3Hours', iso(3 * HOUR)],
      ['e', 'newOrdersPer3Hours', iso(6 * HOUR)],
    ],
  },
  {
    name: 'orders already placed inside the window count; older ones do not; slots open as they age out',
    limits: { le: { newOrdersPer3Hours: 3 } },
    spent: [spend(['x.example.com'], 2 * HOUR), spend(['y.example.com'], 1 * HOUR), spend(['z.example.com'], 4 * HOUR)],
    candidates: [cert('a', { notAfter: at(1 * DAY) }), cert('b', { notAfter: at(2 * DAY) }), cert('c', { notAfter: at(3 * DAY) })],
    admitted: ['a'],
    deferred: [
      ['b', 'newOrdersPer3Hours', iso(1 * HOUR)],
      ['c', 'newOrdersPer3Hours', iso(2 * HOUR)],
    ],
  },
  {
    name: 'an emergency renewal is never deferred behind a certificate that expires later, nor a first issuance behind a renewal',
    limits: { le: { newOrdersPer3Hours: 2 } },
    candidates: [cert('new', { notAfter: undefined, renewal: false }), cert('later', { notAfter: at(10 * DAY) }), cert('urgent', { urgent: true, notAfter: at(30 * DAY) })],
    admitted: ['urgent', 'later'],
    deferred: [['new', 'newOrdersPer3Hours', iso(3 * HOUR)]],
  },
  {
    name: 'an exempt renewal (ARI replaces) goes even when the budget is spent, and spends none of it',
    limits: { le: { newOrdersPer3Hours: 1 } },
    spent: [spend(['x.example.com'], HOUR)],
    candidates: [cert('ari', { exempt: true, notAfter: at(30 * DAY) }), cert('plain', { notAfter: at(1 * DAY) })],
    admitted: ['ari'],
    deferred: [['plain', 'newOrdersPer3Hours', iso(2 * HOUR)]],
  },
  {
    name: 'certificates per registered domain: the Public Suffix List decides (co.uk), renewals of the same names are exempt',
    limits: { le: { certificatesPerRegisteredDomainPer7Days: 1 } },
    spent: [spend(['old.example.co.uk'], 2 * DAY)],
    candidates: [
      cert('new1', { dnsNames: ['a.example.co.uk'], renewal: false, notAfter: undefined }),
      cert('renew', { dnsNames: ['b.example.co.uk'], renewal: true }),
      cert('other', { dnsNames: ['www.other.co.uk', '*.other.co.uk'], renewal: false, notAfter: undefined }),
    ],
    admitted: ['renew', 'other'],
    deferred: [['new1', 'certificatesPerRegisteredDomainPer7Days', iso(5 * DAY)]],
  },
  {
    name: 'private suffixes are separate registered domains (github.io)',
    limits: { le: { certificatesPerRegisteredDomainPer7Days: 1 } },
    candidates: [cert('one', { dnsNames: ['one.github.io'], renewal: false }), cert('two', { dnsNames: ['two.github.io'], renewal: false })],
    admitted: ['one', 'two'],
    deferred: [],
  },
  {
    name: 'duplicate certificates: the same set of names in any order and case',
    limits: { le: { duplicateCertificatesPer7Days: 2 } },
    spent: [spend(['www.example.com', 'example.com'], 3 * DAY), spend(['EXAMPLE.com', 'www.example.com'], 1 * DAY)],
    candidates: [cert('dup', { dnsNames: ['example.com', 'www.example.com'] }), cert('solo', { dnsNames: ['example.com'] })],
    admitted: ['solo'],
    deferred: [['dup', 'duplicateCertificatesPer7Days', iso(4 * DAY)]],
  },
  {
    name: 'failed authorizations per identifier: an identifier that failed too often in the last hour waits for the oldest failure to age out',
    limits: { le: { failedAuthorizationsPerIdentifierPerHour: 2 } },
    failed: [
      { issuer: 'le', identifier: 'bad.example.com', at: at(-40 * 60_000) },
      { issuer: 'le', identifier: 'bad.example.com', at: at(-10 * 60_000) },
      { issuer: 'le', identifier: 'ok.example.com', at: at(-10 * 60_000) },
      { issuer: 'le', identifier: 'ok.example.com', at: at(-70 * 60_000) },
    ],
    candidates: [cert('bad'), cert('ok')],
    admitted: ['ok'],
    deferred: [['bad', 'failedAuthorizationsPerIdentifierPerHour', iso(20 * 60_000)]],
  },
  {
    name: 'each issuer has its own budget',
    limits: { le: { newOrdersPer3Hours: 1 }, zerossl: { newOrdersPer3Hours: 1 } },
    candidates: [cert('a', { notAfter: at(1 * DAY) }), cert('b', { notAfter: at(2 * DAY) }), cert('z', { issuer: 'zerossl', notAfter: at(3 * DAY) })],
    admitted: ['a', 'z'],
    deferred: [['b', 'newOrdersPer3Hours', iso(3 * HOUR)]],
  },
  {
    name: 'when two limits are spent, the slot is the later of the two',
    limits: { le: { newOrdersPer3Hours: 1, duplicateCertificatesPer7Days: 1 } },
    spent: [spend(['a.example.com'], HOUR)],
    candidates: [cert('a')],
    admitted: [],
    deferred: [['a', 'duplicateCertificatesPer7Days', iso(7 * DAY - HOUR)]],
  },
];

describe('planBudget', () => {
  it.each(cases)('$name', (c) => {
    const plan = planBudget({ candidates: c.candidates, spent: c.spent ?? [], failedAuthorizations: c.failed ?? [], limits: c.limits, now: NOW });
    expect(plan.admitted).toEqual(c.admitted);
    expect(plan.deferred.map((d) => [d.name, d.limit, d.nextSlot.toISOString()])).toEqual(c.deferred);
    const slots = c.deferred.map(([, , slot]) => slot).sort();
    expect(plan.nextSlot?.toISOString()).toBe(slots[0]);
  });

  it('never defers a more urgent certificate while admitting a less urgent one competing for the same budget', () => {
    // Every permutation of 5 candidates under a budget of 2: the admitted are always the 2 most urgent.
    const five = [cert('a', { urgent: true }), cert('b', { notAfter: at(2 * DAY) }), cert('c', { notAfter: at(3 * DAY) }), cert('d', { notAfter: at(4 * DAY) }), cert('e', { notAfter: undefined, renewal: false })];
    const permutations = (xs: BudgetCandidate[]): BudgetCandidate[][] => (xs.length <= 1 ? [xs] : xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p])));
    for (const order of permutations(five)) {
      const plan = planBudget({ candidates: order, spent: [], limits: { le: { newOrdersPer3Hours: 2 } }, now: NOW });
      expect(plan.admitted).toEqual(['a', 'b']);
    }
  });
});

describe('registeredDomain', () => {
  it.each([
    ['www.example.com', 'example.com'],
    ['new.blog.example.co.uk', 'example.co.uk'],
    ['*.api.example.com', 'example.com'],
    ['WWW.Example.COM.', 'example.com'],
    ['user.github.io', 'user.github.io'],
    ['co.uk', 'co.uk'],
  ])('%s → %s', (name, expected) => {
    expect(registeredDomain(name)).toBe(expected);
  });
});
