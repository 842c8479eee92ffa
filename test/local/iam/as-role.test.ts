// The judge on the local endpoint's request path, through the real SDK clients:
// the synthesized roles are registered with their trust and identity policies,
// the account root assumes a function's role (the local-only rule) and the
// role is refused what its policy does not grant, in the service's own error,
// while what it does grant goes through. Credentials are checked as AWS does.
import fs from 'node:fs';
import os from 'node:os';
import { ACMClient, AddTagsToCertificateCommand, ImportCertificateCommand } from '@aws-sdk/client-acm';
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, Route53Client, type Change } from '@aws-sdk/client-route-53';
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toInventory } from '../../../infra/config.js';
import { CertpipePipelineStack } from '../../../infra/pipeline-stack.js';
import { CertpipeTargetStack, targetRolesOf } from '../../../infra/target-stack.js';
import type { DecisionRecord } from '../../../local/aws/iam/decisions.js';
import { startLocalAws, type LocalAws } from '../../../local/aws/server.js';
import { fixtureConfig, fixtureConfigDocument, TARGET_ACCOUNT, TARGET_ROLE_ARN, testApp } from '../../infra/support.js';
import { createChain } from '../support/pki.js';
import { functionRole, templateRoles, type TemplateRole } from './template.js';

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
const ROOT = { accessKeyId: ACCOUNT, secretAccessKey: 'test' };
const MANAGED_TAG = { Key: 'certpipe:managed', Value: 'true' };

type Keys = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

const dataDir = fs.mkdtempSync(`${os.tmpdir()}/certpipe-`);
let aws: LocalAws;
let zoneIds: Record<string, string>;
let roles: TemplateRole[];
let pipeline: { Resources: Record<string, any> };
let foreignCertificateArn: string;

const client = <C>(Client: new (config: object) => C, credentials: Keys = ROOT, region = REGION): C =>
  new Client({ endpoint: aws.url, region, credentials, maxAttempts: 1 });

async function post(path: string, body: unknown): Promise<void> {
  const res = await fetch(`${aws.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status, await res.clone().text()).toBe(201);
}

/** The root assumes a role of its own account (the local-only rule) and gets its temporary credentials. */
async function actAs(roleArn: string, credentials: Keys = ROOT, externalId?: string): Promise<Keys> {
  const assumed = await client(STSClient, credentials).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'probe', ExternalId: externalId }));
  const c = assumed.Credentials!;
  return { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
}

const roleOf = (fn: string) => functionRole(pipeline, roles, fn).roleArn;

async function refusal(promise: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await promise;
  } catch (err) {
    const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('the call was allowed');
}

const txt = (Name: string, Type: 'TXT' | 'A' = 'TXT'): Change => ({
  Action: 'CREATE',
  ResourceRecordSet: { Name, Type, TTL: 60, ResourceRecords: [{ Value: Type === 'TXT' ? '"token"' : '192.0.2.1' }] },
});

async function decisions(): Promise<DecisionRecord[]> {
  return ((await (await fetch(`${aws.url}/_certpipe/iam/decisions`)).json()) as { decisions: DecisionRecord[] }).decisions;
}

beforeAll(async () => {
  aws = await startLocalAws({ port: 0, dataDir, iamMode: 'enforce' });
  const route53 = client(Route53Client);
  zoneIds = {};
  for (const name of ['example.com', 'example.org']) {
    const created = await route53.send(new CreateHostedZoneCommand({ Name: name, CallerReference: name }));
    zoneIds[name] = created.HostedZone!.Id!.replace('/hostedzone/', '');
  }

  // The templates `cdk synth` writes, with the config's zone ids standing for the local zones.
  const config = fixtureConfig(fixtureConfigDocument());
  pipeline = Template.fromStack(new CertpipePipelineStack(testApp(), 'Certpipe', { config, region: REGION, env: { account: ACCOUNT } })).toJSON() as typeof pipeline;
  const local = (text: string) => text.replace(/Z0EXAMPLECOM/g, zoneIds['example.com']!).replace(/Z0EXAMPLEORG/g, zoneIds['example.org']!);
  roles = JSON.parse(local(JSON.stringify(templateRoles(pipeline, { accountId: ACCOUNT, region: REGION })))) as TemplateRole[];
  const [targetRole] = targetRolesOf(toInventory(config, { region: REGION, accountId: ACCOUNT }));
  const targetTemplate = Template.fromStack(new CertpipeTargetStack(testApp(), 'Target', { target: targetRole!, pipelineAccountId: ACCOUNT })).toJSON();
  const target = templateRoles(targetTemplate as any, { accountId: TARGET_ACCOUNT, region: REGION })[0]!;
  expect(target.roleArn).toBe(TARGET_ROLE_ARN);
  await post('/_certpipe/iam/roles', [...roles, target].map((r) => ({ roleArn: r.roleArn, trustPolicy: r.trust.document, policies: r.policies })));

  // What the stores hold besides certpipe's: another team's secret and ACM certificate.
  await client(SecretsManagerClient).send(new CreateSecretCommand({ Name: 'team/database', SecretString: 'hunter2' }));
  const chain = await createChain(['shop.example.net']);
  const bytes = (pem: string) => new TextEncoder().encode(pem);
  foreignCertificateArn = (
    await client(ACMClient).send(
      new ImportCertificateCommand({ Certificate: bytes(chain.leaf.certificatePem), PrivateKey: bytes(chain.leaf.privateKeyPem), CertificateChain: bytes(chain.chainPem), Tags: [{ Key: 'team', Value: 'web' }] }),
    )
  ).CertificateArn!;
}, 60_000);

afterAll(async () => {
  await aws?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('acting as PlaceChallenges through the local rule', () => {
  let keys: Keys;
  beforeAll(async () => {
    keys = await actAs(roleOf('PlaceChallenges'));
  });

  it('is the role: GetCallerIdentity names the assumed role', async () => {
    const identity = await client(STSClient, keys).send(new GetCallerIdentityCommand({}));
    expect(identity.Arn).toMatch(new RegExp(`^arn:aws:sts::${ACCOUNT}:assumed-role/[^/]+/probe$`));
  });

  it('may write a TXT record at _acme-challenge in a configured zone (the allowing statement is recorded)', async () => {
    const zone = zoneIds['example.com']!;
    await client(Route53Client, keys).send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zone, ChangeBatch: { Changes: [txt('_acme-challenge.example.com')] } }));
    expect(await decisions()).toContainEqual(
      expect.objectContaining({ action: 'route53:ChangeResourceRecordSets', resource: `arn:aws:route53:::hostedzone/${zone}`, decision: 'allowed', statement: expect.stringMatching(/#ChallengeRecordsWrite$/) }),
    );
  });

  it.each([
    ['an A record at a challenge name', txt('_acme-challenge.www.example.com', 'A')],
    ['a TXT record outside _acme-challenge', txt('www.example.com')],
  ])('is refused %s with Route 53\'s AccessDenied naming principal, action and zone', async (_name, change) => {
    const zone = zoneIds['example.com']!;
    const refused = await refusal(client(Route53Client, keys).send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zone, ChangeBatch: { Changes: [change] } })));
    expect(refused).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(refused.message).toMatch(
      new RegExp(`^User: arn:aws:sts::${ACCOUNT}:assumed-role/[^/]+/probe is not authorized to perform: route53:ChangeResourceRecordSets on resource: arn:aws:route53:::hostedzone/${zone} because no identity-based policy allows`),
    );
  });

  it('is refused the value of a secret that is not certpipe\'s', async () => {
    const refused = await refusal(client(SecretsManagerClient, keys).send(new GetSecretValueCommand({ SecretId: 'team/database' })));
    expect(refused).toMatchObject({ name: 'AccessDeniedException', status: 403 });
    expect(refused.message).toContain('secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:000000000000:secret:team/database-');
    expect(refused.message).not.toContain('hunter2');
    expect(await decisions()).toContainEqual(expect.objectContaining({ action: 'secretsmanager:GetSecretValue', decision: 'denied' }));
  });
});

describe('acting as PublishCertificate', () => {
  let keys: Keys;
  beforeAll(async () => {
    keys = await actAs(roleOf('PublishCertificate'));
  });

  it('is refused tagging a foreign ACM certificate as certpipe\'s', async () => {
    const refused = await refusal(client(ACMClient, keys).send(new AddTagsToCertificateCommand({ CertificateArn: foreignCertificateArn, Tags: [MANAGED_TAG] })));
    expect(refused).toMatchObject({ name: 'AccessDeniedException', status: 403 });
    expect(refused.message).toContain(`acm:AddTagsToCertificate on resource: ${foreignCertificateArn}`);
  });

  it('may assume the target role with its ExternalId, and is refused without it', async () => {
    const refused = await refusal(actAs(TARGET_ROLE_ARN, keys));
    expect(refused).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(refused.message).toContain(`sts:AssumeRole on resource: ${TARGET_ROLE_ARN} because no resource-based policy allows`);
    expect(await refusal(actAs(TARGET_ROLE_ARN, keys, 'guess'))).toMatchObject({ name: 'AccessDenied' });

    const there = await actAs(TARGET_ROLE_ARN, keys, 'certpipe-partner');
    expect((await client(STSClient, there).send(new GetCallerIdentityCommand({}))).Account).toBe(TARGET_ACCOUNT);
  });
});

describe('credentials are checked as AWS checks them', () => {
  let keys: Keys;
  beforeAll(async () => {
    keys = await actAs(roleOf('CheckExpiry'));
  });

  it('refuses a request signed with another secret: SignatureDoesNotMatch', async () => {
    const refused = await refusal(client(STSClient, { ...keys, secretAccessKey: `${keys.secretAccessKey}x` }).send(new GetCallerIdentityCommand({})));
    expect(refused).toMatchObject({ name: 'SignatureDoesNotMatch', status: 403 });
  });

  it('refuses a temporary key without its session token, and a key this cloud never issued', async () => {
    expect(await refusal(client(SecretsManagerClient, { accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey }).send(new GetSecretValueCommand({ SecretId: 'x' }))))
      .toMatchObject({ name: 'UnrecognizedClientException', status: 403 });
    expect(await refusal(client(Route53Client, { accessKeyId: 'AKIAUNKNOWN', secretAccessKey: 's' }).send(new ChangeResourceRecordSetsCommand({ HostedZoneId: 'Z', ChangeBatch: { Changes: [txt('a.example.com')] } }))))
      .toMatchObject({ name: 'InvalidClientTokenId' });
  });

  it('refuses expired credentials: ExpiredTokenException', async () => {
    const realNow = aws.cloud.now;
    (aws.cloud as { now: () => Date }).now = () => new Date(Date.now() + 3_601_000);
    try {
      expect(await refusal(client(SecretsManagerClient, keys).send(new GetSecretValueCommand({ SecretId: 'x' })))).toMatchObject({ name: 'ExpiredTokenException', status: 403 });
    } finally {
      (aws.cloud as { now: () => Date }).now = realNow;
    }
  });
});
