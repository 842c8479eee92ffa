// The IAM judge against the policies CDK really synthesizes: each function's
// role from the pipeline template, the target role from the target template,
// evaluated through the operation table and the evaluator. A grant the
// functions need that goes missing, or a guard that stops guarding, fails here.
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { toInventory } from '../../../infra/config.js';
import { CertpipePipelineStack } from '../../../infra/pipeline-stack.js';
import { CertpipeTargetStack, targetRolesOf } from '../../../infra/target-stack.js';
import { authorize, evaluate, type NamedPolicy, type Principal, type ResourcePolicies } from '../../../local/aws/iam/evaluate.js';
import {
  jsonAuthorization,
  queryAuthorization,
  restXmlAuthorization,
  type AuthorizationRequest,
  type RecordChange,
  type ResourceTags,
  type StoredResource,
} from '../../../local/aws/iam/operations.js';
import { fixtureConfig, fixtureConfigDocument, PIPELINE_ACCOUNT, REGION, TARGET_ACCOUNT, TARGET_ROLE_ARN, testApp } from '../../infra/support.js';
import { functionRole, templateRoles, type TemplateRole } from './template.js';

const SCOPE = { accountId: PIPELINE_ACCOUNT, region: REGION };
const COM_ZONE = 'Z0EXAMPLECOM';
const ORG_ZONE = 'Z0EXAMPLEORG';
const DELEGATION_TARGET = 'example-com.acme.example.org';
const SECRETS_KEY = `arn:aws:kms:${REGION}:${PIPELINE_ACCOUNT}:key/PipelineSecretsKeyC4B11749`;
const secretArnOf = (name: string) => `arn:aws:secretsmanager:${REGION}:${PIPELINE_ACCOUNT}:secret:${name}-AbCdEf`;
const certificateArn = (id: string) => `arn:aws:acm:us-east-1:${PIPELINE_ACCOUNT}:certificate/${id}`;
const MANAGED = { 'certpipe:managed': 'true' };

/** What the stores hold: certpipe's secrets (with its key), a foreign secret, a managed and a foreign ACM certificate. */
const STORED: Record<string, StoredResource> = {
  'certpipe/web': { arn: secretArnOf('certpipe/web'), tags: MANAGED, kmsKeyId: SECRETS_KEY },
  'certpipe/acme-account/letsencrypt': { arn: secretArnOf('certpipe/acme-account/letsencrypt'), tags: {}, kmsKeyId: SECRETS_KEY },
  'certpipe/eab/zerossl': { arn: secretArnOf('certpipe/eab/zerossl'), tags: {} },
  'team/database': { arn: secretArnOf('team/database'), tags: { team: 'db' }, kmsKeyId: SECRETS_KEY },
  [certificateArn('managed')]: { arn: certificateArn('managed'), tags: MANAGED },
  [certificateArn('foreign')]: { arn: certificateArn('foreign'), tags: { team: 'web' } },
};
const stores: ResourceTags = { find: (_kind, id) => STORED[id] };

let pipelineTemplate: { Resources: Record<string, any> };
let roles: TemplateRole[];
let target: TemplateRole;
let keyPolicy: NamedPolicy;

beforeAll(() => {
  const doc = fixtureConfigDocument();
  doc.certificates[0].challengeDelegations = { 'example.com': DELEGATION_TARGET };
  const config = fixtureConfig(doc);
  const app = testApp();
  const pipeline = new CertpipePipelineStack(app, 'Certpipe', { config, region: REGION, env: { account: PIPELINE_ACCOUNT } });
  pipelineTemplate = Template.fromStack(pipeline).toJSON() as typeof pipelineTemplate;
  roles = templateRoles(pipelineTemplate, SCOPE);
  const key = pipelineTemplate.Resources.PipelineSecretsKeyC4B11749;
  keyPolicy = { name: 'secrets-key-policy', document: templateRoles({ Resources: { K: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: key.Properties.KeyPolicy } } } }, SCOPE)[0]!.trust.document };

  const [role] = targetRolesOf(toInventory(config, { region: REGION, accountId: PIPELINE_ACCOUNT }));
  const targetStack = new CertpipeTargetStack(testApp(), 'Target', { target: role!, pipelineAccountId: PIPELINE_ACCOUNT });
  target = templateRoles(Template.fromStack(targetStack).toJSON() as any, { accountId: TARGET_ACCOUNT, region: REGION })[0]!;
});

const principalOf = (role: TemplateRole, policies = role.policies): Principal => ({ kind: 'role', roleArn: role.roleArn, sessionName: 'test', policies });
const asFunction = (name: string) => principalOf(functionRole(pipelineTemplate, roles, name));

const resourcePolicies: ResourcePolicies = (kind, resource) => {
  if (kind === 'kms-key' && resource === SECRETS_KEY) return keyPolicy;
  if (kind === 'role-trust' && resource === TARGET_ROLE_ARN) return target.trust;
  return undefined;
};

// Requests as the functions make them.
const txt = (action: string, name: string): RecordChange => ({ action, name, type: 'TXT' });
const route53Change = (zone: string, ...changes: RecordChange[]) => restXmlAuthorization('route53', 'ChangeResourceRecordSets', { id: zone, changes }, SCOPE);
const route53 = (operation: string, id?: string) => restXmlAuthorization('route53', operation, id ? { id } : {}, SCOPE);
const secrets = (operation: string, body: Record<string, unknown>) => jsonAuthorization('secretsmanager', operation, body, SCOPE, stores);
const acm = (operation: string, body: Record<string, unknown>) => jsonAuthorization('acm', operation, { ...body }, { ...SCOPE, region: 'us-east-1' }, stores);
/** The run bucket as template.ts names it (its logical id, lower case). */
const runBucket = () => Object.entries(pipelineTemplate.Resources).find(([, r]) => r.Type === 'AWS::S3::Bucket')![0].toLowerCase();
const s3 = (operation: string, key: string) => restXmlAuthorization('s3', operation, { bucket: runBucket(), key }, SCOPE);
const tags = (record: Record<string, string>) => Object.entries(record).map(([Key, Value]) => ({ Key, Value }));
const assumeTarget = (externalId?: string) =>
  queryAuthorization('sts', 'AssumeRole', new URLSearchParams({ RoleArn: TARGET_ROLE_ARN, RoleSessionName: 'certpipe', ...(externalId ? { ExternalId: externalId } : {}) }), SCOPE);

async function decide(principal: Principal, request: AuthorizationRequest) {
  return authorize(principal, request, resourcePolicies);
}

describe('PlaceChallenges', () => {
  it.each([
    ['CREATE a TXT at the apex challenge', () => route53Change(COM_ZONE, txt('CREATE', '_acme-challenge.example.com.'))],
    ['DELETE + CREATE (the compare-and-set) below the apex', () => route53Change(COM_ZONE, txt('DELETE', '_acme-challenge.www.example.com'), txt('CREATE', '_acme-challenge.www.example.com'))],
    ['any case and a trailing dot (normalised as Route 53 does)', () => route53Change(ORG_ZONE, txt('CREATE', '_ACME-Challenge.API.Example.Org.'))],
    ['CREATE at the delegation target the config names', () => route53Change(ORG_ZONE, txt('CREATE', `${DELEGATION_TARGET}.`))],
  ])('may %s', async (_name, request) => {
    expect(await decide(asFunction('PlaceChallenges'), request())).toMatchObject({ decision: 'allowed', statement: expect.stringMatching(/#ChallengeRecordsWrite$/) });
  });

  it.each([
    ['write an A record at a challenge name', () => route53Change(COM_ZONE, { action: 'CREATE', name: '_acme-challenge.example.com', type: 'A' })],
    ['write a TXT outside _acme-challenge', () => route53Change(COM_ZONE, txt('CREATE', 'www.example.com'))],
    ['slip an A record into an otherwise allowed batch', () => route53Change(COM_ZONE, txt('CREATE', '_acme-challenge.example.com'), { action: 'CREATE', name: 'www.example.com', type: 'A' })],
    ['UPSERT (the provider only swaps sets with DELETE + CREATE)', () => route53Change(COM_ZONE, txt('UPSERT', '_acme-challenge.example.com'))],
    ['write in a zone that is not configured', () => route53Change('Z0SOMEONEELSE', txt('CREATE', '_acme-challenge.example.com'))],
    ['write a challenge name of a domain outside the configured zones', () => route53Change(COM_ZONE, txt('CREATE', '_acme-challenge.example.net'))],
    ['write at a delegation target the config does not name', () => route53Change(ORG_ZONE, txt('CREATE', 'other.acme.example.org'))],
    ['read a secret that is not certpipe\'s', () => secrets('GetSecretValue', { SecretId: 'team/database' })],
  ])('may not %s', async (_name, request) => {
    const decision = await decide(asFunction('PlaceChallenges'), request());
    expect(decision).toMatchObject({ decision: 'denied', reason: 'no-identity-allow' });
  });
});

describe('CleanupChallenges', () => {
  it('may read the certificate secret\'s tags but not its value', async () => {
    const cleanup = asFunction('CleanupChallenges');
    expect(await decide(cleanup, secrets('DescribeSecret', { SecretId: 'certpipe/web' }))).toMatchObject({ decision: 'allowed' });
    expect(await decide(cleanup, secrets('GetSecretValue', { SecretId: 'certpipe/web' }))).toMatchObject({ decision: 'denied', action: 'secretsmanager:GetSecretValue' });
  });
});

describe('PublishCertificate and ACM', () => {
  it.each([
    ['imports a new certificate tagged certpipe:managed=true', () => acm('ImportCertificate', { Tags: tags(MANAGED) }), 'allowed'],
    ['re-imports over a managed certificate', () => acm('ImportCertificate', { CertificateArn: certificateArn('managed') }), 'allowed'],
    ['tags a managed certificate with certpipe keys', () => acm('AddTagsToCertificate', { CertificateArn: certificateArn('managed'), Tags: tags({ 'certpipe:not-after': 'x' }) }), 'allowed'],
    ['may not import a new certificate without the managed tag', () => acm('ImportCertificate', {}), 'denied'],
    ['may not re-import over a foreign certificate', () => acm('ImportCertificate', { CertificateArn: certificateArn('foreign') }), 'denied'],
    ['may not tag a foreign certificate certpipe:managed=true', () => acm('AddTagsToCertificate', { CertificateArn: certificateArn('foreign'), Tags: tags(MANAGED) }), 'denied'],
    ['may not tag a managed certificate with foreign keys', () => acm('AddTagsToCertificate', { CertificateArn: certificateArn('managed'), Tags: tags({ owner: 'me' }) }), 'denied'],
    ['may not import a new certificate that also carries a foreign tag key', () => acm('ImportCertificate', { Tags: tags({ ...MANAGED, owner: 'me' }) }), 'denied'],
  ])('%s', async (_name, request, expected) => {
    expect((await decide(asFunction('PublishCertificate'), request())).decision).toBe(expected);
  });
});

describe('the target role (target stack template)', () => {
  it('may be assumed by the publisher with its ExternalId: identity and trust both allow', async () => {
    expect(await decide(asFunction('PublishCertificate'), assumeTarget('certpipe-partner'))).toMatchObject({ decision: 'allowed', statement: expect.stringMatching(/#AssumeTargetRoles$/) });
  });

  it.each([
    ['without the ExternalId', undefined],
    ['with another ExternalId', 'guess'],
  ])('may not be assumed by the publisher %s', async (_name, externalId) => {
    expect(await decide(asFunction('PublishCertificate'), assumeTarget(externalId))).toMatchObject({ decision: 'denied', reason: 'no-resource-allow' });
  });

  it('may not be assumed by another role of the pipeline account, even one whose own policy allows it', async () => {
    const other = asFunction('PlaceChallenges');
    expect((await decide(other, assumeTarget('certpipe-partner'))).decision).toBe('denied');
    const greedy: Principal = {
      kind: 'role',
      roleArn: `arn:aws:iam::${PIPELINE_ACCOUNT}:role/greedy`,
      sessionName: 'test',
      policies: [{ name: 'greedy', document: { Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }] } }],
    };
    expect(await decide(greedy, assumeTarget('certpipe-partner'))).toMatchObject({ decision: 'denied', reason: 'no-resource-allow' });
  });
});

/** What each function calls in a renewal: every statement of its role must be the one that allows some of these. */
const CALLS: Record<string, () => AuthorizationRequest[]> = {
  CheckExpiry: () => [
    secrets('ListSecrets', {}),
    // The CA's ARI window is kept in the certificate's tags; a certificate the rate-limit budget defers is tagged with its next slot.
    secrets('TagResource', { SecretId: 'certpipe/web', Tags: tags({ 'certpipe:ari': 'x', 'certpipe:deferred-until': 'x', 'certpipe:deferred-reason': 'RateLimitBudget' }) }),
    s3('PutObject', 'due/2026-04-01T10-00-00-000Z-run.json'),
  ],
  PlaceChallenges: () => [
    route53Change(COM_ZONE, txt('CREATE', '_acme-challenge.example.com')),
    route53('ListResourceRecordSets', COM_ZONE),
    route53('GetChange', 'C123'),
    route53('ListHostedZonesByName'),
    secrets('GetSecretValue', { SecretId: 'certpipe/acme-account/letsencrypt' }),
    secrets('TagResource', { SecretId: 'certpipe/acme-account/letsencrypt', Tags: tags({ 'certpipe:account-url': 'u' }) }),
    secrets('GetSecretValue', { SecretId: 'certpipe/eab/zerossl' }),
    secrets('PutSecretValue', { SecretId: 'certpipe/web' }),
    secrets('TagResource', { SecretId: 'certpipe/web', Tags: tags({ 'certpipe:challenge': 'v' }) }),
  ],
  CheckPropagation: () => [route53('ListResourceRecordSets', COM_ZONE), route53('GetChange', 'C123')],
  FinalizeOrder: () => [
    secrets('GetSecretValue', { SecretId: 'certpipe/acme-account/letsencrypt' }),
    secrets('TagResource', { SecretId: 'certpipe/acme-account/letsencrypt', Tags: tags({ 'certpipe:account-url': 'u' }) }),
    secrets('GetSecretValue', { SecretId: 'certpipe/eab/zerossl' }),
    secrets('PutSecretValue', { SecretId: 'certpipe/web' }),
    secrets('TagResource', { SecretId: 'certpipe/web', Tags: tags({ 'certpipe:lock': 'x' }) }),
  ],
  PublishCertificate: () => [
    secrets('UpdateSecretVersionStage', { SecretId: 'certpipe/web', VersionStage: 'AWSCURRENT' }),
    secrets('GetSecretValue', { SecretId: 'certpipe/web' }),
    secrets('TagResource', { SecretId: 'certpipe/web', Tags: tags({ 'certpipe:not-after': 'x' }) }),
    acm('ImportCertificate', { Tags: tags(MANAGED) }),
    acm('ImportCertificate', { CertificateArn: certificateArn('managed') }),
    assumeTarget('certpipe-partner'),
    jsonAuthorization('events', 'PutEvents', { Entries: [{ Source: 'certpipe', DetailType: 'Certificate Renewed' }] }, SCOPE),
  ],
  CleanupChallenges: () => [
    route53Change(COM_ZONE, txt('DELETE', '_acme-challenge.example.com')),
    route53('ListResourceRecordSets', COM_ZONE),
    route53('GetChange', 'C123'),
    secrets('DescribeSecret', { SecretId: 'certpipe/web' }),
    secrets('TagResource', { SecretId: 'certpipe/web', Tags: tags({ 'certpipe:challenge': '' }) }),
  ],
  Summarize: () => [s3('GetObject', 'results/map-run/manifest.json')],
};

/** Each part of a call (the call itself, each resource, KMS on its behalf) with the statement that allows it. */
async function judge(principal: Principal, requests: AuthorizationRequest[]) {
  const out: Array<{ label: string; decision: string; statement?: string }> = [];
  for (const request of requests) {
    for (const part of [request, ...(request.onBehalf ?? [])]) {
      for (const resource of part.resources) {
        const resourcePolicy = part.resourcePolicy ? resourcePolicies(part.resourcePolicy, resource) : undefined;
        const d = await evaluate({ principal, action: part.action, resource, resourceAccountId: part.resourceAccountId, context: part.context, ...(resourcePolicy ? { resourcePolicy } : {}) });
        out.push({ label: `${part.action} ${resource}`, decision: d.decision, ...(d.statement ? { statement: d.statement } : {}) });
      }
    }
  }
  return out;
}

/** Statements for CloudWatch Logs: the local endpoint serves no Logs API (EMF lines go to the log files), so no call can exercise them. */
const isLogsOnly = (s: Record<string, unknown>) => [s.Action].flat().every((a) => String(a).startsWith('logs:'));

describe.each(Object.keys(CALLS))('%s needs every statement of its role', (fn) => {
  const statementsOf = () =>
    functionRole(pipelineTemplate, roles, fn).policies.flatMap((policy) =>
      ([policy.document.Statement].flat() as Array<Record<string, unknown>>).map((statement, index) => ({ policy, statement, index })),
    ).filter((s) => !isLogsOnly(s.statement));

  it('allows every call of a renewal, and each statement allows at least one of them', async () => {
    const role = functionRole(pipelineTemplate, roles, fn);
    const calls = await judge(principalOf(role), CALLS[fn]!());
    expect(calls.filter((c) => c.decision !== 'allowed')).toEqual([]);
    const cited = new Set(calls.map((c) => c.statement));
    for (const { policy, statement, index } of statementsOf()) expect(cited).toContain(`${policy.name}#${statement.Sid ?? index}`);
  });

  it('denies the calls a statement allowed once that statement is removed (each statement in turn)', async () => {
    const role = functionRole(pipelineTemplate, roles, fn);
    const full = await judge(principalOf(role), CALLS[fn]!());
    for (const { policy, statement, index } of statementsOf()) {
      const cite = `${policy.name}#${statement.Sid ?? index}`;
      const without = role.policies.map((p) =>
        p !== policy ? p : { ...p, document: { ...p.document, Statement: ([p.document.Statement].flat() as Array<Record<string, unknown>>).filter((_s, i) => i !== index) } },
      );
      const after = await judge(principalOf(role, without), CALLS[fn]!());
      const needed = full.flatMap((c, i) => (c.statement === cite ? [i] : []));
      expect(needed.length, `${cite} allows no call`).toBeGreaterThan(0);
      for (const i of needed) expect({ statement: cite, call: after[i]!.label, decision: after[i]!.decision }).toEqual({ statement: cite, call: full[i]!.label, decision: 'denied' });
    }
  });
});

describe('the run bucket', () => {
  it('is exactly what CheckExpiry writes and Summarize reads: neither the other half, nor any other function', async () => {
    const denied = async (fn: string, request: AuthorizationRequest) => (await judge(asFunction(fn), [request]))[0]!.decision;
    expect(await denied('CheckExpiry', s3('GetObject', 'results/map-run/manifest.json'))).toBe('denied');
    expect(await denied('CheckExpiry', s3('PutObject', 'results/forged.json'))).toBe('denied');
    expect(await denied('Summarize', s3('PutObject', 'results/map-run/manifest.json'))).toBe('denied');
    expect(await denied('Summarize', s3('GetObject', 'due/run.json'))).toBe('denied');
    for (const fn of ['PlaceChallenges', 'CheckPropagation', 'FinalizeOrder', 'PublishCertificate', 'CleanupChallenges']) {
      expect(await denied(fn, s3('GetObject', 'due/run.json'))).toBe('denied');
    }
  });
});
