// `certpipe iam report --local` over the local cloud's decision log: a role's
// allowed calls with the statement that allowed each, its denials, and the
// statements nothing used.
import fs from 'node:fs';
import os from 'node:os';
import { GetSecretValueCommand, ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, type CliIO } from '../../bin/cli.js';
import type { IamReport } from '../../bin/commands/iam.js';
import { startLocalAws, type LocalAws } from '../../local/aws/server.js';

const ACCOUNT = '000000000000';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/certpipe-CheckExpiry`;
const ROOT = { accessKeyId: ACCOUNT, secretAccessKey: 'test' };

const dataDir = fs.mkdtempSync(`${os.tmpdir()}/certpipe-`);
let aws: LocalAws;

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    isTTY: false,
    env: { AWS_ENDPOINT_URL: aws.url, CERTPIPE_DATA_DIR: dataDir },
  };
  return { code: await run(argv, io), stdout, stderr };
}

beforeAll(async () => {
  aws = await startLocalAws({ port: 0, dataDir, iamMode: 'enforce' });
  const policies = [
    { name: 'inventory', document: { Version: '2012-10-17', Statement: [
      { Sid: 'ListCertificateSecrets', Effect: 'Allow', Action: 'secretsmanager:ListSecrets', Resource: '*' },
      { Sid: 'NeverUsed', Effect: 'Allow', Action: 'acm:ListCertificates', Resource: '*' },
    ] } },
  ];
  await fetch(`${aws.url}/_certpipe/iam/roles`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ roleArn: ROLE, policies }) });
  const c = (await new STSClient({ endpoint: aws.url, region: 'us-east-1', credentials: ROOT }).send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'CheckExpiry' }))).Credentials!;
  const secrets = new SecretsManagerClient({ endpoint: aws.url, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! } });
  await secrets.send(new ListSecretsCommand({}));
  await secrets.send(new ListSecretsCommand({}));
  await expect(secrets.send(new GetSecretValueCommand({ SecretId: 'team/database' }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
}, 30_000);

afterAll(async () => {
  await aws?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('certpipe iam report --local', () => {
  it('--json: used actions with their statement, denials, unused statements', async () => {
    const { code, stdout } = await cli(['iam', 'report', '--local', '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as IamReport;
    expect(report.mode).toBe('enforce');
    expect(report.roles).toEqual([
      {
        roleArn: ROLE,
        used: [{ action: 'secretsmanager:ListSecrets', statement: 'inventory#ListCertificateSecrets', calls: 2 }],
        denied: [{ action: 'secretsmanager:GetSecretValue', resource: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:team/database-xxxxxx`, calls: 1 }],
        unusedStatements: ['inventory#NeverUsed'],
      },
    ]);
  });

  it('as text: one block per role', async () => {
    const { code, stdout } = await cli(['iam', 'report', '--local']);
    expect(code).toBe(0);
    expect(stdout).toContain(ROLE);
    expect(stdout).toMatch(/secretsmanager:ListSecrets\s+│\s+inventory#ListCertificateSecrets\s+│\s+2/);
    expect(stdout).toContain('denied: secretsmanager:GetSecretValue on arn:aws:secretsmanager:us-east-1:000000000000:secret:team/database-xxxxxx (1 call)');
    expect(stdout).toContain('unused: inventory#NeverUsed (least-privilege candidate)');
  });

  it('refuses a deployed stack: AWS keeps no decision log', async () => {
    const { code, stderr } = await cli(['iam', 'report', '--stack', 'Certpipe']);
    expect(code).toBe(2);
    expect(stderr).toContain('--local');
  });
});
