// Self-service stays least-privilege: with `selfService` configured, the only
// secret resources the functions gain are under its prefix; CheckExpiry may
// only tag there (certpipe:* keys), never read or write a value.
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { CertpipePipelineStack } from '../../infra/pipeline-stack.js';
import { fixtureConfig, fixtureConfigDocument, nagFindings, PIPELINE_ACCOUNT, REGION, testApp } from './support.js';

function stackWith(selfService: Record<string, unknown> | undefined) {
  const doc = fixtureConfigDocument();
  if (selfService) doc.selfService = selfService;
  return new CertpipePipelineStack(testApp(), 'Certpipe', { config: fixtureConfig(doc), region: REGION, env: { account: PIPELINE_ACCOUNT } });
}

/** Every (function, action, secret ARN) a function's policies allow on Secrets Manager, as resolved strings. */
function secretGrants(stack: CertpipePipelineStack): Set<string> {
  const grants = new Set<string>();
  const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy');
  for (const [id, policy] of Object.entries(policies) as [string, any][]) {
    const fn = /Functions(\w+?)Role/.exec(id)?.[1] ?? id;
    for (const s of policy.Properties.PolicyDocument.Statement) {
      const actions = [s.Action].flat().filter((a: string) => a.startsWith('secretsmanager:'));
      for (const r of [s.Resource].flat()) for (const a of actions) grants.add(`${fn} ${a} ${JSON.stringify(stack.resolve(r))}`);
    }
  }
  return grants;
}

describe('self-service grants', () => {
  const without = secretGrants(stackWith(undefined));
  const stack = stackWith({ prefix: 'certpipe/teams/', zones: ['example.com'], issuers: ['letsencrypt'] });
  const withRequests = secretGrants(stack);
  const added = [...withRequests].filter((g) => !without.has(g));

  it('adds grants on secrets under the prefix only', () => {
    expect(added.length).toBeGreaterThan(0);
    for (const g of added) expect(g).toMatch(/secret:certpipe\/teams\/\*/);
    expect([...without].filter((g) => !withRequests.has(g))).toEqual([]);
  });

  it('lets CheckExpiry tag requests (certpipe:* keys only) and read nothing, CheckPropagation describe them only', () => {
    const checkExpiry = added.filter((g) => g.startsWith('CheckExpiry ')).map((g) => g.split(' ')[1]).sort();
    expect(checkExpiry).toEqual(['secretsmanager:TagResource', 'secretsmanager:UntagResource']);
    const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy');
    const answer = Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement).find((s: any) => s.Sid === 'SelfServiceRequestsAnswer');
    expect(answer.Condition).toEqual({ 'ForAllValues:StringLike': { 'aws:TagKeys': ['certpipe:*'] } });
    expect(added.filter((g) => g.startsWith('CheckPropagation ')).map((g) => g.split(' ')[1])).toEqual(['secretsmanager:DescribeSecret']);
  });

  it('gives the functions that store certificates read and write there, and acknowledges the prefix wildcard with its reason', () => {
    for (const fn of ['FinalizeOrder', 'PublishCertificate']) {
      expect(added.filter((g) => g.startsWith(`${fn} secretsmanager:PutSecretValue `))).toEqual([
        `${fn} secretsmanager:PutSecretValue ${JSON.stringify({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:secretsmanager:${REGION}:${PIPELINE_ACCOUNT}:secret:certpipe/teams/*`]] })}`,
      ]);
    }
    expect(nagFindings(stack)).toEqual([]);
  });

  it('imports into ACM in the regions selfService.acmRegions opens, and only there', () => {
    const acmResources = (st: CertpipePipelineStack) => {
      const policies = Template.fromStack(st).findResources('AWS::IAM::Policy');
      return new Set(
        Object.values(policies)
          .flatMap((p: any) => p.Properties.PolicyDocument.Statement)
          .filter((s: any) => s.Sid === 'AcmImportNewTagged')
          .flatMap((s: any) => [s.Resource].flat().map((r: unknown) => JSON.stringify(st.resolve(r)))),
      );
    };
    const opened = stackWith({ prefix: 'certpipe/teams/', zones: ['example.com'], issuers: ['letsencrypt'], acmRegions: ['ap-south-1'] });
    const before = acmResources(stack);
    const after = acmResources(opened);
    const added = [...after].filter((r) => !before.has(r));
    expect(added).toHaveLength(1);
    expect(added[0]).toContain(':acm:ap-south-1:');
    expect([...before].filter((r) => !after.has(r))).toEqual([]);
    expect(nagFindings(opened)).toEqual([]);
  });
});
