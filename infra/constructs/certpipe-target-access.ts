// CertpipeTargetAccess: what a target account gives the pipeline. One role that
// only the pipeline's publisher role may assume, only with the agreed ExternalId,
// and that may only write the configured certpipe secrets (with this account's
// key) and import or re-import certpipe-tagged ACM certificates.
import { RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { InfraPropsError } from './errors.js';
import { acknowledgeStatement } from './nag.js';
import { acmImportStatements, keyViaSecretsManager, SECRET_WRITE_ONLY, secretArn, secretTagging } from './permissions.js';

export interface TargetSecret {
  /** Secret name in this account. */
  readonly name: string;
  /** Region of the secret. */
  readonly region: string;
}

export interface CertpipeTargetAccessProps {
  /** The 12-digit account that runs the pipeline. */
  readonly pipelineAccountId: string;

  /**
   * The publisher roles (PublishCertificate's role) allowed to assume this role,
   * as ARNs in the pipeline account. The trust names the account and checks
   * `aws:PrincipalArn`, so this stack deploys before or after the pipeline.
   */
  readonly publisherRoleArns: readonly string[];

  /** ExternalIds the publisher presents (the config's `targets[].externalId`). At least one. */
  readonly externalIds: readonly string[];

  /**
   * Name (optionally with a path, `path/name`) of the role; the config's
   * `targets[].roleArn` points at it.
   * @default 'certpipe-target'
   */
  readonly roleName?: string;

  /**
   * Secrets the publisher writes here.
   * @default - none: the role cannot touch Secrets Manager
   */
  readonly secrets?: readonly TargetSecret[];

  /**
   * Regions where the publisher imports certificates into ACM.
   * @default - none: the role cannot touch ACM
   */
  readonly acmRegions?: readonly string[];

  /**
   * Alias of the KMS key (in this stack's region) that encrypts the secrets
   * written here. The publisher passes it as KmsKeyId when it creates a secret
   * in this region; secrets in other regions use that region's aws/secretsmanager key.
   * @default 'alias/certpipe'
   */
  readonly keyAlias?: string;
}

const CONSTRUCT = 'CertpipeTargetAccess';
const ACCOUNT = /^\d{12}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/[\w+=,.@/-]+$/;

export class CertpipeTargetAccess extends Construct {
  readonly role: iam.Role;
  /** Present when the publisher writes secrets here. */
  readonly key?: kms.Key;

  constructor(scope: Construct, id: string, props: CertpipeTargetAccessProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const fail = (prop: string, problem: string, fix: string): never => {
      throw new InfraPropsError(CONSTRUCT, prop, problem, fix);
    };
    // Tokens (a CloudFormation parameter) are checked by CloudFormation at deploy time.
    const known = (v: string) => !Token.isUnresolved(v);
    if (known(props.pipelineAccountId) && !ACCOUNT.test(props.pipelineAccountId)) fail('pipelineAccountId', `"${props.pipelineAccountId}" is not a 12-digit account id`, 'use the id of the account that runs the pipeline');
    if (props.publisherRoleArns.length === 0) fail('publisherRoleArns', 'is empty', "pass the pipeline's PublisherRoleArn output");
    for (const arn of props.publisherRoleArns.filter(known)) {
      const account = ROLE_ARN.exec(arn)?.[1];
      if (account !== props.pipelineAccountId) {
        fail('publisherRoleArns', `"${arn}" is not a role in the pipeline account ${props.pipelineAccountId}`, "pass the pipeline's PublisherRoleArn output");
      }
    }
    if (props.externalIds.length === 0 || props.externalIds.some((e) => e.length < 2 || e.length > 1224)) {
      fail('externalIds', 'needs at least one ExternalId of 2 to 1224 characters', 'set targets[].externalId in the config (a random string, not a secret)');
    }
    const secrets = props.secrets ?? [];
    const acmRegions = [...new Set(props.acmRegions ?? [])].sort();
    if (secrets.length === 0 && acmRegions.length === 0) {
      fail('secrets', 'and acmRegions are both empty: the role would be allowed nothing', 'add a secretsmanager or acm target with this role to the config');
    }
    const roleName = props.roleName ?? 'certpipe-target';
    const slash = roleName.lastIndexOf('/');
    const path = slash >= 0 ? `/${roleName.slice(0, slash).replace(/^\/|\/$/g, '')}/` : undefined;

    this.role = new iam.Role(this, 'Role', {
      roleName: slash >= 0 ? roleName.slice(slash + 1) : roleName,
      ...(path ? { path } : {}),
      description: `certpipe publisher access from account ${props.pipelineAccountId}`,
      // Trust the account, narrowed to the publisher role by aws:PrincipalArn: IAM
      // would reject a trust naming a role that does not exist yet.
      assumedBy: new iam.AccountPrincipal(props.pipelineAccountId).withConditions({
        StringEquals: { 'sts:ExternalId': [...props.externalIds] },
        ArnEquals: { 'aws:PrincipalArn': [...props.publisherRoleArns] },
      }),
    });

    const grant = (statement: iam.PolicyStatement) => {
      this.role.addToPolicy(statement);
      acknowledgeStatement(this.role, statement);
    };
    if (secrets.length > 0) {
      this.key = new kms.Key(this, 'SecretsKey', {
        description: 'certpipe: encrypts the certificate secrets the pipeline writes in this account',
        enableKeyRotation: true,
        alias: props.keyAlias ?? 'alias/certpipe',
        // Secrets encrypted with it outlive the stack.
        removalPolicy: RemovalPolicy.RETAIN,
      });
      const resources = secrets.map((s) => secretArn(stack, s.name, s.region));
      grant(new iam.PolicyStatement({ sid: 'TargetSecretsWrite', actions: SECRET_WRITE_ONLY, resources }));
      grant(secretTagging('TargetSecretsTag', resources));
      grant(keyViaSecretsManager('SecretsKeyViaSecretsManager', this.key.keyArn, stack.region));
    }
    for (const statement of acmImportStatements(stack, acmRegions)) grant(statement);
  }
}
