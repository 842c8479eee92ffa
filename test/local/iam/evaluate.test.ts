// The evaluator's own rules, with small policies: the account root, the
// local-only AssumeRole rule, cross-account, explicit denies, and how the
// decisive statement is cited.
import { describe, expect, it } from 'vitest';
import { authorize, evaluate, principalArn, ROOT_ASSUMES_OWN_ROLE, ROOT_OWN_ACCOUNT, type Principal } from '../../../local/aws/iam/evaluate.js';

const A = '111111111111';
const B = '222222222222';
const rootA: Principal = { kind: 'root', accountId: A };
const role = (statements: Record<string, unknown>[], account = A): Principal => ({
  kind: 'role',
  roleArn: `arn:aws:iam::${account}:role/service/worker`,
  sessionName: 'run-1',
  policies: [{ name: 'inline', document: { Version: '2012-10-17', Statement: statements } }],
});
const secretIn = (account: string) => `arn:aws:secretsmanager:eu-west-1:${account}:secret:app-AbCdEf`;
const read = { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: 'arn:aws:secretsmanager:eu-west-1:*:secret:app-??????' };
const call = (principal: Principal, resource: string, extra: Partial<Parameters<typeof evaluate>[0]> = {}) =>
  evaluate({ principal, action: 'secretsmanager:GetSecretValue', resource, resourceAccountId: resource.split(':')[4]!, context: {}, ...extra });

describe('principals', () => {
  it('names a role session as AWS does (the role path dropped) and a root by its account', () => {
    expect(principalArn(role([]))).toBe(`arn:aws:sts::${A}:assumed-role/worker/run-1`);
    expect(principalArn(rootA)).toBe(`arn:aws:iam::${A}:root`);
  });
});

describe('the account root', () => {
  it('may do anything in its own account', async () => {
    expect(await call(rootA, secretIn(A))).toMatchObject({ decision: 'allowed', statement: ROOT_OWN_ACCOUNT });
  });

  it('may assume any role of its own account (the local-only rule), but not one of another account that does not trust it', async () => {
    const assume = (roleArn: string, trust?: Record<string, unknown>[]) =>
      evaluate({
        principal: rootA,
        action: 'sts:AssumeRole',
        resource: roleArn,
        resourceAccountId: roleArn.split(':')[4]!,
        context: {},
        ...(trust ? { resourcePolicy: { name: 'trust', document: { Version: '2012-10-17', Statement: trust } } } : {}),
      });
    expect(await assume(`arn:aws:iam::${A}:role/certpipe-PlaceChallenges`)).toMatchObject({ decision: 'allowed', statement: ROOT_ASSUMES_OWN_ROLE });
    const trustsOther = [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::333333333333:root` }, Action: 'sts:AssumeRole' }];
    expect((await assume(`arn:aws:iam::${B}:role/target`, trustsOther)).decision).toBe('denied');
    const trustsA = [{ Sid: 'TrustA', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:root` }, Action: 'sts:AssumeRole' }];
    expect(await assume(`arn:aws:iam::${B}:role/target`, trustsA)).toMatchObject({ decision: 'allowed' });
  });
});

describe('a role', () => {
  it('is allowed by the statement that matches, cited by Sid, else by index', async () => {
    expect(await call(role([{ Sid: 'ReadApp', ...read }]), secretIn(A))).toMatchObject({ decision: 'allowed', statement: 'inline#ReadApp' });
    expect(await call(role([{ Effect: 'Allow', Action: 'sts:GetCallerIdentity', Resource: '*' }, read]), secretIn(A))).toMatchObject({ statement: 'inline#1' });
  });

  it('is denied when nothing allows, with the reason AWS gives', async () => {
    expect(await call(role([]), secretIn(A))).toMatchObject({ decision: 'denied', reason: 'no-identity-allow' });
  });

  it('is denied by an explicit deny even when a statement allows, which it cites', async () => {
    const deny = { Sid: 'NoApp', Effect: 'Deny', Action: 'secretsmanager:*', Resource: '*' };
    expect(await call(role([read, deny]), secretIn(A))).toMatchObject({ decision: 'denied', reason: 'identity-deny', statement: 'inline#NoApp' });
  });

  it('needs the resource policy as well across accounts, and either one within its account', async () => {
    const policy = (principal: string) => ({
      name: 'secret-policy',
      document: { Version: '2012-10-17', Statement: [{ Sid: 'Share', Effect: 'Allow', Principal: { AWS: principal }, Action: 'secretsmanager:GetSecretValue', Resource: '*' }] },
    });
    const reader = role([read]);
    expect(await call(reader, secretIn(B))).toMatchObject({ decision: 'denied', reason: 'no-resource-allow' });
    expect(await call(reader, secretIn(B), { resourcePolicy: policy(`arn:aws:iam::${A}:role/service/worker`) })).toMatchObject({ decision: 'allowed' });
    expect((await call(role([]), secretIn(B), { resourcePolicy: policy(`arn:aws:iam::${A}:role/service/worker`) })).decision).toBe('denied');
    expect(await call(role([]), secretIn(A), { resourcePolicy: policy(`arn:aws:iam::${A}:role/service/worker`) })).toMatchObject({ decision: 'allowed', statement: 'secret-policy#Share' });
  });

  it('sets aws:PrincipalArn to the role ARN, so a trust policy can name the role', async () => {
    const trust = {
      name: 'trust',
      document: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:root` }, Action: 'sts:AssumeRole', Condition: { ArnEquals: { 'aws:PrincipalArn': `arn:aws:iam::${A}:role/service/worker` } } }],
      },
    };
    const assumer = role([{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }]);
    const target = `arn:aws:iam::${B}:role/target`;
    expect((await evaluate({ principal: assumer, action: 'sts:AssumeRole', resource: target, resourceAccountId: B, context: {}, resourcePolicy: trust })).decision).toBe('allowed');
    const other = { ...assumer, roleArn: `arn:aws:iam::${A}:role/other` } as Principal;
    expect((await evaluate({ principal: other, action: 'sts:AssumeRole', resource: target, resourceAccountId: B, context: {}, resourcePolicy: trust })).decision).toBe('denied');
  });
});

describe('authorize (a whole call)', () => {
  it('needs every resource and every call made on the caller\'s behalf, and reports the first denial', async () => {
    const reader = role([read]);
    const key = `arn:aws:kms:eu-west-1:${A}:key/k1`;
    const request = {
      action: 'secretsmanager:GetSecretValue',
      resources: [secretIn(A)],
      resourceAccountId: A,
      context: {},
      onBehalf: [{ action: 'kms:Decrypt', resources: [key], resourceAccountId: A, context: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' }, resourcePolicy: 'kms-key' as const }],
    };
    const keyPolicy = { name: 'key-policy', document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:root` }, Action: 'kms:*', Resource: '*' }] } };
    expect(await authorize(reader, request, () => keyPolicy)).toMatchObject({ decision: 'denied', action: 'kms:Decrypt', resource: key });
    const withKey = role([read, { Sid: 'Key', Effect: 'Allow', Action: 'kms:Decrypt', Resource: key, Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } } }]);
    expect(await authorize(withKey, request, () => keyPolicy)).toMatchObject({ decision: 'allowed', action: 'secretsmanager:GetSecretValue', statement: 'inline#0' });
  });

  it('refuses AssumeRole of a role whose trust policy is unknown', async () => {
    const assumer = role([{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }]);
    const request = { action: 'sts:AssumeRole', resources: [`arn:aws:iam::${A}:role/x`], resourceAccountId: A, context: {}, resourcePolicy: 'role-trust' as const };
    expect(await authorize(assumer, request)).toMatchObject({ decision: 'denied', reason: 'no-resource-allow' });
  });

  it('allows what AWS requires no permission for', async () => {
    const request = { action: 'sts:GetCallerIdentity', resources: ['*'], resourceAccountId: A, context: {}, alwaysAllowed: true as const };
    expect(await authorize(role([]), request)).toMatchObject({ decision: 'allowed' });
  });
});
