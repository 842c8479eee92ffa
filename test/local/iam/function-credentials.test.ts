// A local function calls with temporary credentials of its execution role, as
// Lambda gives them (key, secret and session token in its environment), and a
// sandbox whose credentials near their expiry is replaced by a fresh one.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invokeFunction, registerFunction } from '../../../local/aws/services/lambda/registry.js';
import { startLocalAws, type LocalAws } from '../../../local/aws/server.js';

const ACCOUNT = '000000000000';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/certpipe-CheckExpiry`;
const entry = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/lambdas/caller-identity.ts');

const dataDir = fs.mkdtempSync(`${os.tmpdir()}/certpipe-`);
let aws: LocalAws;

interface Seen {
  arn: string;
  accessKeyId: string;
  hasSessionToken: boolean;
  invocations: number;
}

async function invoke(name: string): Promise<Seen> {
  const result = await invokeFunction(aws.url, name, {});
  if (!result.ok) throw new Error(`${result.errorType}: ${result.errorMessage}`);
  return result.payload as Seen;
}

beforeAll(async () => {
  aws = await startLocalAws({ port: 0, dataDir, iamMode: 'enforce' });
  const res = await fetch(`${aws.url}/_certpipe/iam/roles`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ roleArn: ROLE, trustPolicy: { Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] }, policies: [] }),
  });
  expect(res.status).toBe(201);
  await registerFunction(aws.url, { functionName: 'with-role', accountId: ACCOUNT, entry, roleArn: ROLE });
  await registerFunction(aws.url, { functionName: 'without-role', accountId: ACCOUNT, entry });
}, 60_000);

afterAll(async () => {
  await aws?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('function credentials', () => {
  it('a function with a role calls as that role with temporary credentials, never the root', async () => {
    const seen = await invoke('with-role');
    expect(seen).toMatchObject({ arn: `arn:aws:sts::${ACCOUNT}:assumed-role/certpipe-CheckExpiry/with-role`, hasSessionToken: true });
    expect(seen.accessKeyId).toMatch(/^ASIA/);
    const decisions = ((await (await fetch(`${aws.url}/_certpipe/iam/decisions`)).json()) as { decisions: Array<{ principal: string; action: string }> }).decisions;
    expect(decisions).toContainEqual(expect.objectContaining({ principal: seen.arn, action: 'sts:GetCallerIdentity' }));
  });

  it('a function registered without a role still calls as its account root (until the local deploy names roles)', async () => {
    expect(await invoke('without-role')).toMatchObject({ arn: `arn:aws:iam::${ACCOUNT}:root`, accessKeyId: ACCOUNT, hasSessionToken: false });
  });

  it('a warm sandbox whose credentials expire within minutes is replaced, with new credentials', async () => {
    await registerFunction(aws.url, { functionName: 'short-lived', accountId: ACCOUNT, entry, roleArn: ROLE });
    const realNow = aws.cloud.now;
    // Credentials issued 55 minutes ago (they last an hour): 5 minutes left.
    (aws.cloud as { now: () => Date }).now = () => new Date(Date.now() - 55 * 60_000);
    let first: Seen;
    try {
      first = await invoke('short-lived');
    } finally {
      (aws.cloud as { now: () => Date }).now = realNow;
    }
    const second = await invoke('short-lived');
    expect(second.accessKeyId).toMatch(/^ASIA/);
    expect(second.accessKeyId).not.toBe(first.accessKeyId);
    expect(second.invocations).toBe(1);
    // A sandbox with fresh credentials stays warm.
    expect((await invoke('short-lived')).invocations).toBe(2);
  });
});
