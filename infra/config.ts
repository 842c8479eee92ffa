// The user's config (certpipe.config.yaml): its schema, loading with errors that
// name the field and the fix, the JSON Schema editors use, and toInventory(),
// which resolves every default into the inventory the functions read.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { InvalidInput } from '../functions/lib/workflow/errors.js';
import type { IssuerLimits } from '../functions/lib/budget/limits.js';
import { LETSENCRYPT_ROOTS, LETSENCRYPT_STAGING_ROOTS } from '../functions/lib/trust.js';
import { rootCertificateProblem } from '../functions/lib/x509.js';
import {
  KEY_ALGORITHMS,
  inventorySchema,
  type CertificateSpec,
  type Inventory,
  type Issuer,
  type RenewalPolicy,
  type Target,
} from '../functions/lib/inventory.js';
import { crossCheck, defaultSecretName, secretUses } from './config/checks.js';
import { PIPELINE_ACCOUNT, secretCollisions } from './config/secrets.js';
import { sizeProblems } from './config/sizes.js';
import { scheduleLifetimeCheck } from './config/lifetimes.js';
import { canarySpec, defaultIssuer, everySeconds, scheduleIntervalSeconds, stagingSecretName, stagingTwinOf } from './config/gate.js';
import {
  EXTERNAL_ID_PATTERN,
  NAME_FIX,
  NAME_PATTERN,
  REGION_FIX,
  REGION_PATTERN,
  RENEW_BEFORE_FIX,
  RESOLVER_FIX,
  ROLE_ARN_FIX,
  ROLE_ARN_PATTERN,
  SECRET_NAME_FIX,
  SECRET_NAME_PATTERN,
  ZONE_ID_FIX,
  ZONE_ID_PATTERN,
  dnsNameProblem,
  isSecretId,
  looksLikeInlineKey,
  normaliseDnsName,
  normaliseZoneId,
  parseRenewBefore,
  parseResolver,
  roleAccount,
  scheduleProblem,
} from './config/formats.js';
import { describeIssue, formatPath, type ConfigProblem } from './config/problems.js';

export type { ConfigProblem } from './config/problems.js';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DEFAULT_CONFIG_PATH = resolve(REPO_ROOT, 'certpipe.config.yaml');
export const JSON_SCHEMA_PATH = resolve(REPO_ROOT, 'infra/config.schema.json');

export const ISSUER_PRESETS = {
  letsencrypt: 'https://acme-v02.api.letsencrypt.org/directory',
  'letsencrypt-staging': 'https://acme-staging-v02.api.letsencrypt.org/directory',
  zerossl: 'https://acme.zerossl.com/v2/DV90',
  google: 'https://dv.acme-v02.api.pki.goog/directory',
  'google-staging': 'https://dv.acme-v02.test-api.pki.goog/directory',
} as const;
type IssuerPreset = keyof typeof ISSUER_PRESETS;
const PRESET_NAMES = Object.keys(ISSUER_PRESETS) as [IssuerPreset, ...IssuerPreset[]];

/** Presets whose CA registers no account without external account binding, and where the user gets the EAB key. */
const EAB_REQUIRED: Partial<Record<IssuerPreset, string>> = {
  zerossl: 'ZeroSSL dashboard → Developer → EAB Credentials',
  google: 'gcloud publicca external-account-keys create',
  'google-staging': 'gcloud publicca external-account-keys create (with the staging endpoint: gcloud config set api_endpoint_overrides/publicca https://preprod-publicca.googleapis.com/)',
};

/**
 * Let's Encrypt's documented rate limits (letsencrypt.org/docs/rate-limits; staging:
 * letsencrypt.org/docs/staging-environment, which keeps the same limits with larger values).
 * ZeroSSL and Google Trust Services publish no per-account numbers of this shape: their presets
 * carry none, and an issuer sets its own `limits` if its contract names them.
 */
export const ISSUER_PRESET_LIMITS: Partial<Record<keyof typeof ISSUER_PRESETS, IssuerLimits>> = {
  letsencrypt: {
    newOrdersPer3Hours: 300,
    certificatesPerRegisteredDomainPer7Days: 50,
    duplicateCertificatesPer7Days: 5,
    failedAuthorizationsPerIdentifierPerHour: 5,
  },
  'letsencrypt-staging': {
    newOrdersPer3Hours: 1500,
    certificatesPerRegisteredDomainPer7Days: 30000,
    duplicateCertificatesPer7Days: 30000,
    failedAuthorizationsPerIdentifierPerHour: 60,
  },
};

/** The limits an issuer is budgeted with: its preset's, with its own values over them. */
export function limitsOf(issuer: CertpipeConfig['issuers'][number]): IssuerLimits | undefined {
  const preset = issuer.preset ? ISSUER_PRESET_LIMITS[issuer.preset] : undefined;
  if (!preset && !issuer.limits) return undefined;
  return { ...preset, ...Object.fromEntries(Object.entries(issuer.limits ?? {}).filter(([, v]) => v !== undefined)) };
}

/** The default renewal window: renew when a third of the lifetime is left. */
export const DEFAULT_RENEWAL: RenewalPolicy = { renewAtFractionLeft: 1 / 3 };

// ---------------------------------------------------------------------------
// Schema

const show = (input: unknown) => JSON.stringify(input);
const isObject = (payload: { value: unknown }) => typeof payload.value === 'object' && payload.value !== null;

const resourceName = (what: string) =>
  z.string().regex(NAME_PATTERN, { error: (iss) => `${show(iss.input)} is not a valid ${what} name — ${NAME_FIX}` });

const dnsName = z
  .string()
  .refine((n) => !dnsNameProblem(n), { error: (iss) => dnsNameProblem(String(iss.input)) })
  .describe('A host name ("www.example.com") or a wildcard ("*.example.com"). Quote wildcards in YAML.');

const zoneName = z
  .string()
  .refine((n) => !dnsNameProblem(n, { wildcard: false }), {
    error: (iss) => dnsNameProblem(String(iss.input), { wildcard: false }),
  })
  .describe('Route 53 hosted zone name, e.g. "example.com".');

const zoneId = z
  .string()
  .regex(ZONE_ID_PATTERN, { error: (iss) => `${show(iss.input)} is not a hosted zone id — ${ZONE_ID_FIX}` });

const region = z
  .string()
  .regex(REGION_PATTERN, { error: (iss) => `${show(iss.input)} is not an AWS region — ${REGION_FIX}` });

const secretName = z
  .string()
  .regex(SECRET_NAME_PATTERN, { error: (iss) => `${show(iss.input)} is not a valid secret name — ${SECRET_NAME_FIX}` });

const httpsUrl = (example: string) =>
  z.url({ protocol: /^https$/, error: (iss) => `${show(iss.input)} is not an https URL — use a URL like "${example}"` });

const email = z.email({ error: (iss) => `${show(iss.input)} is not an email address — use one like "ops@example.com"` });

const crossAccount = {
  roleArn: z
    .string()
    .regex(ROLE_ARN_PATTERN, { error: (iss) => `${show(iss.input)} is not an IAM role ARN — ${ROLE_ARN_FIX}` })
    .optional()
    .describe('Role the publisher assumes in the target account (deploy the target stack there). Requires externalId.'),
  externalId: z
    .string()
    .regex(EXTERNAL_ID_PATTERN, {
      error: () => 'is not a valid ExternalId — use 2–1224 letters, digits and +=,.@:/-_ (the same value as in the target stack)',
    })
    .optional()
    .describe('ExternalId the target role requires.'),
};

const acmTarget = z
  .strictObject({
    type: z.literal('acm'),
    region: region.describe('Region to import the certificate into (re-imports keep the same ARN).'),
    ...crossAccount,
  })
  .describe('Import into AWS Certificate Manager.');

const secretTarget = z
  .strictObject({
    type: z.literal('secretsmanager'),
    name: secretName.optional().describe("Secret name; default: the certificate's secretName."),
    region: region.optional().describe("Region; default: the pipeline's region."),
    ...crossAccount,
  })
  .describe('A copy in Secrets Manager (another region and/or account).');

const target = z.discriminatedUnion('type', [acmTarget, secretTarget]).superRefine(
  (t, ctx) => {
    if (t.roleArn !== undefined && t.externalId === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['externalId'],
        message: 'is required with a roleArn — add the ExternalId the target role trusts (it guards against the confused deputy)',
      });
    }
    if (t.externalId !== undefined && t.roleArn === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['roleArn'],
        message: 'is missing: an externalId is only used to assume a role — add the roleArn or remove the externalId',
      });
    }
  },
  { when: isObject },
);

/** A PEM root certificate, checked at validate time so a typo fails synth, not the first renewal. */
const trustedRootPem = z.string().superRefine((pem, ctx) => {
  const problem = rootCertificateProblem(pem);
  if (problem) ctx.addIssue({ code: 'custom', message: `${problem} — paste the CA's root certificate as a PEM block (-----BEGIN CERTIFICATE----- …)` });
});

const limitCount = (what: string) => z.number().int().min(1).optional().describe(what);
const issuerLimits = z.strictObject({
  newOrdersPer3Hours: limitCount('New orders per ACME account in any 3 hours.'),
  certificatesPerRegisteredDomainPer7Days: limitCount('Certificates per registered domain (Public Suffix List) in any 7 days.'),
  duplicateCertificatesPer7Days: limitCount('Certificates for the exact same set of names in any 7 days.'),
  failedAuthorizationsPerIdentifierPerHour: limitCount('Failed authorizations per identifier per account in any hour.'),
});
// YAML 1.2 reads `off` as a string; a boolean false says the same.
const gateSwitch = z
  .union([z.enum(['on', 'off']), z.boolean().transform((b) => (b ? 'on' : 'off'))])
  .optional();

const issuer = z
  .strictObject({
    name: resourceName('issuer').describe('Name certificates refer to.'),
    preset: z
      .enum(PRESET_NAMES)
      .optional()
      .describe("A known CA: Let's Encrypt (letsencrypt, letsencrypt-staging), ZeroSSL (zerossl) or Google Trust Services (google, google-staging); the last three need eab."),
    directoryUrl: httpsUrl('https://acme.example.com/directory').optional().describe('ACME directory URL (instead of a preset).'),
    email: email.optional().describe('Contact address the CA writes to about the account.'),
    eab: z
      .strictObject({
        keyId: z.string().min(1).describe('EAB key id from the CA.'),
        hmacKeySecret: z
          .string()
          .min(1)
          // Never echo the value: it may be the key itself.
          .refine((v) => !looksLikeInlineKey(v), {
            error: () =>
              'looks like the HMAC key itself — store the key in Secrets Manager (aws secretsmanager create-secret --name certpipe/eab/<issuer> --secret-string <key>) and put the secret name or ARN here',
          })
          .refine(isSecretId, { error: () => `is not a secret name or ARN — ${SECRET_NAME_FIX}` })
          .describe('Name or ARN of the Secrets Manager secret holding the base64url HMAC key (never the key itself).'),
      })
      .optional()
      .describe('External account binding, for CAs that require it.'),
    profile: z
      .string()
      .min(1)
      .optional()
      .describe("ACME profile to order with (the CA's directory lists them in meta.profiles; Let's Encrypt: classic, tlsserver, shortlived). A certificate's own profile wins."),
    lifetime: z
      .string()
      .refine((v) => { const d = parseRenewBefore(v); return d !== undefined && 'seconds' in d; }, {
        error: (iss) => `${show(iss.input)} is not a duration — use one like "90d", "45d" or "160h"`,
      })
      .optional()
      .describe('Expected lifetime of the certificates when their profile is not one certpipe knows (classic 90d, tlsserver 45d, shortlived 160h); sizes the schedule check. Default: 90d.'),
    trustedRoots: z
      .array(trustedRootPem)
      .min(1)
      .optional()
      .describe(
        "Root certificates (PEM) the issued chains must lead to. Default: the Let's Encrypt roots for a preset, otherwise the public roots Node.js ships.",
      ),
    accountSecretName: secretName.optional().describe('Secret for the ACME account key; default certpipe/acme-account/<name>.'),
    limits: issuerLimits
      .optional()
      .describe("The CA's rate limits the pipeline budgets before ordering. Default: the documented limits for a preset (each field may be overridden), none for a custom CA."),
    staging: z
      .string()
      .optional()
      .describe(
        "Name of this issuer's staging twin (another issuer): a certificate new to this issuer, or whose names, key algorithm or profile changed, is issued there first. The letsencrypt preset pairs with a letsencrypt-staging issuer of the config by itself.",
      ),
    gate: gateSwitch.describe('"off": certificates of this issuer skip the staging gate.'),
  })
  .superRefine(
    (i, ctx) => {
      if (i.preset === undefined && i.directoryUrl === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [],
          message: 'has neither preset nor directoryUrl — add "preset: letsencrypt-staging" (or letsencrypt), or "directoryUrl: https://…"',
        });
      }
      if (i.preset !== undefined && i.directoryUrl !== undefined) {
        ctx.addIssue({ code: 'custom', path: [], message: 'has both preset and directoryUrl — keep one of them' });
      }
      const eabFrom = i.preset !== undefined ? EAB_REQUIRED[i.preset] : undefined;
      if (eabFrom !== undefined && i.eab === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['eab'],
          message: `is required: the "${i.preset}" CA requires external account binding — get a key id and HMAC key (${eabFrom}), store the HMAC key in Secrets Manager and add "eab: { keyId: …, hmacKeySecret: certpipe/eab/${i.name} }"`,
        });
      }
    },
    { when: isObject },
  );

const certificate = z
  .strictObject({
    name: resourceName('certificate').describe('Unique name; also names the secret (certpipe/<name>).'),
    dnsNames: z
      .array(dnsName)
      .min(1)
      .max(100)
      .superRefine((names, ctx) => {
        const seen = new Map<string, number>();
        names.forEach((n, i) => {
          const key = normaliseDnsName(n);
          const first = seen.get(key);
          if (first === undefined) seen.set(key, i);
          else ctx.addIssue({ code: 'custom', path: [i], message: `"${n}" repeats dnsNames[${first}] — list each name once` });
        });
      })
      .describe('Names on the certificate (1–100).'),
    issuer: z.string().optional().describe('Issuer name; default: the only issuer (staging twins aside).'),
    hostedZoneIds: z
      .record(z.string(), zoneId)
      .optional()
      .describe('Hosted zone id per DNS name, when the longest matching zone is not the right one.'),
    challengeDelegations: z
      .record(z.string(), zoneName)
      .optional()
      .describe(
        'CNAME-delegated challenges: DNS name → the name its _acme-challenge CNAME points to (in a hosted zone of hostedZones). ' +
          'The TXT record is written there, and the pipeline may write no other delegation target.',
      ),
    profile: z.string().min(1).optional().describe("ACME profile for this certificate; default: its issuer's profile."),
    keyAlgorithm: z.enum(KEY_ALGORITHMS).default('ecdsa-p256'),
    storeFullchain: z
      .boolean()
      .default(false)
      .describe('Also store `fullchain` (leaf + chain, one PEM) in the secret, for consumers that need one bundle; it doubles the leaf in the secret.'),
    privateKeyRotation: z
      .enum(['always', 'never'])
      .default('always')
      .describe('"always": a new key at each renewal; "never": keep the key.'),
    renewBefore: z
      .string()
      .refine((v) => parseRenewBefore(v) !== undefined, {
        error: (iss) => `${show(iss.input)} is not a duration or percentage — ${RENEW_BEFORE_FIX}`,
      })
      .optional()
      .describe('Renew this long before expiry ("30d", "720h") or when this share of the lifetime is left ("33%"). Default: 33.3%.'),
    secretName: secretName.optional().describe('Primary secret; default certpipe/<name>.'),
    targets: z.array(target).default([]).describe('Where copies go (ACM, Secrets Manager, other accounts).'),
    gate: gateSwitch.describe('"off": skip the staging gate for this certificate.'),
  })
  .describe('A certificate to issue and keep renewed.');

const canary = z
  .strictObject({
    dnsName: dnsName.describe('The name on the canary certificate (in one of hostedZones).'),
    issuer: z.string().describe('A staging issuer (never production quota).'),
    every: z
      .string()
      .refine((v) => everySeconds(v) !== undefined, { error: (iss) => `${show(iss.input)} is not a duration — use "12h", "1d" or "30m"` })
      .optional()
      .describe('Issue the canary at most this often ("12h"); default: on every scheduled run.'),
  })
  .describe('A certificate issued on a staging issuer on every run and published to certpipe/canary: proves the whole pipeline continuously. Off when absent.');

const pipeline = z
  .strictObject({
    maxConcurrency: z.number().int().min(1).max(40).default(5).describe('Certificates renewed in parallel.'),
    propagation: z
      .strictObject({
        waitSeconds: z.number().int().min(1).max(300).default(10).describe('Wait between DNS propagation checks.'),
        maxAttempts: z.number().int().min(1).max(1000).default(30).describe('Checks before giving up.'),
      })
      .prefault({}),
    schedule: z
      .string()
      .refine((v) => !scheduleProblem(v), { error: (iss) => scheduleProblem(String(iss.input)) })
      .default('rate(12 hours)')
      .describe('EventBridge Scheduler expression for the renewal run.'),
    resolvers: z
      .array(
        z.string().refine((v) => parseResolver(v) !== undefined, {
          error: (iss) => `${show(iss.input)} is not a resolver address — ${RESOLVER_FIX}`,
        }),
      )
      .default([])
      .describe("Resolvers for the propagation check; default: the zone's authoritative nameservers."),
    eventBusName: z
      .string()
      .regex(/^[\w.\-/:]{1,1600}$/, {
        error: (iss) => `${show(iss.input)} is not an event bus name — use "default", a bus name or its ARN`,
      })
      .default('default')
      .describe('EventBridge bus for "Certificate Renewed" events.'),
  })
  .prefault({});

const alarms = z
  .strictObject({
    email: z.array(email).default([]).describe('Addresses the paging topic emails.'),
    https: z.array(httpsUrl('https://hooks.example.com/certpipe')).default([]).describe('HTTPS endpoints the paging topic calls.'),
    daysToExpiry: z
      .number()
      .int()
      .min(1)
      .max(365)
      .default(14)
      .describe('Alarm when a certificate has fewer days left and under a sixth of its lifetime (so a healthy 6-day certificate does not page).'),
  })
  .prefault({});

const selfService = z
  .strictObject({
    prefix: z
      .string()
      .regex(/^[\w/+=.@-]{1,256}\/$/, { error: (iss) => `${show(iss.input)} is not a secret-name prefix — use letters, digits and /_+=.@- ending in "/", like "certpipe/teams/"` })
      .default('certpipe/teams/')
      .describe('Secrets under this name prefix may request certificates; the pipeline may write only there (and its own secrets).'),
    zones: z.array(zoneName).min(1).describe('Every requested name must lie in one of these zones (each also in hostedZones).'),
    issuers: z.array(z.string()).min(1).describe('Issuers a request may name in certpipe:issuer; the first is the default.'),
    maxNamesPerCertificate: z.number().int().min(1).max(100).default(10).describe('DNS names one request may ask for.'),
    maxCertificates: z.number().int().min(1).max(10000).default(100).describe('Requests adopted in all; the rest are refused.'),
    acmRegions: z
      .array(region)
      .default([])
      .describe('ACM regions a request may list in certpipe:acm-regions; the pipeline imports there in its own account. Empty: requests get their secret only.'),
  })
  .optional()
  .describe('Self-service requests: a team creates a secret under `prefix` tagged certpipe:dns-names=<names>, and the pipeline issues into it.');

export const configSchema = z
  .strictObject({
    issuers: z.array(issuer).min(1).describe('ACME CAs certificates are ordered from.'),
    hostedZones: z
      .array(
        z.strictObject({
          name: zoneName,
          id: zoneId.optional().describe('Hosted zone id; found by name when absent.'),
        }),
      )
      .default([])
      .describe('Route 53 zones the pipeline may write _acme-challenge records to.'),
    certificates: z.array(certificate).default([]),
    pipeline,
    alarms,
    selfService,
    canary: canary.optional(),
  })
  .superRefine(
    (doc, ctx) => {
      for (const p of [...crossCheck(doc), ...scheduleLifetimeCheck(doc)]) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
    },
    { when: isObject },
  )
  .describe('certpipe configuration (certpipe.config.yaml)');

/** The validated config, every schema default applied. */
export type CertpipeConfig = z.output<typeof configSchema>;
/** What a user may write (defaults optional). */
export type CertpipeConfigInput = z.input<typeof configSchema>;

// ---------------------------------------------------------------------------
// Errors and loading

/** An invalid config: the message lists each problem as `<field path>: <what is wrong> — <how to fix>`. */
export class ConfigError extends InvalidInput {
  override readonly name: string = 'ConfigError';
  constructor(
    readonly source: string,
    readonly problems: ConfigProblem[],
  ) {
    const lines = problems.map((p) => `  ${p.path ? `${p.path}: ` : ''}${p.message}`);
    super(`${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'} in the certpipe config:\n${lines.join('\n')}`);
  }
}

/** Validate an already-parsed document (e.g. from TypeScript); throws ConfigError. */
export function validateConfig(doc: unknown, source = 'config'): CertpipeConfig {
  if (doc === null || doc === undefined) {
    throw new ConfigError(source, [
      { path: '', message: 'the config is empty — start from certpipe.config.yaml in the repository' },
    ]);
  }
  const result = configSchema.safeParse(doc, { reportInput: true });
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap((issue) => describeIssue(issue, configSchema, doc));
  throw new ConfigError(source, dedupe(problems));
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Parse YAML text; `source` (usually the file path) prefixes the error message. */
export function parseConfig(text: string, source: string): CertpipeConfig {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => {
        const where = e.linePos?.[0] ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '';
        const what = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
        const fix =
          e.code === 'BAD_ALIAS' || /alias/i.test(what)
            ? 'quote wildcard names: "*.example.com" (a bare * starts a YAML alias)'
            : e.code === 'DUPLICATE_KEY'
              ? 'keep one of the repeated keys'
              : 'fix the YAML syntax (indentation, quotes, colons)';
        return { path: where, message: `${what} — ${fix}` };
      }),
    );
  }
  let value: unknown;
  try {
    value = doc.toJS();
  } catch (error) {
    // An unquoted wildcard (`- *.example.com`) parses as an alias to nothing.
    const line = text.split('\n').findIndex((l) => /(^|[\s:[,-])\*\S/.test(l));
    throw new ConfigError(source, [
      {
        path: line >= 0 ? `line ${line + 1}` : '',
        message: `${(error as Error).message.split('\n')[0]} — quote wildcard names: "*.example.com" (a bare * starts a YAML alias)`,
      },
    ]);
  }
  return validateConfig(value, source);
}

/** Read and validate the config: `path`, else $CERTPIPE_CONFIG, else certpipe.config.yaml at the repo root. */
export function loadConfig(path?: string): CertpipeConfig {
  const file = resolve(path ?? process.env.CERTPIPE_CONFIG ?? DEFAULT_CONFIG_PATH);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(file, [
      { path: '', message: `cannot read the file (${code}) — create it, or point --config / CERTPIPE_CONFIG at your config` },
    ]);
  }
  return parseConfig(text, file);
}

// ---------------------------------------------------------------------------
// JSON Schema

/** The JSON Schema of what users write (defaults optional), as committed in infra/config.schema.json. */
export function jsonSchemaText(): string {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' });
  return `${JSON.stringify({ ...schema, title: 'certpipe config' }, null, 2)}\n`;
}

/** Regenerate the committed JSON Schema (`npx tsx -e "import('./infra/config.ts').then(m => m.writeJsonSchema())"`). */
export function writeJsonSchema(path: string = JSON_SCHEMA_PATH): void {
  writeFileSync(path, jsonSchemaText());
}

// ---------------------------------------------------------------------------
// Inventory

export function directoryUrlOf(issuer: CertpipeConfig['issuers'][number]): string {
  return issuer.directoryUrl ?? ISSUER_PRESETS[issuer.preset!];
}

/**
 * The KMS key alias of the target stack that owns `roleArn` (CertpipeTargetStack):
 * `alias/certpipe`, or one per role when an account has several target roles.
 */
export function targetKeyAlias(roleArn: string, rolesInAccount: number): string {
  const roleName = roleArn.split('/').pop() ?? '';
  return rolesInAccount > 1 ? `alias/certpipe/${roleName.replace(/[^A-Za-z0-9/_-]/g, '-')}` : 'alias/certpipe';
}

/**
 * Secret copies written through a target role in the target stack's region (the
 * pipeline's region: both stacks come from one app) are encrypted with that stack's
 * key; elsewhere the region's aws/secretsmanager key applies.
 */
function withTargetKeys(certificates: CertificateSpec[], opts: { accountId?: string; region: string }): void {
  const accountOf = (roleArn: string) => roleAccount(roleArn) ?? roleArn;
  const rolesPerAccount = new Map<string, Set<string>>();
  for (const t of certificates.flatMap((c) => c.targets)) {
    if (!t.roleArn) continue;
    const roles = rolesPerAccount.get(accountOf(t.roleArn)) ?? new Set<string>();
    rolesPerAccount.set(accountOf(t.roleArn), roles.add(t.roleArn));
  }
  for (const t of certificates.flatMap((c) => c.targets)) {
    if (t.type !== 'secretsmanager' || !t.roleArn || t.region !== opts.region) continue;
    if (opts.accountId !== undefined && accountOf(t.roleArn) === opts.accountId) continue;
    t.kmsKeyId = targetKeyAlias(t.roleArn, rolesPerAccount.get(accountOf(t.roleArn))?.size ?? 1);
  }
}

/** The issuer's trust anchors: its own, or the ones its preset's CA publishes; undefined = the public roots. */
export function trustedRootsOf(issuer: CertpipeConfig['issuers'][number]): string[] | undefined {
  if (issuer.trustedRoots) return issuer.trustedRoots.map((pem) => pem.trim() + '\n');
  if (issuer.preset === 'letsencrypt') return [...LETSENCRYPT_ROOTS];
  if (issuer.preset === 'letsencrypt-staging') return [...LETSENCRYPT_STAGING_ROOTS];
  return undefined;
}

/** Delegations keyed by the name whose `_acme-challenge` is delegated (a wildcard and its apex share one), normalised. */
export function challengeDelegationsOf(delegations: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(delegations).map(([name, target]) => [normaliseDnsName(name).replace(/^\*\./, ''), normaliseDnsName(target)]),
  );
}

/** The certificate's profile, else its issuer's. */
function profileOf(c: { profile?: string; issuer?: string }, issuers: CertpipeConfig['issuers'], onlyIssuer: string | undefined): string | undefined {
  return c.profile ?? issuers.find((i) => i.name === (c.issuer ?? onlyIssuer))?.profile;
}

export function renewalPolicyOf(renewBefore: string | undefined): RenewalPolicy {
  if (renewBefore === undefined) return DEFAULT_RENEWAL;
  const parsed = parseRenewBefore(renewBefore);
  if (!parsed) throw new Error(`Invalid renewBefore "${renewBefore}" (validate the config first)`);
  return 'seconds' in parsed ? { renewBeforeSeconds: parsed.seconds } : { renewAtFractionLeft: parsed.fraction };
}

/**
 * The inventory the functions read: every default resolved against the
 * pipeline's account and region. Throws ConfigError for what only the
 * deployment reveals (a secret target that is the certificate's own secret).
 */
/** The staging gate of one certificate: its issuer's twin, unless the issuer or the certificate says `gate: off`. */
function stagingGateOf(
  config: CertpipeConfig,
  c: CertpipeConfig['certificates'][number],
  secret: string,
  onlyIssuer: string | undefined,
): Pick<CertificateSpec, 'stagingGate'> {
  const issuer = config.issuers.find((i) => i.name === (c.issuer ?? onlyIssuer));
  const twin = issuer && stagingTwinOf(issuer, config.issuers);
  if (!twin || issuer.gate === 'off' || c.gate === 'off') return {};
  return { stagingGate: { issuer: twin, secretName: stagingSecretName(secret) } };
}

export function toInventory(config: CertpipeConfig, opts: { accountId?: string; region: string }): Inventory {
  const problems: ConfigProblem[] = [];
  const onlyIssuer = defaultIssuer(config.issuers);

  const issuers: Issuer[] = config.issuers.map((i) => ({
    name: i.name,
    directoryUrl: directoryUrlOf(i),
    ...(i.email !== undefined && { email: i.email }),
    ...(i.eab && { eab: { keyId: i.eab.keyId, hmacKeySecretId: i.eab.hmacKeySecret } }),
    ...(i.profile !== undefined && { profile: i.profile }),
    ...(trustedRootsOf(i) && { trustedRoots: trustedRootsOf(i) }),
    accountSecretName: i.accountSecretName ?? `certpipe/acme-account/${i.name}`,
    ...(limitsOf(i) && { limits: limitsOf(i) }),
  }));

  const certificates: CertificateSpec[] = config.certificates.map((c, ci) => {
    const secret = c.secretName ?? defaultSecretName(c.name);
    const targets: Target[] = c.targets.map((t, ti) => {
      const cross = { ...(t.roleArn && { roleArn: t.roleArn }), ...(t.externalId && { externalId: t.externalId }) };
      if (t.type === 'acm') return { type: 'acm', region: t.region, ...cross };
      const resolved = { type: 'secretsmanager' as const, name: t.name ?? secret, region: t.region ?? opts.region, ...cross };
      const sameAccount = !t.roleArn || (opts.accountId !== undefined && roleAccount(t.roleArn) === opts.accountId);
      if (sameAccount && resolved.region === opts.region && resolved.name === secret) {
        problems.push({
          path: formatPath(['certificates', ci, 'targets', ti]),
          message: `is the certificate's own secret "${secret}" in ${opts.region} — give it another region, account or name, or remove it`,
        });
      }
      return resolved;
    });
    for (const message of sizeProblems(c.dnsNames, c.keyAlgorithm, targets.some((t) => t.type === 'acm'))) {
      problems.push({ path: formatPath(['certificates', ci, 'dnsNames']), message });
    }
    return {
      name: c.name,
      dnsNames: c.dnsNames.map(normaliseDnsName),
      issuer: c.issuer ?? onlyIssuer!,
      keyAlgorithm: c.keyAlgorithm,
      privateKeyRotation: c.privateKeyRotation,
      renewal: renewalPolicyOf(c.renewBefore),
      secretName: secret,
      hostedZoneIds: Object.fromEntries(
        Object.entries(c.hostedZoneIds ?? {}).map(([name, id]) => [normaliseDnsName(name), normaliseZoneId(id)]),
      ),
      targets,
      ...(c.challengeDelegations && { challengeDelegations: challengeDelegationsOf(c.challengeDelegations) }),
      ...(profileOf(c, config.issuers, onlyIssuer) !== undefined && { profile: profileOf(c, config.issuers, onlyIssuer) }),
      ...(c.storeFullchain && { storeFullchain: true }),
      ...stagingGateOf(config, c, secret, onlyIssuer),
    };
  });
  if (config.canary) certificates.push(canarySpec(config.canary, scheduleIntervalSeconds(config.pipeline.schedule)));
  const pipeline = { account: opts.accountId ?? PIPELINE_ACCOUNT, region: opts.region };
  // A target that is the certificate's own secret is reported above, in its own words.
  const ownTargets = new Set(problems.map((p) => p.path));
  for (const p of secretCollisions(secretUses(config, pipeline))) {
    if (!ownTargets.has(formatPath(p.path))) problems.push({ path: formatPath(p.path), message: p.message });
  }
  if (problems.length) throw new ConfigError('certpipe config', problems);
  withTargetKeys(certificates, opts);

  return inventorySchema.parse({
    version: 1,
    issuers,
    certificates,
    hostedZones: config.hostedZones.map((z) => ({
      name: normaliseDnsName(z.name),
      ...(z.id !== undefined && { id: normaliseZoneId(z.id) }),
    })),
    resolvers: config.pipeline.resolvers,
    eventBusName: config.pipeline.eventBusName,
    propagationMaxAttempts: config.pipeline.propagation.maxAttempts,
    ...(config.selfService && {
      selfService: {
        prefix: config.selfService.prefix,
        zones: config.selfService.zones.map(normaliseDnsName),
        issuers: config.selfService.issuers,
        maxNamesPerCertificate: config.selfService.maxNamesPerCertificate,
        maxCertificates: config.selfService.maxCertificates,
        acmRegions: [...new Set(config.selfService.acmRegions)].sort(),
        renewal: renewalPolicyOf(undefined),
      },
    }),
  });
}
