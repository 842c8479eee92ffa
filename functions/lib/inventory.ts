// The inventory: the resolved, normalised form of the user's config that the
// functions read at run time (bundled beside each function on AWS, a file in the
// local data directory locally). infra/config.ts turns the YAML config into this;
// every default is already applied here, so the functions never re-derive one.
import { readFileSync } from 'node:fs';
// zod/mini: the same schemas at a fraction of the bundle size (every function carries this file).
import * as z from 'zod/mini';
import { issuerLimitsSchema } from './budget/limits.js';
import { rehearsedName, stagingRehearsal } from './gate/rehearsal.js';

export const KEY_ALGORITHMS = ['ecdsa-p256', 'ecdsa-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096'] as const;
export const keyAlgorithmSchema = z.enum(KEY_ALGORITHMS);
export type KeyAlgorithm = z.infer<typeof keyAlgorithmSchema>;

/** Where a copy goes in another account (or this one when roleArn is absent). */
const crossAccount = {
  /** Role the publisher assumes in the target account; absent = the pipeline's own account. */
  roleArn: z.optional(z.string()),
  externalId: z.optional(z.string()),
};

export const secretTargetSchema = z.object({
  type: z.literal('secretsmanager'),
  /** Secret name in the target account/region. */
  name: z.string(),
  region: z.string(),
  /** KMS key the copy is created with in the target account (its certpipe key); absent = the region's default key. */
  kmsKeyId: z.optional(z.string()),
  ...crossAccount,
});
export type SecretTarget = z.infer<typeof secretTargetSchema>;

export const acmTargetSchema = z.object({
  type: z.literal('acm'),
  region: z.string(),
  ...crossAccount,
});
export type AcmTarget = z.infer<typeof acmTargetSchema>;

export const targetSchema = z.discriminatedUnion('type', [secretTargetSchema, acmTargetSchema]);
export type Target = z.infer<typeof targetSchema>;

/** When to renew: a fixed duration before expiry, or when this fraction of the lifetime is left. */
export const renewalPolicySchema = z.union([
  z.object({ renewBeforeSeconds: z.int().check(z.positive()) }),
  z.object({ renewAtFractionLeft: z.number().check(z.gt(0), z.lt(1)) }),
]);
export type RenewalPolicy = z.infer<typeof renewalPolicySchema>;

export const issuerSchema = z.object({
  name: z.string(),
  directoryUrl: z.url(),
  email: z.optional(z.string()),
  /** External account binding: key id and the ARN/name of the secret holding the base64url HMAC key. */
  eab: z.optional(z.object({ keyId: z.string(), hmacKeySecretId: z.string() })),
  profile: z.optional(z.string()),
  /** Trust anchors (PEM) the issued chains must lead to; absent = the public roots Node.js ships. */
  trustedRoots: z.optional(z.array(z.string())),
  /** Secret holding this issuer's ACME account key and URL (created on first use). */
  accountSecretName: z.string(),
  /** The CA's rate limits CheckExpiry budgets (budget/); absent = not budgeted. */
  limits: z.optional(issuerLimitsSchema),
});
export type Issuer = z.infer<typeof issuerSchema>;

export const certificateSpecSchema = z.object({
  name: z.string(),
  dnsNames: z.array(z.string()).check(z.minLength(1)),
  issuer: z.string(),
  keyAlgorithm: keyAlgorithmSchema,
  privateKeyRotation: z.enum(['always', 'never']),
  renewal: renewalPolicySchema,
  /** The primary secret in the pipeline account: the source of truth for what is issued. */
  secretName: z.string(),
  /** Hosted zone per DNS name when the config fixes it; otherwise found by the longest matching zone. */
  hostedZoneIds: z.record(z.string(), z.string()),
  targets: z.array(targetSchema),
  /** CNAME-delegated challenges: the name whose `_acme-challenge` is delegated (no `*.`) → the target written (config `challengeDelegations`). */
  challengeDelegations: z.optional(z.record(z.string(), z.string())),
  /** ACME profile to order with (config: the certificate's, else its issuer's); checked against the directory's meta.profiles. */
  profile: z.optional(z.string()),
  /** A self-service certificate: the request secret it was adopted from (selfService/). */
  request: z.optional(z.object({ arn: z.string() })),
  /** Also store `fullchain` (leaf + chain) in the secret, for consumers that read one PEM bundle. */
  storeFullchain: z.optional(z.boolean()),
  /** The staging twin a new or changed certificate is first proven on (absent = no gate). See gate/. */
  stagingGate: z.optional(z.object({ issuer: z.string(), secretName: z.string() })),
  /** Set on the staging rehearsal of a certificate (gate/rehearsal.ts): the certificate it proves. Never published. */
  rehearsalOf: z.optional(z.string()),
  /** The canary: issued every `everySeconds` on a staging issuer, whether due or not (gate/canary.ts). */
  canary: z.optional(z.object({ everySeconds: z.int().check(z.positive()) })),
});
export type CertificateSpec = z.infer<typeof certificateSpecSchema>;

export const inventorySchema = z.object({
  version: z.literal(1),
  issuers: z.array(issuerSchema),
  certificates: z.array(certificateSpecSchema),
  /** Zones the pipeline may write, by name (lower-case, no trailing dot) → id when known. */
  hostedZones: z.array(z.object({ name: z.string(), id: z.optional(z.string()) })),
  /** Resolvers for the propagation check; empty = ask the zone's authoritative nameservers. */
  resolvers: z.array(z.string()),
  eventBusName: z.string(),
  /** Self-service requests (selfService/): what a request secret under `prefix` may ask for. */
  selfService: z.optional(
    z.object({
      prefix: z.string(),
      zones: z.array(z.string()),
      issuers: z.array(z.string()),
      maxNamesPerCertificate: z.number(),
      maxCertificates: z.number(),
      /** ACM regions a request may name (certpipe:acm-regions); the functions may import there. */
      acmRegions: z._default(z.array(z.string()), []),
      renewal: renewalPolicySchema,
    }),
  ),
  /** CheckPropagation gives up (DnsPropagationTimeout) after this many looks. */
  propagationMaxAttempts: z._default(z.int().check(z.positive()), 30),
});
export type Inventory = z.infer<typeof inventorySchema>;

/** Parse an inventory document; the message names the field on failure. */
export function parseInventory(json: unknown): Inventory {
  const result = inventorySchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new Error(`Invalid inventory at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return result.data;
}

/** Read the inventory from the file named by CERTPIPE_INVENTORY (once per process). */
let cached: { path: string; inventory: Inventory } | undefined;
export function loadInventory(path = process.env.CERTPIPE_INVENTORY): Inventory {
  if (!path) throw new Error('CERTPIPE_INVENTORY is not set: it names the inventory JSON file');
  if (cached?.path !== path) cached = { path, inventory: parseInventory(JSON.parse(readFileSync(path, 'utf8'))) };
  return cached.inventory;
}

export function findCertificate(inventory: Inventory, name: string): CertificateSpec {
  const rehearsed = rehearsedName(name);
  const spec = inventory.certificates.find((c) => c.name === (rehearsed ?? name));
  if (!spec) throw new Error(`Certificate "${name}" is not in the inventory`);
  return rehearsed ? stagingRehearsal(spec) : spec;
}

export function findIssuer(inventory: Inventory, name: string): Issuer {
  const issuer = inventory.issuers.find((i) => i.name === name);
  if (!issuer) throw new Error(`Issuer "${name}" is not in the inventory`);
  return issuer;
}
