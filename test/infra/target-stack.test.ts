// The target-account stack: a role only the pipeline's publisher may assume, with
// the ExternalId, allowed to write certpipe's secrets and import tagged ACM certificates.
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { toInventory } from '../../infra/config.js';
import { CertpipeTargetStack, targetRolesOf } from '../../infra/target-stack.js';
import { acknowledgements, acmGuardViolations, fixtureConfig, nagFindings, PIPELINE_ACCOUNT, REGION, TARGET_ACCOUNT, TARGET_ROLE_ARN, testApp } from './support.js';

const partitionArn = (rest: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, rest]] });

describe('targetRolesOf', () => {
  it('collects, per role, its ExternalIds, secret copies and ACM regions from the config', () => {
    const roles = targetRolesOf(toInventory(fixtureConfig(), { region: REGION, accountId: PIPELINE_ACCOUNT }));
    expect(roles).toEqual([
      {
        roleArn: TARGET_ROLE_ARN,
        accountId: TARGET_ACCOUNT,
        roleName: 'certpipe-target',
        externalIds: ['certpipe-partner'],
        secrets: [{ name: 'certpipe/partner', region: REGION }],
        acmRegions: ['us-east-1'],
        homeRegion: REGION,
      },
    ]);
  });
});

describe.each([
  ['given the pipeline account', PIPELINE_ACCOUNT],
  ['with the pipeline account as a deploy-time parameter', undefined],
])('CertpipeTargetStack %s', (_title, pipelineAccountId) => {
  let stack: CertpipeTargetStack;
  let template: Template;
  let statements: Record<string, any>;

  beforeAll(() => {
    const app = testApp();
    const [target] = targetRolesOf(toInventory(fixtureConfig(), { region: REGION, accountId: PIPELINE_ACCOUNT }));
    stack = new CertpipeTargetStack(app, 'Target', { target: target!, ...(pipelineAccountId ? { pipelineAccountId } : {}) });
    template = Template.fromStack(stack);
    const [policy] = Object.values(template.findResources('AWS::IAM::Policy')) as any[];
    statements = Object.fromEntries(policy.Properties.PolicyDocument.Statement.map((s: any) => [s.Sid, s]));
  });

  const joinAccount = (prefix: string, suffix: string) =>
    pipelineAccountId
      ? partitionArn(`${prefix}${pipelineAccountId}${suffix}`)
      : { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, prefix, { Ref: 'PipelineAccountId' }, suffix]] };

  it('deploys into the target account, in the region of its secrets', () => {
    expect(stack.account).toBe(TARGET_ACCOUNT);
    expect(stack.region).toBe(REGION);
    if (!pipelineAccountId) expect(template.toJSON().Parameters.PipelineAccountId).toMatchObject({ AllowedPattern: '^\\d{12}$' });
    else expect(template.toJSON().Parameters?.PipelineAccountId).toBeUndefined();
  });

  it('trusts only the publisher role of the pipeline account, and only with the ExternalId', () => {
    const [role] = Object.values(template.findResources('AWS::IAM::Role')) as any[];
    expect(role.Properties.RoleName).toBe('certpipe-target');
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { AWS: joinAccount(':iam::', ':root') },
        Condition: {
          StringEquals: { 'sts:ExternalId': ['certpipe-partner'] },
          ArnEquals: { 'aws:PrincipalArn': [joinAccount(':iam::', ':role/certpipe-publisher')] },
        },
      },
    ]);
  });

  it('may only write the configured secret (never read it) and use its key through Secrets Manager', () => {
    const secret = partitionArn(`:secretsmanager:${REGION}:${TARGET_ACCOUNT}:secret:certpipe/partner-??????`);
    expect(statements.TargetSecretsWrite).toMatchObject({
      Action: ['secretsmanager:DescribeSecret', 'secretsmanager:CreateSecret', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'],
      Resource: secret,
    });
    expect(statements.TargetSecretsTag).toMatchObject({ Resource: secret, Condition: { 'ForAllValues:StringLike': { 'aws:TagKeys': ['certpipe:*'] } } });
    expect(statements.SecretsKeyViaSecretsManager.Condition).toEqual({ StringEquals: { 'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com` } });
    const actions = Object.values(statements).flatMap((s: any) => [s.Action].flat());
    expect(actions).not.toContain('secretsmanager:GetSecretValue');
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/certpipe' });
  });

  it('may only import certpipe-tagged ACM certificates in the configured regions', () => {
    const acm = partitionArn(`:acm:us-east-1:${TARGET_ACCOUNT}:certificate/*`);
    expect(statements.AcmImportNewTagged).toMatchObject({ Action: 'acm:ImportCertificate', Resource: acm, Condition: { StringEquals: { 'aws:RequestTag/certpipe:managed': 'true' } } });
    expect(statements.AcmManagedOnly).toMatchObject({ Resource: acm, Condition: { StringEquals: { 'aws:ResourceTag/certpipe:managed': 'true' } } });
    expect(Object.keys(statements).sort()).toEqual(['AcmImportNewTagged', 'AcmManagedOnly', 'SecretsKeyViaSecretsManager', 'TargetSecretsTag', 'TargetSecretsWrite']);
  });

  it("never lets the target role tag or re-import an ACM certificate that is not certpipe's", () => {
    const all = Object.values(statements);
    expect(all.some((s: any) => [s.Action].flat().includes('acm:AddTagsToCertificate'))).toBe(true);
    expect(acmGuardViolations(all)).toEqual([]);
  });

  it('is clean under cdk-nag, each acknowledgement with a reason', () => {
    expect(nagFindings(stack)).toEqual([]);
    for (const a of acknowledgements(stack)) expect(a.reason.length, a.id).toBeGreaterThan(30);
  });
});
