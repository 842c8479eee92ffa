import { X509Certificate } from 'node:crypto';
import { LETSENCRYPT_ROOTS, LETSENCRYPT_STAGING_ROOTS } from '../../functions/lib/trust.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { InvalidInput } from '../../functions/lib/workflow/errors.js';
import {
  ConfigError,
  DEFAULT_CONFIG_PATH,
  ISSUER_PRESETS,
  JSON_SCHEMA_PATH,
  jsonSchemaText,
  loadConfig,
  parseConfig,
  toInventory,
  validateConfig,
  writeJsonSchema,
} from '../../infra/config.js';
import { configWarnings } from '../../infra/config/warnings.js';
import { ACM_CERTIFICATE_LIMIT, SECRET_STRING_LIMIT, estimateSizes } from '../../infra/config/sizes.js';
import { validateCommand } from '../../bin/commands/validate.js';

const dir = mkdtempSync(join(tmpdir(), 'certpipe-'));
const PIPELINE = { accountId: '000000000000', region: 'us-east-1' };

/** A small valid config; each invalid case breaks one thing in it. */
function base(): Record<string, any> {
  return {
    issuers: [{ name: 'pebble', directoryUrl: 'https://127.0.0.1:14000/dir', email: 'ops@example.test' }],
    hostedZones: [{ name: 'example.test' }, { name: 'example.org.test', id: 'Z0ORG' }],
    certificates: [
      { name: 'web', dnsNames: ['example.test', '*.example.test'] },
      { name: 'shop', dnsNames: ['shop.example.test', 'www.example.org.test'] },
    ],
  };
}

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const HMAC_KEY = 'c0mPl3x-HmacKey_ABCdef0123456789xyzXYZ0123';

type Case = { name: string; expected: string[] } & ({ yaml: string } | { mutate: (c: Record<string, any>) => void });

const cases: Case[] = [
  // The file itself
  { name: 'empty file', yaml: '', expected: ['the config is empty — start from certpipe.config.yaml'] },
  {
    name: 'YAML syntax error',
    yaml: 'issuers:\n  - name: pebble\n   directoryUrl: https://x/dir\n',
    expected: ['line 3, column 1: Sequence item without - indicator — fix the YAML syntax'],
  },
  {
    name: 'unquoted wildcard (a YAML alias)',
    yaml: [
      'issuers: [{ name: pebble, preset: letsencrypt }]',
      'hostedZones: [{ name: example.test }]',
      'certificates:',
      '  - name: web',
      '    dnsNames:',
      '      - example.test',
      '      - *.example.test',
    ].join('\n'),
    expected: ['line 7: Unresolved alias', '— quote wildcard names: "*.example.com"'],
  },
  {
    name: 'duplicate key',
    yaml: 'issuers:\n  - name: a\n    name: b\n    preset: letsencrypt\n',
    expected: ['line 3, column 5: ', '— keep one of the repeated keys'],
  },
  {
    name: 'a list instead of a mapping',
    yaml: '- issuers\n',
    expected: ['the config must be a mapping with issuers:, hostedZones:, certificates:, not a list — start from'],
  },
  {
    name: 'top-level typo',
    mutate: (c) => {
      c.certificate = c.certificates;
      delete c.certificates;
    },
    expected: ['certificate: is not a known field — did you mean "certificates"?'],
  },
  // Issuers
  {
    name: 'no issuers',
    mutate: (c) => delete c.issuers,
    expected: ['issuers: is required — list at least one issuer, each with a name and a preset or directoryUrl'],
  },
  { name: 'empty issuer list', mutate: (c) => (c.issuers = []), expected: ['issuers: has 0 item(s) — list at least 1'] },
  {
    name: 'issuer without preset or directoryUrl',
    mutate: (c) => delete c.issuers[0].directoryUrl,
    expected: ['issuers[0]: has neither preset nor directoryUrl — add "preset: letsencrypt-staging"'],
  },
  {
    name: 'issuer with both preset and directoryUrl',
    mutate: (c) => (c.issuers[0].preset = 'letsencrypt'),
    expected: ['issuers[0]: has both preset and directoryUrl — keep one of them'],
  },
  {
    name: 'unknown preset',
    mutate: (c) => {
      delete c.issuers[0].directoryUrl;
      c.issuers[0].preset = 'letsencrypt-prod';
    },
    expected: ['issuers[0].preset: is the text "letsencrypt-prod", not one of the choices — use one of: "letsencrypt", "letsencrypt-staging"'],
  },
  {
    name: 'plain-http directory',
    mutate: (c) => (c.issuers[0].directoryUrl = 'http://ca.example.test/dir'),
    expected: ['issuers[0].directoryUrl: "http://ca.example.test/dir" is not an https URL — use a URL like "https://acme.example.com/directory"'],
  },
  {
    name: 'contact that is not an email',
    mutate: (c) => (c.issuers[0].email = 'ops at example'),
    expected: ['issuers[0].email: "ops at example" is not an email address — use one like "ops@example.com"'],
  },
  {
    name: 'inline EAB HMAC key',
    mutate: (c) => (c.issuers[0].eab = { keyId: 'kid-1', hmacKeySecret: HMAC_KEY }),
    expected: ['issuers[0].eab.hmacKeySecret: looks like the HMAC key itself — store the key in Secrets Manager'],
  },
  {
    name: 'EAB without key id',
    mutate: (c) => (c.issuers[0].eab = { hmacKeySecret: 'certpipe/eab/ca' }),
    expected: ['issuers[0].eab.keyId: is required — copy the EAB key id your CA gave you'],
  },
  {
    name: 'two issuers with one name',
    mutate: (c) => c.issuers.push({ name: 'pebble', preset: 'letsencrypt' }),
    expected: ['issuers[1].name: "pebble" is already the name of issuers[0] — give each issuer its own name'],
  },
  // Hosted zones
  {
    name: 'wildcard zone',
    mutate: (c) => c.hostedZones.push({ name: '*.example.net' }),
    expected: ['hostedZones[2].name: "*.example.net" has a wildcard — a hosted zone is a plain domain like "example.com"'],
  },
  {
    name: 'bad zone id',
    mutate: (c) => (c.hostedZones[0].id = 'zone-1'),
    expected: ['hostedZones[0].id: "zone-1" is not a hosted zone id — use the Route 53 hosted zone id like'],
  },
  {
    name: 'zone listed twice',
    mutate: (c) => c.hostedZones.push({ name: 'Example.Test.' }),
    expected: ['hostedZones[2]: repeats hostedZones[0] — list each zone once'],
  },
  // Certificates
  {
    name: 'upper-case certificate name',
    mutate: (c) => (c.certificates[0].name = 'Web'),
    expected: ['certificates[0].name: "Web" is not a valid certificate name — use 1–63 lower-case letters, digits and hyphens'],
  },
  {
    name: 'two certificates with one name',
    mutate: (c) => (c.certificates[1].name = 'web'),
    expected: ['certificates[1].name: "web" is already the name of certificates[0] — give each certificate its own name'],
  },
  {
    name: 'two certificates writing one secret',
    mutate: (c) => (c.certificates[1].secretName = 'certpipe/web'),
    expected: ['certificates[1].secretName: secret "certpipe/web" is also used by certificates[0] — each certificate needs its own secret'],
  },
  {
    name: 'unknown certificate field',
    mutate: (c) => {
      c.certificates[0].dnsname = c.certificates[0].dnsNames;
      delete c.certificates[0].dnsNames;
    },
    expected: ['certificates[0].dnsname: is not a known field — did you mean "dnsNames"?', 'certificates[0].dnsNames: is required'],
  },
  {
    name: 'dnsNames as one string',
    mutate: (c) => (c.certificates[0].dnsNames = 'example.test'),
    expected: ['certificates[0].dnsNames: must be a list, not the text "example.test" — list the names, e.g. "- www.example.com"'],
  },
  {
    name: 'no names',
    mutate: (c) => (c.certificates[0].dnsNames = []),
    expected: ['certificates[0].dnsNames: has 0 item(s) — list at least 1'],
  },
  {
    name: 'double wildcard',
    mutate: (c) => (c.certificates[1].dnsNames = ['*.*.example.test']),
    expected: [
      'certificates[1].dnsNames[0]: "*.*.example.test" is not a valid DNS name — use a host name like "www.example.com" or one wildcard label "*.example.com"',
    ],
  },
  {
    name: 'wildcard inside a name',
    mutate: (c) => (c.certificates[1].dnsNames = ['www.*.example.test']),
    expected: ['certificates[1].dnsNames[0]: "www.*.example.test" is not a valid DNS name — use a host name like'],
  },
  {
    name: 'partial-label wildcard',
    mutate: (c) => (c.certificates[1].dnsNames = ['w*.example.test']),
    expected: ['certificates[1].dnsNames[0]: "w*.example.test" is not a valid DNS name'],
  },
  {
    name: 'IP address',
    mutate: (c) => (c.certificates[1].dnsNames = ['192.0.2.1']),
    expected: ['certificates[1].dnsNames[0]: "192.0.2.1" is an IP address — certpipe issues DNS-01 certificates for DNS names only'],
  },
  {
    name: 'name longer than 253 characters',
    mutate: (c) => (c.certificates[1].dnsNames = [`${'a'.repeat(60)}.`.repeat(4) + 'example.test']),
    expected: ['certificates[1].dnsNames[0]: ', 'is 256 characters long — a DNS name has at most 253; shorten it'],
  },
  {
    name: 'label longer than 63 characters',
    mutate: (c) => (c.certificates[1].dnsNames = [`${'a'.repeat(64)}.example.test`]),
    expected: ['certificates[1].dnsNames[0]: ', 'is not a valid DNS name'],
  },
  {
    name: 'the same name twice, in other case',
    mutate: (c) => c.certificates[0].dnsNames.push('EXAMPLE.test'),
    expected: ['certificates[0].dnsNames[2]: "EXAMPLE.test" repeats dnsNames[0] — list each name once'],
  },
  {
    name: 'more than 100 names',
    mutate: (c) => (c.certificates[0].dnsNames = Array.from({ length: 101 }, (_, i) => `h${i}.example.test`)),
    expected: ['certificates[0].dnsNames: has 101 item(s) — list at most 100'],
  },
  {
    name: 'name in no configured zone',
    mutate: (c) => c.certificates[1].dnsNames.push('www.other.test'),
    expected: ['certificates[1].dnsNames[2]: no hosted zone covers "www.other.test" — add its zone to hostedZones (e.g. "- name: other.test")'],
  },
  {
    name: 'unknown issuer',
    mutate: (c) => (c.certificates[0].issuer = 'letsencrypt'),
    expected: ['certificates[0].issuer: "letsencrypt" is not a configured issuer — use one of: pebble'],
  },
  {
    name: 'issuer left out when there are two',
    // A second production issuer (a staging twin would not count: see test/unit/gate/config.test.ts).
    mutate: (c) => c.issuers.push({ name: 'staging', directoryUrl: 'https://acme.example.test/dir' }),
    expected: [
      'certificates[0].issuer: is required when there are 2 issuers — set it to one of: pebble, staging',
      'certificates[1].issuer: is required when there are 2 issuers',
    ],
  },
  {
    name: 'unsupported key algorithm',
    mutate: (c) => (c.certificates[0].keyAlgorithm = 'ecdsa-p521'),
    expected: ['certificates[0].keyAlgorithm: is the text "ecdsa-p521", not one of the choices — use one of: "ecdsa-p256", "ecdsa-p384", "rsa-2048", "rsa-3072", "rsa-4096"'],
  },
  {
    name: 'unknown rotation policy',
    mutate: (c) => (c.certificates[0].privateKeyRotation = 'sometimes'),
    expected: ['certificates[0].privateKeyRotation: is the text "sometimes", not one of the choices — use one of: "always", "never"'],
  },
  {
    name: 'renewBefore in words',
    mutate: (c) => (c.certificates[0].renewBefore = '30 days'),
    expected: ['certificates[0].renewBefore: "30 days" is not a duration or percentage — use a duration like "30d", "720h"'],
  },
  {
    name: 'renewBefore over 100%',
    mutate: (c) => (c.certificates[0].renewBefore = '150%'),
    expected: ['certificates[0].renewBefore: "150%" is not a duration or percentage'],
  },
  {
    name: 'renewBefore as a bare number',
    mutate: (c) => (c.certificates[0].renewBefore = 30),
    expected: ['certificates[0].renewBefore: must be text, not number 30 — use a duration like "30d" or a percentage like "33%"'],
  },
  {
    name: 'hostedZoneIds for a name the certificate does not have',
    mutate: (c) => (c.certificates[1].hostedZoneIds = { 'api.example.org.test': 'Z0ORG' }),
    expected: [
      `certificates[1].hostedZoneIds["api.example.org.test"]: "api.example.org.test" is not one of this certificate's dnsNames — remove it or add the name to dnsNames`,
    ],
  },
  {
    name: 'hostedZoneIds naming a zone that is not configured',
    mutate: (c) => (c.certificates[1].hostedZoneIds = { 'www.example.org.test': 'Z999' }),
    expected: ['certificates[1].hostedZoneIds["www.example.org.test"]: zone "Z999" is not in hostedZones — add it there'],
  },
  {
    name: 'challengeDelegations for a name the certificate does not have',
    mutate: (c) => (c.certificates[0].challengeDelegations = { 'shop.example.test': 'shop.acme.example.org.test' }),
    expected: [
      `certificates[0].challengeDelegations["shop.example.test"]: "shop.example.test" is not one of this certificate's dnsNames — remove it or add the name to dnsNames`,
    ],
  },
  {
    name: 'challengeDelegations to a target outside the hosted zones',
    mutate: (c) => (c.certificates[0].challengeDelegations = { 'example.test': 'example-test.acme.elsewhere.test' }),
    expected: [
      'certificates[0].challengeDelegations["example.test"]: the delegation target "example-test.acme.elsewhere.test" is in none of hostedZones — add its zone to hostedZones',
    ],
  },
  {
    name: 'challengeDelegations to a wildcard target',
    mutate: (c) => (c.certificates[0].challengeDelegations = { 'example.test': '*.example.org.test' }),
    expected: ['certificates[0].challengeDelegations["example.test"]:'],
  },
  // Targets
  {
    name: 'target of an unknown type',
    mutate: (c) => (c.certificates[0].targets = [{ type: 's3', region: 'us-east-1' }]),
    expected: ['certificates[0].targets[0].type: is the text "s3" — use "acm" or "secretsmanager"'],
  },
  {
    name: 'target without a type',
    mutate: (c) => (c.certificates[0].targets = [{ region: 'us-east-1' }]),
    expected: ['certificates[0].targets[0].type: is required — use "acm" or "secretsmanager"'],
  },
  {
    name: 'ACM target without a region',
    mutate: (c) => (c.certificates[0].targets = [{ type: 'acm' }]),
    expected: ['certificates[0].targets[0].region: is required — use an AWS region name like "us-east-1"'],
  },
  {
    name: 'ACM target in a made-up region',
    mutate: (c) => (c.certificates[0].targets = [{ type: 'acm', region: 'europe' }]),
    expected: ['certificates[0].targets[0].region: "europe" is not an AWS region — use an AWS region name like "us-east-1" or "eu-west-1"'],
  },
  {
    name: 'role without an ExternalId',
    mutate: (c) => (c.certificates[0].targets = [{ type: 'acm', region: 'us-east-1', roleArn: 'arn:aws:iam::111111111111:role/t' }]),
    expected: ['certificates[0].targets[0].externalId: is required with a roleArn — add the ExternalId the target role trusts'],
  },
  {
    name: 'ExternalId without a role',
    mutate: (c) => (c.certificates[0].targets = [{ type: 'acm', region: 'us-east-1', externalId: 'x-1' }]),
    expected: ['certificates[0].targets[0].roleArn: is missing: an externalId is only used to assume a role'],
  },
  {
    name: 'a user ARN where a role ARN belongs',
    mutate: (c) =>
      (c.certificates[0].targets = [
        { type: 'secretsmanager', roleArn: 'arn:aws:iam::111111111111:user/bob', externalId: 'x-1' },
      ]),
    expected: ['certificates[0].targets[0].roleArn: "arn:aws:iam::111111111111:user/bob" is not an IAM role ARN — use an IAM role ARN like'],
  },
  {
    name: "secret target that is the certificate's own secret",
    mutate: (c) => (c.certificates[0].targets = [{ type: 'secretsmanager' }]),
    expected: ["certificates[0].targets[0]: is the certificate's own secret (same account, region and name) — give it a region, a roleArn or a different name"],
  },
  {
    name: 'the same target twice',
    mutate: (c) =>
      (c.certificates[0].targets = [
        { type: 'acm', region: 'eu-west-1' },
        { type: 'acm', region: 'eu-west-1' },
      ]),
    expected: ['certificates[0].targets[1]: repeats targets[0] (same type, account, region and name) — remove one'],
  },
  // Secrets that would overwrite each other (per account and region)
  {
    name: "a copy onto another certificate's secret",
    mutate: (c) => (c.certificates[1].targets = [{ type: 'secretsmanager', name: 'certpipe/web' }]),
    expected: [
      'certificates[1].targets[0]: secret "certpipe/web" (pipeline account, pipeline region) is also the secret of certificates[0] "web" — it would overwrite it; give this target another name, region or account',
    ],
  },
  {
    name: 'two certificates copying to one secret in another region',
    mutate: (c) => {
      c.certificates[0].targets = [{ type: 'secretsmanager', name: 'shared/tls', region: 'eu-west-1' }];
      c.certificates[1].secretName = 'shared/tls';
      c.certificates[1].targets = [{ type: 'secretsmanager', name: 'shared/tls', region: 'eu-west-1' }];
    },
    expected: [
      'certificates[1].targets[0]: secret "shared/tls" (pipeline account, eu-west-1) is also the copy certificates[0].targets[0] of "web" — it would overwrite it; give this target another name, region or account',
    ],
  },
  {
    name: "two certificates copying to the same secret in another account",
    mutate: (c) => {
      const cross = { type: 'secretsmanager', name: 'tls/app', roleArn: 'arn:aws:iam::111111111111:role/t', externalId: 'ext-1' };
      c.certificates[0].targets = [cross];
      c.certificates[1].targets = [{ ...cross, roleArn: 'arn:aws:iam::111111111111:role/other' }];
    },
    expected: ['certificates[1].targets[0]: secret "tls/app" (account 111111111111, pipeline region) is also the copy certificates[0].targets[0] of "web"'],
  },
  {
    name: "a certificate secret equal to an issuer's ACME account secret",
    mutate: (c) => (c.certificates[0].secretName = 'certpipe/acme-account/pebble'),
    expected: [
      'certificates[0].secretName: secret "certpipe/acme-account/pebble" (pipeline account, pipeline region) is also the ACME account secret of issuers[0] "pebble" — it would overwrite it; set a different secretName',
    ],
  },
  {
    name: "a copy onto an issuer's EAB secret",
    mutate: (c) => {
      c.issuers[0].eab = { keyId: 'kid-1', hmacKeySecret: 'certpipe/eab/pebble' };
      c.certificates[0].targets = [{ type: 'secretsmanager', name: 'certpipe/eab/pebble' }];
    },
    expected: ['certificates[0].targets[0]: secret "certpipe/eab/pebble" (pipeline account, pipeline region) is also the EAB key secret of issuers[0] "pebble" — it would overwrite it'],
  },
  {
    name: 'two issuers sharing one ACME account secret',
    mutate: (c) => {
      c.issuers.push({ name: 'other', directoryUrl: 'https://acme.example.test/dir', accountSecretName: 'certpipe/acme-account/pebble' });
      for (const cert of c.certificates) cert.issuer = 'pebble';
    },
    expected: ['issuers[1].accountSecretName: secret "certpipe/acme-account/pebble" (pipeline account, pipeline region) is also the ACME account secret of issuers[0] "pebble" — it would overwrite it; set a different accountSecretName'],
  },
  // Pipeline and alarms
  {
    name: 'concurrency above 40',
    mutate: (c) => (c.pipeline = { maxConcurrency: 50 }),
    expected: ['pipeline.maxConcurrency: is 50 — use a value of at most 40'],
  },
  {
    name: 'fractional concurrency',
    mutate: (c) => (c.pipeline = { maxConcurrency: 2.5 }),
    expected: ['pipeline.maxConcurrency: must be a whole number, not number 2.5 — use a whole number from 1 to 40'],
  },
  {
    name: 'zero propagation wait',
    mutate: (c) => (c.pipeline = { propagation: { waitSeconds: 0 } }),
    expected: ['pipeline.propagation.waitSeconds: is 0 — use a value of at least 1'],
  },
  {
    name: 'schedule in words',
    mutate: (c) => (c.pipeline = { schedule: 'every 12 hours' }),
    expected: ['pipeline.schedule: "every 12 hours" is not a schedule expression — use an EventBridge Scheduler expression like "rate(12 hours)"'],
  },
  {
    name: 'rate with the plural for 1',
    mutate: (c) => (c.pipeline = { schedule: 'rate(1 hours)' }),
    expected: ['pipeline.schedule: "rate(1 hours)" must use the singular unit for 1 — write "rate(1 hour)"'],
  },
  {
    name: 'five-field cron',
    mutate: (c) => (c.pipeline = { schedule: 'cron(0 6 * * *)' }),
    expected: ['pipeline.schedule: "cron(0 6 * * *)" has 5 cron fields, EventBridge needs 6'],
  },
  {
    name: 'resolver given by name',
    mutate: (c) => (c.pipeline = { resolvers: ['dns.google'] }),
    expected: ['pipeline.resolvers[0]: "dns.google" is not a resolver address — use "ip" or "ip:port"'],
  },
  {
    name: 'alarm email that is not one',
    mutate: (c) => (c.alarms = { email: ['pager'] }),
    expected: ['alarms.email[0]: "pager" is not an email address'],
  },
  {
    name: 'alarm webhook over plain http',
    mutate: (c) => (c.alarms = { https: ['http://hooks.example.test/x'] }),
    expected: ['alarms.https[0]: "http://hooks.example.test/x" is not an https URL'],
  },
  {
    name: 'alarm threshold of zero days',
    mutate: (c) => (c.alarms = { daysToExpiry: 0 }),
    expected: ['alarms.daysToExpiry: is 0 — use a value of at least 1'],
  },
];

describe('invalid configs are rejected with the field and the fix', () => {
  it('has plenty of cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });

  it.each(cases)('$name', (testCase) => {
    let text: string;
    if ('yaml' in testCase) {
      text = testCase.yaml;
    } else {
      const config = base();
      testCase.mutate(config);
      text = stringify(config);
    }
    const error = errorOf(() => parseConfig(text, 'certpipe.config.yaml'));
    expect(error.message.startsWith('certpipe.config.yaml: ')).toBe(true);
    for (const expected of testCase.expected) expect(error.message).toContain(expected);
    // Every problem line has the "what — fix" shape.
    for (const problem of error.problems) expect(problem.message).toContain(' — ');
  });

  it('lists every problem at once, not only the first', () => {
    const config = base();
    config.issuers[0].email = 'nope';
    config.certificates[0].keyAlgorithm = 'dsa';
    config.certificates[1].dnsNames.push('www.other.test');
    config.pipeline = { maxConcurrency: 0 };
    const error = errorOf(() => validateConfig(config, 'test'));
    expect(error.problems.map((p) => p.path)).toEqual(
      expect.arrayContaining(['issuers[0].email', 'certificates[0].keyAlgorithm', 'certificates[1].dnsNames[2]', 'pipeline.maxConcurrency']),
    );
    expect(error.message).toMatch(/^test: 4 problems in the certpipe config:\n {2}/);
  });

  it('never echoes an inline HMAC key', () => {
    const config = base();
    config.issuers[0].eab = { keyId: 'kid-1', hmacKeySecret: HMAC_KEY };
    expect(errorOf(() => validateConfig(config)).message).not.toContain(HMAC_KEY);
  });

  it('is an InvalidInput named ConfigError', () => {
    const error = errorOf(() => validateConfig({}));
    expect(error).toBeInstanceOf(InvalidInput);
    expect(error.name).toBe('ConfigError');
  });
});

describe('valid configs', () => {
  it('accepts EAB from a secret name or ARN, and resolves presets', () => {
    const config = base();
    config.issuers.push({
      name: 'zerossl',
      directoryUrl: 'https://acme.zerossl.com/v2/DV90',
      eab: { keyId: 'kid-1', hmacKeySecret: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:certpipe/eab/zerossl-AbCdEf' },
    });
    config.issuers.push({ name: 'le', preset: 'letsencrypt', eab: { keyId: 'k', hmacKeySecret: 'certpipe/eab/le' } });
    config.certificates.forEach((c: Record<string, unknown>) => (c.issuer = 'pebble'));
    const inventory = toInventory(validateConfig(config), PIPELINE);
    expect(inventory.issuers[1]!.eab).toEqual({
      keyId: 'kid-1',
      hmacKeySecretId: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:certpipe/eab/zerossl-AbCdEf',
    });
    expect(inventory.issuers[2]).toMatchObject({ directoryUrl: ISSUER_PRESETS.letsencrypt, accountSecretName: 'certpipe/acme-account/le' });
  });

  it("budgets Let's Encrypt with its documented limits, a field of its own over them, and a custom CA only with its own", () => {
    const config = base();
    config.issuers.push({ name: 'le', preset: 'letsencrypt', limits: { newOrdersPer3Hours: 100 } });
    config.issuers.push({ name: 'custom', directoryUrl: 'https://acme.example.net/directory', limits: { duplicateCertificatesPer7Days: 3 } });
    config.certificates.forEach((c: Record<string, unknown>) => (c.issuer = 'pebble'));
    const inventory = toInventory(validateConfig(config), PIPELINE);
    expect(inventory.issuers[0]!.limits).toBeUndefined();
    expect(inventory.issuers[1]!.limits).toEqual({
      newOrdersPer3Hours: 100,
      certificatesPerRegisteredDomainPer7Days: 50,
      duplicateCertificatesPer7Days: 5,
      failedAuthorizationsPerIdentifierPerHour: 5,
    });
    expect(inventory.issuers[2]!.limits).toEqual({ duplicateCertificatesPer7Days: 3 });
    expect(() => validateConfig({ ...config, issuers: [{ name: 'x', preset: 'letsencrypt', limits: { newOrdersPer3Hours: 0 } }] })).toThrow(/newOrdersPer3Hours/);
  });

  it('applies every default', () => {
    const config = validateConfig({
      issuers: [{ name: 'le', preset: 'letsencrypt-staging' }],
      hostedZones: [{ name: 'example.com' }],
      certificates: [{ name: 'www', dnsNames: ['www.example.com'] }],
    });
    expect(config.pipeline).toEqual({
      maxConcurrency: 5,
      propagation: { waitSeconds: 10, maxAttempts: 30 },
      schedule: 'rate(12 hours)',
      resolvers: [],
      eventBusName: 'default',
    });
    expect(config.alarms).toEqual({ email: [], https: [], daysToExpiry: 14 });
    const inventory = toInventory(config, { region: 'eu-west-1' });
    expect(inventory).toEqual({
      version: 1,
      issuers: [
        {
          name: 'le',
          directoryUrl: 'https://acme-staging-v02.api.letsencrypt.org/directory',
          // The preset's staging roots: issued chains must lead to one of them.
          trustedRoots: [...LETSENCRYPT_STAGING_ROOTS],
          accountSecretName: 'certpipe/acme-account/le',
          // The staging environment's documented rate limits.
          limits: {
            newOrdersPer3Hours: 1500,
            certificatesPerRegisteredDomainPer7Days: 30000,
            duplicateCertificatesPer7Days: 30000,
            failedAuthorizationsPerIdentifierPerHour: 60,
          },
        },
      ],
      certificates: [
        {
          name: 'www',
          dnsNames: ['www.example.com'],
          issuer: 'le',
          keyAlgorithm: 'ecdsa-p256',
          privateKeyRotation: 'always',
          renewal: { renewAtFractionLeft: 1 / 3 },
          secretName: 'certpipe/www',
          hostedZoneIds: {},
          targets: [],
        },
      ],
      hostedZones: [{ name: 'example.com' }],
      resolvers: [],
      eventBusName: 'default',
      propagationMaxAttempts: 30,
    });
  });

  it.each([
    ['30d', { renewBeforeSeconds: 30 * 86400 }],
    ['720h', { renewBeforeSeconds: 720 * 3600 }],
    ['1d12h', { renewBeforeSeconds: 36 * 3600 }],
    ['33%', { renewAtFractionLeft: 0.33 }],
    ['12.5%', { renewAtFractionLeft: 0.125 }],
  ])('renewBefore %s → %o', (renewBefore, renewal) => {
    const config = base();
    config.certificates[0].renewBefore = renewBefore;
    expect(toInventory(validateConfig(config), PIPELINE).certificates[0]!.renewal).toEqual(renewal);
  });

  it('normalises names and zone ids, and keeps explicit zones', () => {
    const config = base();
    config.hostedZones = [{ name: 'Example.Test.', id: '/hostedzone/Z0TEST' }, { name: 'example.org.test', id: 'Z0ORG' }];
    config.certificates[1].dnsNames = ['Shop.Example.Test.', 'www.example.org.test'];
    config.certificates[1].hostedZoneIds = { 'www.example.org.test': '/hostedzone/Z0ORG' };
    const inventory = toInventory(validateConfig(config), PIPELINE);
    expect(inventory.hostedZones).toEqual([{ name: 'example.test', id: 'Z0TEST' }, { name: 'example.org.test', id: 'Z0ORG' }]);
    expect(inventory.certificates[1]).toMatchObject({
      dnsNames: ['shop.example.test', 'www.example.org.test'],
      hostedZoneIds: { 'www.example.org.test': 'Z0ORG' },
    });
  });

  it('keys challengeDelegations by the delegated name (a wildcard shares its apex) and normalises the target', () => {
    const config = base();
    config.certificates[0].challengeDelegations = { '*.Example.Test': 'Web.Acme.Example.Org.Test.' };
    expect(toInventory(validateConfig(config), PIPELINE).certificates[0]!.challengeDelegations).toEqual({
      'example.test': 'web.acme.example.org.test',
    });
  });

  it('matches a name to the longest zone, and asks for hostedZoneIds when two zones share a name', () => {
    const config = base();
    config.hostedZones.push({ name: 'internal.example.test' });
    config.certificates[1].dnsNames = ['a.internal.example.test'];
    expect(() => validateConfig(config)).not.toThrow();
    config.hostedZones.push({ name: 'internal.example.test', id: 'Z0PRIVATE' });
    expect(errorOf(() => validateConfig(config)).message).toContain(
      'certificates[1].dnsNames[0]: "a.internal.example.test" matches two hosted zones with the same name — pick one in hostedZoneIds',
    );
    config.certificates[1].hostedZoneIds = { 'a.internal.example.test': 'Z0PRIVATE' };
    expect(() => validateConfig(config)).not.toThrow();
  });

  it('resolves secret targets: a cross-account copy defaults to the same name', () => {
    const config = base();
    config.certificates[0].secretName = 'tls/web';
    config.certificates[0].targets = [
      { type: 'secretsmanager', roleArn: 'arn:aws:iam::111111111111:role/certpipe-target', externalId: 'ext-1' },
      { type: 'secretsmanager', region: 'eu-west-1' },
      { type: 'secretsmanager', name: 'app/web-tls' },
    ];
    expect(toInventory(validateConfig(config), PIPELINE).certificates[0]!.targets).toEqual([
      {
        type: 'secretsmanager',
        name: 'tls/web',
        region: 'us-east-1',
        roleArn: 'arn:aws:iam::111111111111:role/certpipe-target',
        externalId: 'ext-1',
        kmsKeyId: 'alias/certpipe', // the target stack's key, in its region
      },
      { type: 'secretsmanager', name: 'tls/web', region: 'eu-west-1' },
      { type: 'secretsmanager', name: 'app/web-tls', region: 'us-east-1' },
    ]);
  });

  it("rejects at toInventory a secret target that turns out to be the certificate's own secret", () => {
    const config = base();
    config.certificates[0].targets = [
      { type: 'secretsmanager', region: 'us-east-1' },
      { type: 'secretsmanager', roleArn: 'arn:aws:iam::000000000000:role/self', externalId: 'ext-1', region: 'us-east-1' },
    ];
    const error = errorOf(() => toInventory(validateConfig(config), PIPELINE));
    expect(error.message).toContain(`certificates[0].targets[0]: is the certificate's own secret "certpipe/web" in us-east-1 — give it another region`);
    expect(error.message).toContain('certificates[0].targets[1]: ');
    expect(() => toInventory(validateConfig(config), { region: 'eu-west-1' })).not.toThrow();
  });

  it('rejects at toInventory a copy that lands on another secret once the pipeline region is known', () => {
    const config = base();
    config.certificates[1].targets = [{ type: 'secretsmanager', name: 'certpipe/web', region: 'us-east-1' }];
    const error = errorOf(() => toInventory(validateConfig(config), PIPELINE));
    expect(error.problems).toEqual([
      {
        path: 'certificates[1].targets[0]',
        message: 'secret "certpipe/web" (account 000000000000, us-east-1) is also the secret of certificates[0] "web" — it would overwrite it; give this target another name, region or account',
      },
    ]);
    expect(() => toInventory(validateConfig(config), { ...PIPELINE, region: 'eu-west-1' })).not.toThrow();
    // A copy in another account with the same name is another secret.
    config.certificates[1].targets = [{ type: 'secretsmanager', name: 'certpipe/web', roleArn: 'arn:aws:iam::111111111111:role/t', externalId: 'ext-1' }];
    expect(() => toInventory(validateConfig(config), PIPELINE)).not.toThrow();
  });

  it('accepts resolvers with and without ports, and schedules of each form', () => {
    const config = base();
    config.pipeline = { resolvers: ['10.0.0.2', '10.0.0.2:5353', '::1', '[fd00::2]:53'], schedule: 'cron(0 6 ? * MON-FRI *)' };
    expect(validateConfig(config).pipeline.resolvers).toHaveLength(4);
    for (const schedule of ['rate(1 day)', 'rate(30 minutes)', 'cron(15 */6 * * ? *)']) {
      config.pipeline = { schedule };
      expect(validateConfig(config).pipeline.schedule).toBe(schedule);
    }
  });
});

describe('the example config (certpipe.config.yaml)', () => {
  const config = loadConfig(DEFAULT_CONFIG_PATH);
  const inventory = toInventory(config, PIPELINE);
  const cert = (name: string) => inventory.certificates.find((c) => c.name === name)!;

  it('uses the local Pebble issuer, with the second Pebble as its staging twin', () => {
    expect(inventory.issuers).toEqual([
      expect.objectContaining({ name: 'pebble', directoryUrl: 'https://127.0.0.1:14000/dir' }),
      expect.objectContaining({ name: 'pebble-staging', directoryUrl: 'https://127.0.0.1:14001/dir' }),
    ]);
    expect(inventory.certificates.filter((c) => !c.canary).every((c) => c.issuer === 'pebble' && c.stagingGate?.issuer === 'pebble-staging')).toBe(true);
  });
  it('has the canary on the staging Pebble', () => {
    expect(inventory.certificates.find((c) => c.canary)).toMatchObject({ issuer: 'pebble-staging', dnsNames: ['canary.example.test'] });
  });
  it('has an apex + wildcard certificate (two TXT values on one name)', () => {
    expect(inventory.certificates.some((c) => c.dnsNames.some((n) => n.startsWith('*.') && c.dnsNames.includes(n.slice(2))))).toBe(true);
  });
  it('has a certificate spanning two hosted zones', () => {
    const zoneNames = inventory.hostedZones.map((z) => z.name);
    const zoneOf = (n: string) =>
      zoneNames.filter((z) => n.replace(/^\*\./, '') === z || n.endsWith(`.${z}`)).sort((a, b) => b.length - a.length)[0];
    expect(inventory.certificates.some((c) => new Set(c.dnsNames.map(zoneOf)).size >= 2)).toBe(true);
  });
  it('imports one certificate into ACM in us-east-1 and eu-west-1', () => {
    expect(
      inventory.certificates.some((c) => {
        const regions = c.targets.filter((t) => t.type === 'acm' && !t.roleArn).map((t) => t.region);
        return regions.includes('us-east-1') && regions.includes('eu-west-1');
      }),
    ).toBe(true);
  });
  it('distributes one certificate to a second account through a role with an ExternalId', () => {
    const partner = cert('partner');
    const roleArn = 'arn:aws:iam::111111111111:role/certpipe-target';
    expect(partner.targets).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'secretsmanager', roleArn, externalId: expect.any(String) }),
        expect.objectContaining({ type: 'acm', roleArn, externalId: expect.any(String) }),
      ]),
    );
  });
});

describe('size limits (worst case, fullchain stored)', () => {
  const names = (count: number, length: number) =>
    Array.from({ length: count }, (_, i) => {
      // Valid DNS names of exactly `length` characters: labels of at most 63 under example.org.test.
      const suffix = '.example.org.test';
      let body = `n${String(i).padStart(3, '0')}`;
      while (body.length < length - suffix.length) body += body.length % 62 === 61 ? '.' : 'a';
      return (body.replace(/\.$/, 'b') + suffix).slice(0, length);
    });

  it.each([
    { name: 'one short name, ECDSA P-256', dnsNames: ['example.test'], key: 'ecdsa-p256', secret: [20_000, 28_000], leaf: [2_800, 3_200] },
    { name: 'one short name, RSA-4096', dnsNames: ['example.test'], key: 'rsa-4096', secret: [24_000, 32_000], leaf: [3_400, 3_800] },
    { name: '100 names of 60 characters', dnsNames: names(100, 60), key: 'ecdsa-p256', secret: [44_000, 52_000], leaf: [11_000, 12_500] },
    { name: '100 names of 253 characters', dnsNames: names(100, 253), key: 'rsa-4096', secret: [110_000, 140_000], leaf: [37_000, 40_000] },
  ] as const)('$name', ({ dnsNames, key, secret, leaf }) => {
    const estimate = estimateSizes(dnsNames, key);
    expect(estimate.secretJson).toBeGreaterThanOrEqual(secret[0]);
    expect(estimate.secretJson).toBeLessThanOrEqual(secret[1]);
    expect(estimate.leafPem).toBeGreaterThanOrEqual(leaf[0]);
    expect(estimate.leafPem).toBeLessThanOrEqual(leaf[1]);
  });

  it('grows with each name and with the key size', () => {
    expect(estimateSizes(['a.example.test', 'b.example.test'], 'ecdsa-p256').secretJson).toBeGreaterThan(estimateSizes(['a.example.test'], 'ecdsa-p256').secretJson);
    expect(estimateSizes(['a.example.test'], 'rsa-4096').secretJson).toBeGreaterThan(estimateSizes(['a.example.test'], 'rsa-2048').secretJson);
  });

  it('validate and synth reject a certificate that cannot fit in its secret or in ACM, naming the limit and the fix', () => {
    const config = base();
    config.certificates[1].dnsNames = names(100, 253);
    config.certificates[1].keyAlgorithm = 'rsa-4096';
    config.certificates[1].targets = [{ type: 'acm', region: 'us-east-1' }];
    const error = errorOf(() => toInventory(validateConfig(config), PIPELINE));
    expect(error.problems.map((p) => p.path)).toEqual(['certificates[1].dnsNames', 'certificates[1].dnsNames']);
    expect(error.message).toContain(`over Secrets Manager's ${SECRET_STRING_LIMIT}-byte SecretString limit — split the names over two certificates`);
    expect(error.message).toContain(`over ACM's ${ACM_CERTIFICATE_LIMIT}-byte import limit`);
    // Without an ACM target only the secret limit applies.
    config.certificates[1].targets = [];
    expect(errorOf(() => toInventory(validateConfig(config), PIPELINE)).problems).toHaveLength(1);
  });
});

describe('warnings', () => {
  const withZones = (zones: Array<{ name: string; id?: string }>) => {
    const config = base();
    config.hostedZones = zones;
    return toInventory(validateConfig(config), PIPELINE);
  };

  it.each([
    { name: 'every zone has an id', zones: [{ name: 'example.test', id: 'Z0TEST' }, { name: 'example.org.test', id: 'Z0ORG' }], warnings: 0 },
    { name: 'one zone without an id', zones: [{ name: 'example.test' }, { name: 'example.org.test', id: 'Z0ORG' }], warnings: 1 },
    { name: 'two zones without ids (still one warning)', zones: [{ name: 'example.test' }, { name: 'example.org.test' }], warnings: 1 },
  ])('$name: $warnings warning(s)', ({ zones, warnings }) => {
    expect(configWarnings(withZones(zones))).toHaveLength(warnings);
  });

  it('names the broader grant, the zones and the fix', () => {
    const [warning] = configWarnings(withZones([{ name: 'example.test' }, { name: 'example.org.test' }]));
    expect(warning).toEqual({
      path: 'hostedZones',
      message:
        'zones "example.test", "example.org.test" have no id, so PlaceChallenges and CleanupChallenges may change _acme-challenge TXT records in every hosted zone of the account (route53:ChangeResourceRecordSets on hostedzone/*) — add each zone\'s id (aws route53 list-hosted-zones-by-name --dns-name <zone>) to limit the grant to those zones',
    });
  });

  it('certpipe validate prints the warning once and still exits 0; --json lists it', async () => {
    const config = base();
    const file = join(dir, 'warn.yaml');
    writeFileSync(file, stringify(config));
    let stdout = '';
    let stderr = '';
    const io = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, isTTY: false, env: {} };
    expect(await validateCommand({ config: file } as never, io)).toBe(0);
    expect(stdout).toContain('is valid');
    expect(stderr.match(/hostedzone\/\*/g)).toHaveLength(1);
    expect(stderr).toContain('warning: hostedZones: zone "example.test" has no id');
    stdout = '';
    expect(await validateCommand({ config: file, json: true } as never, io)).toBe(0);
    expect(JSON.parse(stdout).warnings).toEqual([expect.objectContaining({ path: 'hostedZones', message: expect.stringContaining('hostedzone/*') })]);
  });
});

describe('loadConfig', () => {
  const saved = process.env.CERTPIPE_CONFIG;
  afterEach(() => {
    if (saved === undefined) delete process.env.CERTPIPE_CONFIG;
    else process.env.CERTPIPE_CONFIG = saved;
  });

  it('reads CERTPIPE_CONFIG when no path is given, and a path over it', () => {
    const fromEnv = join(dir, 'env.yaml');
    const config = base();
    config.pipeline = { maxConcurrency: 7 };
    writeFileSync(fromEnv, stringify(config));
    process.env.CERTPIPE_CONFIG = fromEnv;
    expect(loadConfig().pipeline.maxConcurrency).toBe(7);
    const explicit = join(dir, 'explicit.yaml');
    writeFileSync(explicit, stringify(base()));
    expect(loadConfig(explicit).pipeline.maxConcurrency).toBe(5);
  });

  it('names the file it could not read', () => {
    const missing = join(dir, 'missing.yaml');
    const error = errorOf(() => loadConfig(missing));
    expect(error.message).toContain(`${missing}: 1 problem in the certpipe config:`);
    expect(error.message).toContain('cannot read the file (ENOENT) — create it, or point --config / CERTPIPE_CONFIG at your config');
  });
});

describe('JSON Schema', () => {
  it('the committed infra/config.schema.json is up to date (regenerate with writeJsonSchema())', () => {
    expect(readFileSync(JSON_SCHEMA_PATH, 'utf8')).toBe(jsonSchemaText());
  });

  it('writeJsonSchema writes the schema of what users type', () => {
    const path = join(dir, 'schema.json');
    writeJsonSchema(path);
    const schema = JSON.parse(readFileSync(path, 'utf8'));
    expect(schema.required).toEqual(['issuers']);
    expect(schema.additionalProperties).toBe(false);
    const certificate = schema.properties.certificates.items;
    expect(certificate.required).toEqual(['name', 'dnsNames']);
    expect(certificate.properties.keyAlgorithm).toMatchObject({ default: 'ecdsa-p256' });
  });
});

describe('issuer trust anchors', () => {
  const base = (issuer: Record<string, unknown>) => ({
    issuers: [{ name: 'ca', ...issuer }],
    hostedZones: [{ name: 'example.com' }],
    certificates: [{ name: 'www', dnsNames: ['www.example.com'] }],
  });

  it.each([
    ['letsencrypt', LETSENCRYPT_ROOTS, /CN=ISRG Root X1/],
    ['letsencrypt-staging', LETSENCRYPT_STAGING_ROOTS, /Pretend Pear X1/],
  ] as const)('the %s preset carries its published roots', (preset, roots, subject) => {
    const inventory = toInventory(validateConfig(base({ preset })), { region: 'eu-west-1' });
    expect(inventory.issuers[0]!.trustedRoots).toEqual([...roots]);
    expect(roots.map((pem) => new X509Certificate(pem).subject).join(' ')).toMatch(subject);
  });

  it('a custom issuer without trustedRoots falls back to the public roots (none in the inventory)', () => {
    const inventory = toInventory(validateConfig(base({ directoryUrl: 'https://acme.example.net/dir' })), { region: 'eu-west-1' });
    expect(inventory.issuers[0]!.trustedRoots).toBeUndefined();
  });

  it('keeps the trustedRoots an issuer names', () => {
    const [root] = LETSENCRYPT_STAGING_ROOTS;
    const inventory = toInventory(validateConfig(base({ directoryUrl: 'https://acme.example.net/dir', trustedRoots: [root] })), {
      region: 'eu-west-1',
    });
    expect(inventory.issuers[0]!.trustedRoots).toEqual([root]);
  });

  it.each([
    ['text that is no PEM', 'not a certificate', /issuers\[0\]\.trustedRoots\[0\]: is not a PEM certificate — paste the CA's root/],
    ['two certificates in one entry', LETSENCRYPT_ROOTS.join(''), /holds 2 certificates, not one/],
  ])('rejects %s, naming the field and the fix', (_case, pem, message) => {
    expect(() => validateConfig(base({ directoryUrl: 'https://acme.example.net/dir', trustedRoots: [pem] }))).toThrow(message);
  });
});

describe('secret copies in a target account use that account\'s certpipe key', () => {
  it('names alias/certpipe for a cross-account copy in the target stack\'s region, and no key elsewhere', () => {
    const config = validateConfig({
      issuers: [{ name: 'le', preset: 'letsencrypt-staging' }],
      hostedZones: [{ name: 'example.com' }],
      certificates: [
        {
          name: 'www',
          dnsNames: ['www.example.com'],
          targets: [
            { type: 'secretsmanager', name: 'shared/www', roleArn: 'arn:aws:iam::111111111111:role/certpipe-target', externalId: 'ext-1' },
            { type: 'secretsmanager', name: 'shared/www', region: 'us-west-2', roleArn: 'arn:aws:iam::111111111111:role/certpipe-target', externalId: 'ext-1' },
            { type: 'secretsmanager', name: 'copy/www', region: 'us-west-2' },
          ],
        },
      ],
    });
    const targets = toInventory(config, { accountId: '123456789012', region: 'eu-west-1' }).certificates[0]!.targets;
    expect(targets.map((t) => (t.type === 'secretsmanager' ? t.kmsKeyId : 'acm'))).toEqual(['alias/certpipe', undefined, undefined]);
  });
});
