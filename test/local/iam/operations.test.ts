// The operation table: every operation a local service dispatches has a row,
// README.md shows the table as it is, each row builds a request the evaluator
// accepts (a real action, a resource of the right type, condition keys AWS
// defines for it), and the Route 53 keys are normalised as AWS documents.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { describe, expect, it } from 'vitest';
import {
  authorizationRequest,
  changeBatchContext,
  normalizedRecordName,
  OPERATIONS,
  operationsMarkdown,
  UnmappedOperation,
  type OperationInput,
  type ResourceTags,
} from '../../../local/aws/iam/operations.js';
import { operationInput } from '../../../local/aws/iam/request-input.js';

const LOCAL = join(import.meta.dirname, '../../../local');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** The keys of the object literal opened at `start` (the `{`), at its top level only. */
function topLevelKeys(text: string, start: number): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = start; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '{' || ch === '(' || ch === '[') {
      depth++;
      expectKey = depth === 1;
      continue;
    }
    if (ch === '}' || ch === ')' || ch === ']') {
      depth--;
      if (depth === 0) break;
      continue;
    }
    if (depth === 1 && ch === ',') expectKey = true;
    else if (expectKey && ch.trim() !== '') {
      expectKey = false;
      const key = /^(?:async\s+)?([A-Z][A-Za-z0-9]*)\s*[:(]/.exec(text.slice(i));
      if (key) keys.push(key[1]!);
    }
  }
  return keys;
}

/** `<signing name> <Operation>` for every operation map (`operations: {` / `const operations … = {`) under local/. */
function dispatchedOperations(): string[] {
  const found: string[] = [];
  for (const file of sourceFiles(LOCAL)) {
    const text = readFileSync(file, 'utf8');
    const signingName = /signingName: '([\w-]+)'/.exec(text)?.[1];
    for (const m of text.matchAll(/\boperations(?::\s*Record<[^>]+>)?\s*[:=]\s*\{/g)) {
      if (!signingName) throw new Error(`${file} has an operation map but no signingName`);
      for (const op of topLevelKeys(text, m.index! + m[0].length - 1)) found.push(`${signingName} ${op}`);
    }
  }
  return found.sort();
}

const tableKeys = () => OPERATIONS.map((r) => `${r.service} ${r.operation}`);

describe('the operation table', () => {
  it('has a row for every operation the local services dispatch', () => {
    const dispatched = dispatchedOperations();
    expect(dispatched.length).toBeGreaterThan(30);
    expect(dispatched.filter((op) => !tableKeys().includes(op))).toEqual([]);
  });

  it('has no row for an operation nothing serves (besides the Task state\'s Lambda invoke)', () => {
    const dispatched = new Set(dispatchedOperations());
    expect(tableKeys().filter((op) => !dispatched.has(op))).toEqual(['lambda Invoke']);
  });

  it('is what local/aws/iam/README.md shows', () => {
    expect(readFileSync(join(LOCAL, 'aws/iam/README.md'), 'utf8')).toContain(operationsMarkdown());
  });

  it('refuses to authorize an operation it does not know', () => {
    expect(() => authorizationRequest('acm', 'ExportCertificate', { protocol: 'json', body: {} }, { accountId: '000000000000', region: 'us-east-1' })).toThrow(UnmappedOperation);
  });
});

const ACCOUNT = '000000000000';
const SCOPE = { accountId: ACCOUNT, region: 'us-east-1' };
const SAMPLE_BODY = {
  SecretId: 'certpipe/web',
  Name: 'certpipe/web',
  Rule: 'drift',
  Tags: [{ Key: 'certpipe:managed', Value: 'true' }],
  KmsKeyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
  VersionId: 'v1',
  VersionStage: 'AWSCURRENT',
  TagKeys: ['certpipe:lock'],
  RecoveryWindowInDays: 7,
  ForceDeleteWithoutRecovery: false,
  BlockPublicPolicy: true,
  CertificateArn: `arn:aws:acm:us-east-1:${ACCOUNT}:certificate/0f1e2d3c-0000-4000-8000-000000000001`,
  Entries: [{ EventBusName: 'default' }, { EventBusName: `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/other` }],
  Namespace: 'Certpipe',
  name: 'renewal',
  tags: [{ key: 'certpipe:stack', value: 'Certpipe' }],
  stateMachineArn: `arn:aws:states:us-east-1:${ACCOUNT}:stateMachine:renewal`,
  executionArn: `arn:aws:states:us-east-1:${ACCOUNT}:execution:renewal:run-1`,
  FunctionName: 'CheckExpiry',
  AlarmName: 'ExecutionsFailed',
  AlarmNames: ['ExecutionsFailed'],
};
const ACCOUNT_KEY_POLICY = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' }] };
const STORES: ResourceTags = {
  find: (kind, id) => ({
    arn:
      kind === 'secret' ? `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:${id}-AbCdEf`
      : kind === 'kmsKey' ? `arn:aws:kms:us-east-1:${ACCOUNT}:key/${id}`
      : id,
    tags: { 'certpipe:managed': 'true' },
    kmsKeyId: `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
  }),
};

function sampleInput(service: string): OperationInput {
  if (service === 's3') return { protocol: 'rest-xml', bucket: 'certpipe-fanout', key: 'due/run-1.json' };
  if (service === 'route53') return { protocol: 'rest-xml', id: '/hostedzone/Z1', changes: [{ action: 'CREATE', name: '_acme-challenge.example.com.', type: 'TXT' }] };
  if (service === 'sts') return { protocol: 'query', params: new URLSearchParams({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/r`, RoleSessionName: 's', ExternalId: 'x-1' }) };
  if (service === 'sns') return { protocol: 'query', params: new URLSearchParams({ Name: 'alarms', TopicArn: `arn:aws:sns:us-east-1:${ACCOUNT}:alarms` }) };
  return { protocol: 'json', body: SAMPLE_BODY };
}

describe.each(OPERATIONS.map((r) => [`${r.service} ${r.operation}`, r] as const))('%s', (_key, rule) => {
  it('builds a request the evaluator accepts: a known action, a resource of its type, condition keys AWS defines for it', async () => {
    const request = authorizationRequest(rule.service, rule.operation, sampleInput(rule.service), SCOPE, STORES);
    expect(request.action).toBe(rule.action);
    for (const part of [request, ...(request.onBehalf ?? [])]) {
      for (const resource of part.resources) {
        const result = await runSimulation(
          {
            request: { principal: `arn:aws:iam::${ACCOUNT}:role/probe`, action: part.action, resource: { resource, accountId: part.resourceAccountId }, contextVariables: { ...part.context } },
            identityPolicies: [{ name: 'all', policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] } }],
            serviceControlPolicies: [],
            resourceControlPolicies: [],
            // A KMS key is usable only when its key policy says so: this one hands it to the account's IAM policies.
            ...(part.resourcePolicy === 'kms-key' ? { resourcePolicy: ACCOUNT_KEY_POLICY } : {}),
          },
          {},
        );
        expect(result.resultType === 'error' ? result.errors.message : 'ok').toBe('ok');
        if (result.resultType === 'single') expect(result.result.ignoredContextKeys ?? []).toEqual([]);
        expect(result.resultType === 'error' ? undefined : result.overallResult).toBe('Allowed');
      }
    }
  });
});

describe('Route 53 condition keys', () => {
  it.each([
    ['Example.COM.', 'example.com'],
    ['_ACME-Challenge.www.example.com', '_acme-challenge.www.example.com'],
    ['*.example.com', '\\052.example.com'],
    ['\\052.example.com.', '\\052.example.com'],
    ['a b.example.com', 'a\\040b.example.com'],
  ])('normalises %j as %j (lower case, no trailing dot, octal escapes)', (name, expected) => {
    expect(normalizedRecordName(name)).toBe(expected);
  });

  it('sets the distinct names, types and actions of the batch', () => {
    expect(
      changeBatchContext([
        { action: 'DELETE', name: '_acme-challenge.example.com.', type: 'TXT' },
        { action: 'CREATE', name: '_acme-challenge.example.com', type: 'TXT' },
        { action: 'CREATE', name: 'www.example.com', type: 'A' },
      ]),
    ).toEqual({
      'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['_acme-challenge.example.com', 'www.example.com'],
      'route53:ChangeResourceRecordSetsRecordTypes': ['TXT', 'A'],
      'route53:ChangeResourceRecordSetsActions': ['DELETE', 'CREATE'],
    });
  });
});

describe('requests built from the input', () => {
  it('authorizes a secret not created yet at <name>-<six characters>, which a name-?????? policy matches, with its request tags', () => {
    const request = authorizationRequest('secretsmanager', 'CreateSecret', { protocol: 'json', body: { Name: 'certpipe/web', Tags: [{ Key: 'certpipe:managed', Value: 'true' }] } }, SCOPE);
    expect(request.resources).toEqual([`arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:certpipe/web-xxxxxx`]);
    expect(request.context).toMatchObject({ 'aws:RequestTag/certpipe:managed': 'true', 'aws:TagKeys': ['certpipe:managed'] });
  });

  it('takes a stored secret\'s full ARN and tags from the port, and adds the KMS call Secrets Manager makes with its key', () => {
    const request = authorizationRequest('secretsmanager', 'GetSecretValue', { protocol: 'json', body: { SecretId: 'certpipe/web' } }, SCOPE, STORES);
    expect(request.resources).toEqual([`arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:certpipe/web-AbCdEf`]);
    expect(request.context).toMatchObject({ 'aws:ResourceTag/certpipe:managed': 'true' });
    expect(request.onBehalf).toEqual([
      expect.objectContaining({ action: 'kms:Decrypt', resourcePolicy: 'kms-key', context: { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com', 'kms:CallerAccount': ACCOUNT } }),
    ]);
  });

  it('authorizes AssumeRole in the role\'s account with sts:ExternalId, against the trust policy', () => {
    const params = new URLSearchParams({ RoleArn: 'arn:aws:iam::222222222222:role/certpipe-target', RoleSessionName: 's', ExternalId: 'e-1' });
    expect(authorizationRequest('sts', 'AssumeRole', { protocol: 'query', params }, SCOPE)).toMatchObject({
      resources: ['arn:aws:iam::222222222222:role/certpipe-target'],
      resourceAccountId: '222222222222',
      context: { 'sts:ExternalId': 'e-1' },
      resourcePolicy: 'role-trust',
    });
  });

  it('authorizes PutEvents on each event bus its entries name', () => {
    const request = authorizationRequest('events', 'PutEvents', { protocol: 'json', body: { Entries: [{}, { EventBusName: 'audit' }, {}] } }, SCOPE);
    expect(request.resources).toEqual([`arn:aws:events:us-east-1:${ACCOUNT}:event-bus/default`, `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/audit`]);
  });
});

describe('every row is reachable through the request path', () => {
  // The gate reads a request as its service's protocol family; a service read as the
  // wrong family finds no row (SNS, read as JSON, was refused every CreateTopic).
  it.each(OPERATIONS.map((r) => [r.service, r.operation] as const))('%s %s', (service, operation) => {
    const req = { method: 'POST', path: '/', query: new URLSearchParams({ Action: operation }), headers: {}, body: Buffer.from(service === 'route53' ? '' : '{}') };
    const input = operationInput(service, operation, req);
    try {
      authorizationRequest(service, operation, input, { accountId: '000000000000', region: 'us-east-1' });
    } catch (err) {
      expect(err).not.toBeInstanceOf(UnmappedOperation);
    }
  });
});
