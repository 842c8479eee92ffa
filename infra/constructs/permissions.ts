// Least-privilege IAM for each function, derived from the inventory: the zones,
// secrets, ACM regions, target roles and event bus the pipeline is configured to
// touch, and nothing else. One statement builder per kind of access; `NEEDS`
// below says which function gets which, so a reviewer reads one table.
import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Inventory } from '../../functions/lib/inventory.js';
import type { TaskFunction } from '../../statemachines/definition.js';
import { justifyWildcard } from './nag.js';
import { normaliseDnsName } from '../../functions/lib/dnsName.js';
import { TAG } from '../../functions/lib/tagNames.js';

/** Tag every certpipe-managed secret and ACM certificate carries. */
export const MANAGED_TAG_KEY = TAG.managed;
export const MANAGED_TAG_VALUE = 'true';
/** Tags certpipe writes (not-after, serial, lock, …) all live under this prefix. */
export const TAG_KEY_PATTERN = 'certpipe:*';

const SECRET_READ = ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'];
const SECRET_WRITE = ['secretsmanager:CreateSecret', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'];

export { normaliseDnsName };
const zoneIdOf = (id: string) => id.replace(/^\/?hostedzone\//, '');

/**
 * The record names the pipeline may write, as StringLike patterns: the
 * `_acme-challenge` names, and the exact CNAME delegation targets the config
 * names (config validation puts each in a configured zone). A delegation
 * target is a plain name in the Route 53 condition form; it never holds `*` or `?`.
 */
export function challengeRecordPatterns(inventory: Inventory): string[] {
  const patterns = new Set<string>();
  if (inventory.hostedZones.length > 0) {
    for (const zone of inventory.hostedZones) {
      const name = normaliseDnsName(zone.name);
      // The apex challenge, and those of every name below the apex.
      patterns.add(`_acme-challenge.${name}`);
      patterns.add(`_acme-challenge.*.${name}`);
    }
  } else {
    // No zones configured: the exact challenge names of the configured certificates.
    for (const cert of inventory.certificates) {
      for (const dnsName of cert.dnsNames) patterns.add(`_acme-challenge.${normaliseDnsName(dnsName).replace(/^\*\./, '')}`);
    }
  }
  for (const cert of inventory.certificates) {
    for (const target of Object.values(cert.challengeDelegations ?? {})) patterns.add(normaliseDnsName(target));
  }
  return [...patterns].sort();
}

/**
 * Hosted zone ids when every zone's id is known; `undefined` means the zones are
 * found by name at run time, so ChangeResourceRecordSets is granted on
 * `hostedzone/*` (the record-name, type and action conditions still apply).
 */
export function knownHostedZoneIds(inventory: Inventory): string[] | undefined {
  const ids = new Set<string>();
  for (const cert of inventory.certificates) for (const id of Object.values(cert.hostedZoneIds)) ids.add(zoneIdOf(id));
  if (inventory.hostedZones.length > 0) {
    if (!inventory.hostedZones.every((z) => z.id)) return undefined;
    for (const zone of inventory.hostedZones) ids.add(zoneIdOf(zone.id!));
  } else if (!inventory.certificates.every((c) => c.dnsNames.every((n) => c.hostedZoneIds[n]))) {
    return undefined;
  }
  return ids.size > 0 ? [...ids].sort() : undefined;
}

/** Target role ARNs the publisher may assume. */
export function targetRoleArns(inventory: Inventory): string[] {
  const arns = new Set<string>();
  for (const cert of inventory.certificates) for (const t of cert.targets) if (t.roleArn) arns.add(t.roleArn);
  return [...arns].sort();
}

/** Regions where the pipeline account itself imports into ACM: targets without a role, and those self-service requests may name. */
export function sameAccountAcmRegions(inventory: Inventory): string[] {
  const regions = new Set<string>(inventory.selfService?.acmRegions ?? []);
  for (const cert of inventory.certificates) for (const t of cert.targets) if (t.type === 'acm' && !t.roleArn) regions.add(t.region);
  return [...regions].sort();
}

/** Secret copies the pipeline account writes itself (targets without a role): name → regions. */
export function sameAccountSecretCopies(inventory: Inventory): Array<{ name: string; region: string }> {
  const seen = new Map<string, { name: string; region: string }>();
  for (const cert of inventory.certificates) {
    for (const t of cert.targets) {
      if (t.type === 'secretsmanager' && !t.roleArn) seen.set(`${t.region}\n${t.name}`, { name: t.name, region: t.region });
    }
  }
  return [...seen.values()].sort((a, b) => `${a.region}${a.name}`.localeCompare(`${b.region}${b.name}`));
}

/** `name-??????`: Secrets Manager appends a hyphen and six random characters to every secret ARN. */
export function secretArn(stack: Stack, name: string, region?: string): string {
  return stack.formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: `${name}-??????`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    ...(region ? { region } : {}),
  });
}

/** Actions that read and write a secret's versions (never delete it). */
export const SECRET_READ_WRITE = [...SECRET_READ, ...SECRET_WRITE];
/** Writing copies: the writer never needs to read a private key back. */
export const SECRET_WRITE_ONLY = ['secretsmanager:DescribeSecret', ...SECRET_WRITE];

/** Tagging only with certpipe's own tag keys. */
export function secretTagging(sid: string, resources: string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    actions: ['secretsmanager:TagResource', 'secretsmanager:UntagResource'],
    resources,
    conditions: { 'ForAllValues:StringLike': { 'aws:TagKeys': [TAG_KEY_PATTERN] } },
  });
}

/** The self-service prefix is a wildcard by design: teams name their request secrets under it. */
const requestWildcard = (statement: iam.PolicyStatement) =>
  justifyWildcard(statement, 'Self-service requests: teams create their certificate secrets under the configured prefix (selfService.prefix), and the pipeline writes nowhere else beyond the secrets its config names.');

/** A KMS key used only through Secrets Manager in `region`. */
export function keyViaSecretsManager(sid: string, keyArn: string, region: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
    resources: [keyArn],
    conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${region}.amazonaws.com` } },
  });
}

/**
 * ACM import in the stack's account. Tagging is what a takeover needs (tag a
 * foreign certificate certpipe:managed=true, then re-import over it), so:
 * - a new import must carry certpipe:managed=true and only certpipe tag keys
 *   (ACM refuses tags on a re-import, so a tagged request is always a new certificate);
 * - tagging, re-import and the reads are allowed only on certificates that
 *   already carry certpipe:managed=true; acm:AddTagsToCertificate has no
 *   statement without that aws:ResourceTag condition.
 */
export function acmImportStatements(stack: Stack, regions: readonly string[]): iam.PolicyStatement[] {
  if (regions.length === 0) return [];
  const resources = regions.map((region) => stack.formatArn({ service: 'acm', region, resource: 'certificate', resourceName: '*' }));
  const why =
    'ACM assigns certificate ARNs a random id at import, so certificate/* in the configured regions only. A new import must carry certpipe:managed=true (aws:RequestTag); ' +
    'tagging, re-import and reads need a certificate already tagged certpipe:managed=true (aws:ResourceTag); only certpipe:* tag keys. No statement can tag or import over another team\'s certificate.';
  const certpipeKeysOnly = { 'ForAllValues:StringLike': { 'aws:TagKeys': [TAG_KEY_PATTERN] } };
  return [
    justifyWildcard(new iam.PolicyStatement({
      sid: 'AcmImportNewTagged',
      actions: ['acm:ImportCertificate'],
      resources,
      conditions: { StringEquals: { [`aws:RequestTag/${MANAGED_TAG_KEY}`]: MANAGED_TAG_VALUE }, ...certpipeKeysOnly },
    }), why),
    justifyWildcard(new iam.PolicyStatement({
      sid: 'AcmManagedOnly',
      actions: ['acm:ImportCertificate', 'acm:AddTagsToCertificate', 'acm:DescribeCertificate', 'acm:ListTagsForCertificate'],
      resources,
      conditions: { StringEquals: { [`aws:ResourceTag/${MANAGED_TAG_KEY}`]: MANAGED_TAG_VALUE }, ...certpipeKeysOnly },
    }), why),
  ];
}

/** Builds the statements; ARNs use the stack's partition, account and (default) region. */
export class PipelinePermissions {
  constructor(
    private readonly stack: Stack,
    private readonly inventory: Inventory,
    private readonly secretsKeyArn: string,
  ) {}

  secretArn(name: string, region?: string): string {
    return secretArn(this.stack, name, region);
  }

  private certificateSecretArns(): string[] {
    // A gated certificate's staging rehearsal lives in a secret of its own (functions/lib/gate/rehearsal.ts).
    const names = this.inventory.certificates.flatMap((c) => [c.secretName, ...(c.stagingGate ? [c.stagingGate.secretName] : [])]);
    return [...[...new Set(names)].sort().map((n) => this.secretArn(n)), ...this.requestSecretArns()];
  }

  /** Self-service request secrets: everything under the prefix, and nothing else the config does not name. */
  private requestSecretArns(): string[] {
    const prefix = this.inventory.selfService?.prefix;
    return prefix ? [this.stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `${prefix}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME })] : [];
  }

  /** CheckExpiry answers each request in its status tag (certpipe:* keys only); the other steps read a request's tags. */
  selfServiceRequestsAnswer(): iam.PolicyStatement[] {
    const resources = this.requestSecretArns();
    return resources.length ? [requestWildcard(secretTagging('SelfServiceRequestsAnswer', resources))] : [];
  }

  selfServiceRequestsRead(): iam.PolicyStatement[] {
    const resources = this.requestSecretArns();
    return resources.length ? [requestWildcard(new iam.PolicyStatement({ sid: 'SelfServiceRequestsRead', actions: ['secretsmanager:DescribeSecret'], resources }))] : [];
  }

  private accountSecretArns(): string[] {
    return [...new Set(this.inventory.issuers.map((i) => i.accountSecretName))].sort().map((n) => this.secretArn(n));
  }

  private hostedZoneArns(): string[] {
    const ids = knownHostedZoneIds(this.inventory) ?? ['*'];
    return ids.map((id) => this.stack.formatArn({ service: 'route53', region: '', account: '', resource: 'hostedzone', resourceName: id }));
  }

  /** ChangeResourceRecordSets: TXT only, `_acme-challenge` names in the configured zones only, CREATE/DELETE only (the provider's compare-and-set: DELETE the exact set it read + CREATE the merged set, in one atomic batch). */
  challengeRecordsWrite(): iam.PolicyStatement {
    return this.zoneWildcard(new iam.PolicyStatement({
      sid: 'ChallengeRecordsWrite',
      actions: ['route53:ChangeResourceRecordSets'],
      resources: this.hostedZoneArns(),
      conditions: {
        'ForAllValues:StringLike': { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': challengeRecordPatterns(this.inventory) },
        'ForAllValues:StringEquals': {
          'route53:ChangeResourceRecordSetsRecordTypes': ['TXT'],
          'route53:ChangeResourceRecordSetsActions': ['CREATE', 'DELETE'],
        },
      },
    }));
  }

  /** Reading the zones' records (to merge TXT values) and nameservers. */
  zoneRead(): iam.PolicyStatement {
    return this.zoneWildcard(new iam.PolicyStatement({
      sid: 'HostedZoneRead',
      actions: ['route53:ListResourceRecordSets', 'route53:GetHostedZone'],
      resources: this.hostedZoneArns(),
    }));
  }

  /** hostedzone/* only when some zone id is not configured (the zone is then found by name at run time). */
  private zoneWildcard(statement: iam.PolicyStatement): iam.PolicyStatement {
    return justifyWildcard(
      statement,
      'The config names the hosted zones without ids (found by name at run time); record writes are still limited to TXT _acme-challenge names of the configured zones, CREATE/DELETE only. Give hostedZones[].id to scope this to the zones.',
    );
  }

  /** GetChange (INSYNC polling) and zone lookup by name, which Route 53 cannot scope to a resource. */
  route53Lookups(): iam.PolicyStatement {
    return justifyWildcard(
      new iam.PolicyStatement({
        sid: 'Route53ChangeStatusAndZoneLookup',
        actions: ['route53:GetChange', 'route53:ListHostedZonesByName', 'route53:ListHostedZones'],
        resources: ['*'],
      }),
      'Read-only: GetChange ids are only known at run time and ListHostedZones(ByName) has no resource-level permissions.',
    );
  }

  /** ListSecrets has no resource-level permissions; it returns metadata only. */
  listSecrets(): iam.PolicyStatement {
    return justifyWildcard(
      new iam.PolicyStatement({ sid: 'ListSecretsMetadata', actions: ['secretsmanager:ListSecrets'], resources: ['*'] }),
      'secretsmanager:ListSecrets has no resource-level permissions and returns metadata only, never secret values.',
    );
  }

  /** The certificate secrets' tags only (the challenge values and their holders): never a secret value. */
  /** Tag writes only (CheckExpiry keeps the CA's ARI window there; it reads tags through ListSecrets). */
  certificateSecretsTagWrite(): iam.PolicyStatement {
    return secretTagging('CertificateSecretsTag', this.certificateSecretArns());
  }

  certificateSecretsTags(): iam.PolicyStatement[] {
    const resources = this.certificateSecretArns();
    return [
      new iam.PolicyStatement({ sid: 'CertificateSecretsDescribe', actions: ['secretsmanager:DescribeSecret'], resources }),
      secretTagging('CertificateSecretsTag', resources),
    ].map(requestWildcard);
  }

  certificateSecretsReadWrite(): iam.PolicyStatement[] {
    const resources = this.certificateSecretArns();
    return [
      new iam.PolicyStatement({ sid: 'CertificateSecretsReadWrite', actions: SECRET_READ_WRITE, resources }),
      secretTagging('CertificateSecretsTag', resources),
    ].map(requestWildcard);
  }

  accountSecretsReadWrite(): iam.PolicyStatement[] {
    const resources = this.accountSecretArns();
    return [
      new iam.PolicyStatement({ sid: 'AcmeAccountSecretsReadWrite', actions: SECRET_READ_WRITE, resources }),
      secretTagging('AcmeAccountSecretsTag', resources),
    ];
  }

  /** What opening an ACME session touches: the account secret (maybe created) and the EAB key. */
  acmeSession(): iam.PolicyStatement[] {
    return [...this.accountSecretsReadWrite(), ...this.eabSecretsRead()];
  }

  /** The EAB HMAC keys the user stored themselves (an ARN or a name in this account and region). */
  eabSecretsRead(): iam.PolicyStatement[] {
    const ids = [...new Set(this.inventory.issuers.flatMap((i) => (i.eab ? [i.eab.hmacKeySecretId] : [])))].sort();
    if (ids.length === 0) return [];
    const resources = ids.map((id) => (id.startsWith('arn:') ? (/-[A-Za-z0-9]{6}$/.test(id) ? id : `${id}-??????`) : this.secretArn(id)));
    return [new iam.PolicyStatement({ sid: 'EabHmacSecretsRead', actions: ['secretsmanager:GetSecretValue'], resources })];
  }

  /** Copies this account writes in other secret names or regions. */
  secretCopiesWrite(): iam.PolicyStatement[] {
    const copies = sameAccountSecretCopies(this.inventory);
    if (copies.length === 0) return [];
    const resources = copies.map((c) => this.secretArn(c.name, c.region));
    return [
      new iam.PolicyStatement({ sid: 'SecretCopiesWrite', actions: SECRET_WRITE_ONLY, resources }),
      secretTagging('SecretCopiesTag', resources),
    ];
  }

  /** The secrets' customer-managed key, only through Secrets Manager in this region. */
  secretsKeyUse(): iam.PolicyStatement {
    return keyViaSecretsManager('SecretsKeyViaSecretsManager', this.secretsKeyArn, this.stack.region);
  }

  /** ACM in this account, in the regions of the targets that name no role. */
  acmImport(): iam.PolicyStatement[] {
    return acmImportStatements(this.stack, sameAccountAcmRegions(this.inventory));
  }

  assumeTargetRoles(): iam.PolicyStatement[] {
    const roles = targetRoleArns(this.inventory);
    if (roles.length === 0) return [];
    return [new iam.PolicyStatement({ sid: 'AssumeTargetRoles', actions: ['sts:AssumeRole'], resources: roles })];
  }

  putRenewedEvents(): iam.PolicyStatement {
    const name = this.inventory.eventBusName;
    const resource = name.startsWith('arn:')
      ? name
      : this.stack.formatArn({ service: 'events', resource: 'event-bus', resourceName: name });
    return new iam.PolicyStatement({ sid: 'PutRenewedEvents', actions: ['events:PutEvents'], resources: [resource] });
  }

}

/**
 * What each function may do. Functions that never touch a resource get no
 * statement for it: Summarize only writes logs (metrics are EMF log lines).
 */
export const NEEDS: Record<TaskFunction, (p: PipelinePermissions) => iam.PolicyStatement[]> = {
  // One paginated ListSecrets over the managed secrets' tags: no secret value is read. Tags (certpipe:* keys
  // only) keep the CA's ARI window and record a rate-limit budget deferral (budget/deferByBudget.ts); it
  // answers self-service requests on their own secrets.
  CheckExpiry: (p) => [p.listSecrets(), p.certificateSecretsTagWrite(), ...p.selfServiceRequestsAnswer()],
  // Opening an ACME session may create the account secret or record the account URL, and reads the EAB key.
  PlaceChallenges: (p) => [
    p.challengeRecordsWrite(),
    p.zoneRead(),
    p.route53Lookups(),
    ...p.acmeSession(),
    ...p.certificateSecretsReadWrite(),
    p.secretsKeyUse(),
  ],
  CheckPropagation: (p) => [p.zoneRead(), p.route53Lookups(), ...p.selfServiceRequestsRead()],
  FinalizeOrder: (p) => [...p.acmeSession(), ...p.certificateSecretsReadWrite(), p.secretsKeyUse()],
  PublishCertificate: (p) => [
    ...p.certificateSecretsReadWrite(),
    ...p.secretCopiesWrite(),
    p.secretsKeyUse(),
    ...p.acmImport(),
    ...p.assumeTargetRoles(),
    p.putRenewedEvents(),
  ],
  // After a failure the values are found in the tags PlaceChallenges wrote: no ACME account, no secret value, no KMS.
  CleanupChallenges: (p) => [
    p.challengeRecordsWrite(),
    p.zoneRead(),
    p.route53Lookups(),
    ...p.certificateSecretsTags(),
  ],
  Summarize: () => [],
};
