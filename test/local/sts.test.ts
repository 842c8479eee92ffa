// The local STS through the real @aws-sdk/client-sts: caller identity per
// access key, AssumeRole into other accounts with and without the ExternalId a
// registered role requires, the temporary credentials acting in the role's
// account (Secrets Manager included), and persistence across a restart.
import fs from 'node:fs';
import os from 'node:os';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  AssumeRoleCommand,
  ExpiredTokenException,
  GetCallerIdentityCommand,
  STSClient,
  STSServiceException,
  type Credentials,
} from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalAws, type LocalAws } from '../../local/aws/server.js';

const PIPELINE_ACCOUNT = '000000000000';
const TARGET_ACCOUNT = '222222222222';
const GUARDED_ROLE = `arn:aws:iam::${TARGET_ACCOUNT}:role/certpipe-publisher`;
const OPEN_ROLE = `arn:aws:iam::${TARGET_ACCOUNT}:role/team/open-role`;
const LONG_ROLE = `arn:aws:iam::${TARGET_ACCOUNT}:role/long-sessions`;
const EXTERNAL_ID = 'certpipe-7f3a9c';

const dataDir = fs.mkdtempSync(os.tmpdir() + '/certpipe-');
let server: LocalAws;

type Keys = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

const keysOf = (c: Credentials): Keys => ({
  accessKeyId: c.AccessKeyId!,
  secretAccessKey: c.SecretAccessKey!,
  sessionToken: c.SessionToken!,
});

function sts(credentials: Keys = { accessKeyId: PIPELINE_ACCOUNT, secretAccessKey: 'test' }): STSClient {
  return new STSClient({ endpoint: server.url, region: 'us-east-1', credentials, maxAttempts: 1 });
}

function secrets(credentials: Keys): SecretsManagerClient {
  return new SecretsManagerClient({ endpoint: server.url, region: 'us-east-1', credentials, maxAttempts: 1 });
}

async function registerRole(body: unknown): Promise<Response> {
  return fetch(`${server.url}/_certpipe/iam/roles`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

beforeAll(async () => {
  server = await startLocalAws({ port: 0, dataDir });
});

afterAll(async () => {
  await server?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('GetCallerIdentity', () => {
  it('names the account of a 12-digit key and refuses a key this cloud never issued', async () => {
    expect(await sts().send(new GetCallerIdentityCommand({}))).toMatchObject({
      Account: PIPELINE_ACCOUNT,
      Arn: `arn:aws:iam::${PIPELINE_ACCOUNT}:root`,
      UserId: PIPELINE_ACCOUNT,
    });
    const other = await sts({ accessKeyId: '333333333333', secretAccessKey: 'test' }).send(new GetCallerIdentityCommand({}));
    expect(other.Account).toBe('333333333333');
    const unknown = sts({ accessKeyId: 'AKIAEXAMPLEKEY', secretAccessKey: 'test' }).send(new GetCallerIdentityCommand({}));
    await expect(unknown).rejects.toMatchObject({ name: 'InvalidClientTokenId', $metadata: { httpStatusCode: 403 } });
  });
});

describe('AssumeRole', () => {
  beforeAll(async () => {
    const res = await registerRole({ roleArn: GUARDED_ROLE, externalId: EXTERNAL_ID });
    expect(res.status).toBe(201);
    expect((await registerRole([
      {
        roleArn: LONG_ROLE,
        maxSessionDurationSeconds: 43_200,
        // Trusts its own account too, so that a session of it may chain into it.
        trustPolicy: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { AWS: [`arn:aws:iam::${PIPELINE_ACCOUNT}:root`, `arn:aws:iam::${TARGET_ACCOUNT}:root`] }, Action: 'sts:AssumeRole' }],
        },
      },
      { roleArn: OPEN_ROLE },
    ])).status).toBe(201);
  });

  it('lists registered roles and refuses malformed registrations', async () => {
    const listed = (await (await fetch(`${server.url}/_certpipe/iam/roles`)).json()) as { roles: { roleArn: string }[] };
    expect(listed.roles.map((r) => r.roleArn)).toEqual(expect.arrayContaining([GUARDED_ROLE, LONG_ROLE]));
    expect((await registerRole({ roleArn: 'not-an-arn' })).status).toBe(400);
    expect((await registerRole({ roleArn: OPEN_ROLE, externalId: 'x' })).status).toBe(400);
    expect((await registerRole({ roleArn: OPEN_ROLE, policies: [{ name: 'p' }] })).status).toBe(400);
  });

  it('issues ASIA credentials that act in the role account, with the assumed-role ARN', async () => {
    const before = Date.now();
    const assumed = await sts().send(
      new AssumeRoleCommand({ RoleArn: OPEN_ROLE, RoleSessionName: 'publish-1', DurationSeconds: 900 }),
    );
    const creds = assumed.Credentials!;
    expect(creds.AccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(creds.SecretAccessKey).toBeTruthy();
    expect(creds.SessionToken).toBeTruthy();
    const lifetime = creds.Expiration!.getTime() - before;
    expect(lifetime).toBeGreaterThan(890_000);
    expect(lifetime).toBeLessThan(960_000);
    expect(assumed.AssumedRoleUser).toMatchObject({
      Arn: `arn:aws:sts::${TARGET_ACCOUNT}:assumed-role/open-role/publish-1`,
      AssumedRoleId: expect.stringMatching(/^AROA[A-Z2-7]{17}:publish-1$/),
    });

    const identity = await sts(keysOf(creds)).send(new GetCallerIdentityCommand({}));
    expect(identity).toEqual(
      expect.objectContaining({
        Account: TARGET_ACCOUNT,
        Arn: `arn:aws:sts::${TARGET_ACCOUNT}:assumed-role/open-role/publish-1`,
        UserId: assumed.AssumedRoleUser!.AssumedRoleId,
      }),
    );
  });

  it('refuses a role that requires an ExternalId when it is missing or wrong', async () => {
    for (const ExternalId of [undefined, 'wrong-external-id']) {
      const attempt = sts().send(new AssumeRoleCommand({ RoleArn: GUARDED_ROLE, RoleSessionName: 'publish', ExternalId }));
      await expect(attempt).rejects.toBeInstanceOf(STSServiceException);
      await expect(attempt).rejects.toMatchObject({
        name: 'AccessDenied',
        message: `User: arn:aws:iam::${PIPELINE_ACCOUNT}:root is not authorized to perform: sts:AssumeRole on resource: ${GUARDED_ROLE} because no resource-based policy allows the sts:AssumeRole action`,
        $metadata: { httpStatusCode: 403 },
      });
    }
  });

  it('lets the right ExternalId in, and secrets written with the credentials land in the role account', async () => {
    const assumed = await sts().send(
      new AssumeRoleCommand({ RoleArn: GUARDED_ROLE, RoleSessionName: 'publish', ExternalId: EXTERNAL_ID }),
    );
    const creds = keysOf(assumed.Credentials!);
    expect((await sts(creds).send(new GetCallerIdentityCommand({}))).Account).toBe(TARGET_ACCOUNT);

    const created = await secrets(creds).send(new CreateSecretCommand({ Name: 'certpipe/shop', SecretString: 'cert' }));
    expect(created.ARN).toContain(`:${TARGET_ACCOUNT}:secret:certpipe/shop-`);
    const target = secrets({ accessKeyId: TARGET_ACCOUNT, secretAccessKey: 'test' });
    expect((await target.send(new GetSecretValueCommand({ SecretId: 'certpipe/shop' }))).SecretString).toBe('cert');
    const pipeline = secrets({ accessKeyId: PIPELINE_ACCOUNT, secretAccessKey: 'test' });
    await expect(pipeline.send(new GetSecretValueCommand({ SecretId: 'certpipe/shop' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });

  it('names the assumed role as the caller when a chained AssumeRole is refused', async () => {
    const first = await sts().send(new AssumeRoleCommand({ RoleArn: OPEN_ROLE, RoleSessionName: 'hop' }));
    const attempt = sts(keysOf(first.Credentials!)).send(new AssumeRoleCommand({ RoleArn: GUARDED_ROLE, RoleSessionName: 'hop2' }));
    await expect(attempt).rejects.toThrow(
      `User: arn:aws:sts::${TARGET_ACCOUNT}:assumed-role/open-role/hop is not authorized to perform: sts:AssumeRole`,
    );
  });

  it('validates the role ARN, session name and duration as STS does', async () => {
    const refused = async (input: ConstructorParameters<typeof AssumeRoleCommand>[0], credentials?: Keys) => {
      const attempt = sts(credentials).send(new AssumeRoleCommand(input));
      await expect(attempt).rejects.toMatchObject({ name: 'ValidationError' });
      return attempt.catch((err: Error) => err.message);
    };
    await refused({ RoleArn: 'arn:aws:iam::222222222222:user/alice', RoleSessionName: 'x1' });
    await refused({ RoleArn: OPEN_ROLE, RoleSessionName: 'has space' });
    await refused({ RoleArn: OPEN_ROLE, RoleSessionName: 'ok', DurationSeconds: 600 });
    expect(await refused({ RoleArn: OPEN_ROLE, RoleSessionName: 'ok', DurationSeconds: 7200 })).toContain('MaxSessionDuration');

    // A role whose MaxSessionDuration was raised allows longer sessions, except through role chaining.
    const long = await sts().send(new AssumeRoleCommand({ RoleArn: LONG_ROLE, RoleSessionName: 'long', DurationSeconds: 7200 }));
    expect(long.Credentials!.Expiration!.getTime() - Date.now()).toBeGreaterThan(7_000_000);
    expect(
      await refused({ RoleArn: LONG_ROLE, RoleSessionName: 'chained', DurationSeconds: 7200 }, keysOf(long.Credentials!)),
    ).toContain('role chaining');
  });

  it('answers ExpiredTokenException once the temporary credentials have expired', async () => {
    const assumed = await sts().send(new AssumeRoleCommand({ RoleArn: OPEN_ROLE, RoleSessionName: 'short', DurationSeconds: 900 }));
    const realNow = server.cloud.now;
    (server.cloud as { now: () => Date }).now = () => new Date(Date.now() + 901_000);
    try {
      await expect(sts(keysOf(assumed.Credentials!)).send(new GetCallerIdentityCommand({}))).rejects.toBeInstanceOf(
        ExpiredTokenException,
      );
    } finally {
      (server.cloud as { now: () => Date }).now = realNow;
    }
  });
});

describe('persistence', () => {
  it('keeps registered roles and issued credentials across a restart', async () => {
    const assumed = await sts().send(
      new AssumeRoleCommand({ RoleArn: GUARDED_ROLE, RoleSessionName: 'survivor', ExternalId: EXTERNAL_ID }),
    );
    await server.close();
    server = await startLocalAws({ port: 0, dataDir });

    const identity = await sts(keysOf(assumed.Credentials!)).send(new GetCallerIdentityCommand({}));
    expect(identity.Arn).toBe(`arn:aws:sts::${TARGET_ACCOUNT}:assumed-role/certpipe-publisher/survivor`);
    await expect(sts().send(new AssumeRoleCommand({ RoleArn: GUARDED_ROLE, RoleSessionName: 'again' }))).rejects.toMatchObject({
      name: 'AccessDenied',
    });
  });
});
