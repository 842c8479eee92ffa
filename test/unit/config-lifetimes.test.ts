// Short lifetimes and the CA presets in the config: the schedule must run often
// enough for the shortest lifetime configured (the error names the schedule to
// use), and the presets whose CA requires external account binding need `eab`.
import { describe, expect, it } from 'vitest';
import { ConfigError, ISSUER_PRESETS, toInventory, validateConfig } from '../../infra/config.js';
import { expectedLifetimeSeconds, scheduleFor, scheduleLifetimeProblem } from '../../infra/config/lifetimes.js';

const H = 3600;
const D = 24 * H;

function config(issuer: Record<string, unknown>, schedule?: string, certificate: Record<string, unknown> = {}) {
  return {
    issuers: [{ name: 'ca', directoryUrl: 'https://ca.test/dir', ...issuer }],
    hostedZones: [{ name: 'example.test', id: 'Z1' }],
    certificates: [{ name: 'web', dnsNames: ['example.test'], ...certificate }],
    ...(schedule ? { pipeline: { schedule } } : {}),
  };
}

function problems(doc: unknown): string[] {
  try {
    validateConfig(doc);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  return [];
}

describe('expected lifetimes', () => {
  it.each([
    ['classic', undefined, 90 * D],
    ['tlsserver', undefined, 45 * D],
    ['shortlived', undefined, 160 * H],
    ['shortlived', '30d', 160 * H], // a known profile wins over the hint
    ['custom', '7d', 7 * D],
    [undefined, '48h', 48 * H],
    [undefined, undefined, 90 * D],
  ])('profile %s, lifetime hint %s → %d s', (profile, hint, expected) => {
    expect(expectedLifetimeSeconds(profile, hint)).toBe(expected);
  });

  it.each([
    [90 * D, 'rate(5 days)'],
    [45 * D, 'rate(2 days)'],
    [160 * H, 'rate(8 hours)'],
    [24 * H, 'rate(1 hour)'],
    [6 * H, 'rate(20 minutes)'],
  ])('the schedule named as the fix for a lifetime of %d s is %s', (lifetime, schedule) => {
    expect(scheduleFor(lifetime)).toBe(schedule);
  });

  it('cron schedules are not compared (their gaps vary)', () => {
    expect(scheduleLifetimeProblem('cron(0 6 * * ? *)', [{ what: 'x', lifetimeSeconds: H }])).toBeUndefined();
  });
});

describe('the schedule check', () => {
  it('the default schedule (12 hours) is enough for classic and tlsserver', () => {
    expect(problems(config({ profile: 'classic' }))).toEqual([]);
    expect(problems(config({ profile: 'tlsserver' }))).toEqual([]);
  });

  it('shortlived with the default 12-hour schedule fails, naming the schedule to use', () => {
    expect(problems(config({ profile: 'shortlived' }))).toEqual([
      'pipeline.schedule: "rate(12 hours)" runs too rarely for certificate "web" (profile shortlived), whose certificates live about 160 hours: ' +
        'it needs 6 runs in the last third of that lifetime — use "rate(8 hours)" or shorter',
    ]);
  });

  it('the fix it names passes', () => {
    expect(problems(config({ profile: 'shortlived' }, 'rate(8 hours)'))).toEqual([]);
  });

  it("a certificate's own profile counts, and the shortest lifetime decides", () => {
    const doc = config({ profile: 'classic' }, 'rate(1 day)', { profile: 'shortlived' });
    expect(problems(doc)[0]).toContain('certificate "web" (profile shortlived)');
  });

  it('the issuer lifetime hint sizes a profile certpipe does not know', () => {
    const doc = config({ profile: 'sixday', lifetime: '6d' }, 'rate(12 hours)');
    expect(problems(doc)).toEqual([expect.stringContaining('live about 6 days: it needs 6 runs in the last third of that lifetime — use "rate(8 hours)" or shorter')]);
    expect(problems(config({ lifetime: 'soon' }))).toEqual([expect.stringContaining('issuers[0].lifetime: "soon" is not a duration')]);
  });

  it('the inventory carries the resolved profile (the certificate wins)', () => {
    const inv = toInventory(validateConfig(config({ profile: 'classic' }, undefined, { profile: 'tlsserver' })), { region: 'us-east-1' });
    expect(inv.certificates[0]!.profile).toBe('tlsserver');
    const fromIssuer = toInventory(validateConfig(config({ profile: 'classic' })), { region: 'us-east-1' });
    expect(fromIssuer.certificates[0]!.profile).toBe('classic');
  });
});

describe('presets that need EAB', () => {
  it('have the directory URLs the CAs publish', () => {
    expect(ISSUER_PRESETS.zerossl).toBe('https://acme.zerossl.com/v2/DV90');
    expect(ISSUER_PRESETS.google).toBe('https://dv.acme-v02.api.pki.goog/directory');
    expect(ISSUER_PRESETS['google-staging']).toBe('https://dv.acme-v02.test-api.pki.goog/directory');
  });

  it.each(['zerossl', 'google', 'google-staging'])('%s without eab is refused, saying where to get the key', (preset) => {
    const doc = config({ directoryUrl: undefined, preset });
    const [message, ...rest] = problems(doc);
    expect(rest).toEqual([]);
    expect(message).toMatch(new RegExp(`^issuers\\[0\\]\\.eab: is required: the "${preset}" CA requires external account binding — get a key id and HMAC key \\(`));
  });

  it.each(['zerossl', 'google', 'google-staging'])('%s with eab is valid and resolves to its directory', (preset) => {
    const doc = config({ directoryUrl: undefined, preset, eab: { keyId: 'kid-1', hmacKeySecret: 'certpipe/eab/ca' } });
    const inv = toInventory(validateConfig(doc), { region: 'us-east-1' });
    expect(inv.issuers[0]).toMatchObject({ directoryUrl: ISSUER_PRESETS[preset as keyof typeof ISSUER_PRESETS], eab: { keyId: 'kid-1', hmacKeySecretId: 'certpipe/eab/ca' } });
  });

  it("Let's Encrypt presets need no eab", () => {
    expect(problems(config({ directoryUrl: undefined, preset: 'letsencrypt-staging' }))).toEqual([]);
  });
});
