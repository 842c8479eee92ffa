// A target account's stack: the role the pipeline's publisher assumes there. The
// config's cross-account targets say which roles exist, which ExternalIds they
// require and what each may write; one stack per role.
import { Aws, CfnOutput, CfnParameter, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { Inventory } from '../functions/lib/inventory.js';
import { DEFAULT_PUBLISHER_ROLE_NAME } from './constructs/certificate-renewal-pipeline.js';
import { CertpipeTargetAccess, type TargetSecret } from './constructs/certpipe-target-access.js';

/** What the config asks of one target role. */
export interface TargetRoleSpec {
  readonly roleArn: string;
  readonly accountId: string;
  /** `path/name` of the role, as in its ARN. */
  readonly roleName: string;
  readonly externalIds: readonly string[];
  readonly secrets: readonly TargetSecret[];
  readonly acmRegions: readonly string[];
  /** Where the stack (and the key of the secrets) lives: the region of the first secret, else of the first ACM import. */
  readonly homeRegion: string;
}

/** The target roles the inventory's cross-account targets name, in config order. */
export function targetRolesOf(inventory: Inventory): TargetRoleSpec[] {
  const byRole = new Map<string, { externalIds: Set<string>; secrets: Map<string, TargetSecret>; acmRegions: Set<string>; regions: string[] }>();
  for (const cert of inventory.certificates) {
    for (const target of cert.targets) {
      if (!target.roleArn) continue;
      let entry = byRole.get(target.roleArn);
      if (!entry) {
        entry = { externalIds: new Set(), secrets: new Map(), acmRegions: new Set(), regions: [] };
        byRole.set(target.roleArn, entry);
      }
      if (target.externalId) entry.externalIds.add(target.externalId);
      if (target.type === 'secretsmanager') {
        entry.secrets.set(`${target.region}\n${target.name}`, { name: target.name, region: target.region });
        entry.regions.unshift(target.region);
      } else {
        entry.acmRegions.add(target.region);
        entry.regions.push(target.region);
      }
    }
  }
  return [...byRole].map(([roleArn, e]) => {
    const [, accountId = '', resource = ''] = /^arn:[^:]+:iam::(\d{12}):role\/(.+)$/.exec(roleArn) ?? [];
    const firstSecret = [...e.secrets.values()][0];
    return {
      roleArn,
      accountId,
      roleName: resource,
      externalIds: [...e.externalIds].sort(),
      secrets: [...e.secrets.values()],
      acmRegions: [...e.acmRegions].sort(),
      homeRegion: firstSecret?.region ?? e.regions[0]!,
    };
  });
}

export interface CertpipeTargetStackProps extends StackProps {
  readonly target: TargetRoleSpec;
  /**
   * The account that runs the pipeline. When absent, the stack takes it as the
   * CloudFormation parameter `PipelineAccountId` at deploy time.
   */
  readonly pipelineAccountId?: string;
  /** @default 'certpipe-publisher' (CertificateRenewalPipeline's default) */
  readonly publisherRoleName?: string;
  /** @default 'alias/certpipe' */
  readonly keyAlias?: string;
}

export class CertpipeTargetStack extends Stack {
  readonly access: CertpipeTargetAccess;

  constructor(scope: Construct, id: string, props: CertpipeTargetStackProps) {
    const { target } = props;
    super(scope, id, {
      description: `certpipe target account: the role the certpipe publisher assumes (${target.roleArn})`,
      ...props,
      env: { account: target.accountId, region: target.homeRegion, ...props.env },
    });
    const pipelineAccountId =
      props.pipelineAccountId ??
      new CfnParameter(this, 'PipelineAccountId', {
        type: 'String',
        allowedPattern: '^\\d{12}$',
        constraintDescription: 'the 12-digit id of the account that runs the certpipe pipeline',
        description: 'Account that runs the certpipe pipeline (its publisher role assumes the role this stack creates)',
      }).valueAsString;
    const publisherRoleName = props.publisherRoleName ?? DEFAULT_PUBLISHER_ROLE_NAME;

    this.access = new CertpipeTargetAccess(this, 'Access', {
      pipelineAccountId,
      publisherRoleArns: [`arn:${Aws.PARTITION}:iam::${pipelineAccountId}:role/${publisherRoleName}`],
      externalIds: target.externalIds,
      roleName: target.roleName,
      secrets: target.secrets,
      acmRegions: target.acmRegions,
      ...(props.keyAlias ? { keyAlias: props.keyAlias } : {}),
    });
    new CfnOutput(this, 'RoleArn', { value: this.access.role.roleArn, description: "The config's targets[].roleArn for this account" });
    if (this.access.key) new CfnOutput(this, 'KeyArn', { value: this.access.key.keyArn, description: 'KMS key for the secret copies in this region' });
  }
}
