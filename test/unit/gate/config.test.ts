// The staging gate and the canary in the config: who is whose twin, who is gated, the canary's checks.
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, toInventory, validateConfig } from '../../../infra/config.js';

const PIPELINE = { accountId: '000000000000', region: 'us-east-1' };

function config(extra: Record<string, unknown> = {}, issuers?: unknown[]) {
  return {
    issuers: issuers ?? [
      { name: 'prod', directoryUrl: 'https://ca.test/dir', staging: 'stage' },
      { name: 'stage', directoryUrl: 'https://ca.test/staging/dir' },
    ],
    hostedZones: [{ name: 'example.test' }],
    certificates: [
      { name: 'web', dnsNames: ['example.test'], issuer: 'prod' },
      { name: 'api', dnsNames: ['api.example.test'], issuer: 'prod', gate: 'off' },
      { name: 'lab', dnsNames: ['lab.example.test'], issuer: 'stage' },
    ],
    ...extra,
  };
}

const problems = (doc: unknown) => {
  try {
    validateConfig(doc);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  return [];
};

describe('staging gate in the config', () => {
  it('gates a certificate of an issuer with a twin into its own staging secret; gate: off and the twin\'s own certificates are not gated', () => {
    const inventory = toInventory(validateConfig(config()), PIPELINE);
    const gate = Object.fromEntries(inventory.certificates.map((c) => [c.name, c.stagingGate]));
    expect(gate).toEqual({ web: { issuer: 'stage', secretName: 'certpipe/web/staging' }, api: undefined, lab: undefined });
  });

  it('gate: off on the issuer opts all its certificates out', () => {
    const doc = config({}, [
      { name: 'prod', directoryUrl: 'https://ca.test/dir', staging: 'stage', gate: 'off' },
      { name: 'stage', directoryUrl: 'https://ca.test/staging/dir' },
    ]);
    expect(toInventory(validateConfig(doc), PIPELINE).certificates.every((c) => !c.stagingGate)).toBe(true);
  });

  it('the letsencrypt preset pairs with the config\'s letsencrypt-staging issuer, and with none when there is none', () => {
    const paired = config({ certificates: [{ name: 'web', dnsNames: ['example.test'], issuer: 'le' }] }, [
      { name: 'le', preset: 'letsencrypt' },
      { name: 'le-staging', preset: 'letsencrypt-staging' },
    ]);
    expect(toInventory(validateConfig(paired), PIPELINE).certificates[0]!.stagingGate).toEqual({ issuer: 'le-staging', secretName: 'certpipe/web/staging' });
    const alone = config({ certificates: [{ name: 'web', dnsNames: ['example.test'] }] }, [{ name: 'le', preset: 'letsencrypt' }]);
    expect(toInventory(validateConfig(alone), PIPELINE).certificates[0]!.stagingGate).toBeUndefined();
  });

  it('YAML `gate: off` (a string in YAML 1.2) and `gate: false` both opt out', () => {
    const yaml = (v: string) =>
      `issuers:\n  - { name: prod, directoryUrl: "https://ca.test/dir", staging: stage }\n  - { name: stage, directoryUrl: "https://ca.test/s/dir" }\n` +
      `hostedZones: [{ name: example.test }]\ncertificates:\n  - { name: web, dnsNames: [example.test], issuer: prod, gate: ${v} }\n`;
    for (const v of ['off', 'false']) expect(toInventory(parseConfig(yaml(v), 'x.yaml'), PIPELINE).certificates[0]!.stagingGate).toBeUndefined();
  });

  it('names the field and the fix for a twin that is unknown, itself, or gated in turn', () => {
    expect(problems(config({}, [{ name: 'prod', directoryUrl: 'https://ca.test/dir', staging: 'nope' }, { name: 'stage', directoryUrl: 'https://ca.test/s/dir' }]))).toContain(
      'issuers[0].staging: "nope" is not a configured issuer — add it to issuers, or use one of: prod, stage',
    );
    expect(problems(config({}, [{ name: 'prod', directoryUrl: 'https://ca.test/dir', staging: 'prod' }, { name: 'stage', directoryUrl: 'https://ca.test/s/dir' }]))).toContain(
      'issuers[0].staging: names the issuer itself — name its staging issuer, or remove it',
    );
    expect(
      problems(config({}, [{ name: 'prod', directoryUrl: 'https://ca.test/dir', staging: 'stage' }, { name: 'stage', directoryUrl: 'https://ca.test/s/dir', staging: 'prod' }])),
    ).toContain('issuers[0].staging: "stage" has a staging twin of its own — a staging issuer is not gated; remove its "staging"');
  });
});

describe('canary in the config', () => {
  it('is off by default and, when on, a certificate of its own on the staging issuer, every schedule interval unless `every` says otherwise', () => {
    expect(toInventory(validateConfig(config()), PIPELINE).certificates.some((c) => c.canary)).toBe(false);
    const on = toInventory(validateConfig(config({ canary: { dnsName: 'canary.example.test', issuer: 'stage' } })), PIPELINE);
    expect(on.certificates.find((c) => c.canary)).toMatchObject({
      name: 'certpipe-canary',
      issuer: 'stage',
      secretName: 'certpipe/canary',
      targets: [],
      dnsNames: ['canary.example.test'],
      canary: { everySeconds: 43_200 },
    });
    const every = toInventory(validateConfig(config({ canary: { dnsName: 'canary.example.test', issuer: 'stage', every: '1d' } })), PIPELINE);
    expect(every.certificates.find((c) => c.canary)!.canary).toEqual({ everySeconds: 86_400 });
  });

  it('refuses a production issuer (quota), a name in no zone, and a certificate named like the canary', () => {
    expect(problems(config({ canary: { dnsName: 'canary.example.test', issuer: 'prod' } }))).toContain(
      'canary.issuer: "prod" is not a staging issuer — the canary never spends production quota: use an issuer that is some issuer\'s "staging" twin, or a letsencrypt-staging preset',
    );
    expect(problems(config({ canary: { dnsName: 'canary.elsewhere.test', issuer: 'stage' } }))).toContain(
      'canary.dnsName: no hosted zone covers "canary.elsewhere.test" — add its zone to hostedZones or pick a name in one',
    );
    const named = config();
    (named.certificates as any[]).push({ name: 'certpipe-canary', dnsNames: ['c.example.test'], issuer: 'prod' });
    expect(problems(named)).toContain('certificates[3].name: "certpipe-canary" is the canary\'s name — choose another');
  });
});
