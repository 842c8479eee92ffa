// The local ACME front's rules, at fixed dates: Let's Encrypt's default window and
// the `replaces` and profile checks it makes before forwarding an order to Pebble.
import { describe, expect, it } from 'vitest';
import { checkProfile, checkReplaces, defaultWindow, type IssuedThroughFront } from '../../local/pebble/acme-front/renewalInfo.js';

const d = (iso: string) => new Date(iso);

describe("defaultWindow (Let's Encrypt's RenewalInfoSimple)", () => {
  it.each([
    // 90 days: centred where a third is left (notAfter - 30 days = 03-01T23:59:59), ±0.9 days (21h36m).
    ['90 days', '2026-01-01T00:00:00Z', '2026-03-31T23:59:59Z', '2026-03-01T02:23:59.000Z', '2026-03-02T21:35:59.000Z'],
    // 6 days (shortlived, under ten days): centred at half (01-03T23:59:59), ±1.44 hours.
    ['6 days', '2026-01-01T00:00:00Z', '2026-01-06T23:59:59Z', '2026-01-03T22:33:35.000Z', '2026-01-04T01:26:23.000Z'],
  ])('%s', (_name, notBefore, notAfter, start, end) => {
    const w = defaultWindow(d(notBefore), d(notAfter));
    expect([w.start.toISOString(), w.end.toISOString()]).toEqual([start, end]);
  });
});

describe('checkReplaces', () => {
  const ACCOUNT = 'https://ca.test/my-account/1';
  const old: IssuedThroughFront = { certId: 'aYhb.AIdl', serial: '87654321', dnsNames: ['example.test', '*.example.test'], notBefore: d('2026-01-01T00:00:00Z'), notAfter: d('2026-04-01T00:00:00Z'), account: ACCOUNT };
  const known = (id: string) => (id === old.certId ? old : id === 'aYhb.DONE' ? { ...old, certId: id, replaced: true } : undefined);
  it.each([
    ['no replaces', undefined, ['example.test'], ACCOUNT, undefined],
    ['a replacement sharing a name', 'aYhb.AIdl', ['EXAMPLE.test', 'new.example.test'], ACCOUNT, undefined],
    ['not a certID', 'aYhb', ['example.test'], ACCOUNT, 'malformed'],
    ['not a string', 42, ['example.test'], ACCOUNT, 'malformed'],
    ['a certificate this CA never issued', 'aYhb.NONE', ['example.test'], ACCOUNT, 'malformed'],
    ['no name in common', 'aYhb.AIdl', ['other.test'], ACCOUNT, 'malformed'],
    ['replaced already', 'aYhb.DONE', ['example.test'], ACCOUNT, 'alreadyReplaced'],
    ["another account's certificate", 'aYhb.AIdl', ['example.test'], 'https://ca.test/my-account/2', 'unauthorized'],
  ])('%s → %s', (_name, replaces, identifiers, account, type) => {
    expect(checkReplaces(replaces, identifiers, account, known)?.type).toBe(type);
  });
  it("answers with Let's Encrypt's statuses: 409 alreadyReplaced, 403 for another account's certificate, 404 for an unknown one", () => {
    expect(checkReplaces('aYhb.DONE', ['example.test'], ACCOUNT, known)?.status).toBe(409);
    expect(checkReplaces('aYhb.AIdl', ['example.test'], 'https://ca.test/my-account/2', known)).toMatchObject({
      status: 403,
      detail: "Could not validate ARI 'replaces' field :: requester account did not request the certificate being replaced by this order",
    });
    expect(checkReplaces('aYhb.NONE', ['example.test'], ACCOUNT, known)?.status).toBe(404);
  });
});

describe('checkProfile', () => {
  it.each([
    [undefined, undefined],
    ['classic', undefined],
    ['shortlived', undefined],
    ['tlsserver', undefined],
    ['longlived', 'invalidProfile'],
    [7, 'invalidProfile'],
  ])('%s → %s', (profile, type) => {
    expect(checkProfile(profile)?.type).toBe(type);
  });
});
