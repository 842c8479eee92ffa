// What the local endpoint refuses before any service sees a request: a Host it
// does not listen on (DNS rebinding from a browser), a local-only route posted
// without application/json (a cross-site "simple" request), a body larger than
// AWS would take. Also: the fault injector counts what each rule answered.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { PutSecretValueCommand, CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalAws, type LocalAws } from '../../local/aws/server.js';
import { bodyLimitOf, hostAllowed } from '../../local/aws/request-guards.js';

const dataDir = fs.mkdtempSync(os.tmpdir() + '/certpipe-');
let server: LocalAws;

interface RawAnswer {
  status: number;
  body: string;
}

/** A request with exactly these headers (fetch will not send a foreign Host). */
function raw(method: string, path: string, headers: Record<string, string>, body?: string | Buffer): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const here = () => `127.0.0.1:${server.port}`;

function sm(): SecretsManagerClient {
  return new SecretsManagerClient({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: { accessKeyId: '000000000000', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
}

beforeAll(async () => {
  server = await startLocalAws({ port: 0, dataDir });
});

afterAll(async () => {
  await server?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('Host header (DNS rebinding)', () => {
  it.each([
    ['the address it listens on', { host: '127.0.0.1', port: 4566 }, '127.0.0.1:4566', true],
    ['localhost for a loopback listener', { host: '127.0.0.1', port: 4566 }, 'localhost:4566', true],
    ['localhost in capitals', { host: '127.0.0.1', port: 4566 }, 'LOCALHOST:4566', true],
    ['another port', { host: '127.0.0.1', port: 4566 }, '127.0.0.1:4567', false],
    ['a name that resolves to 127.0.0.1', { host: '127.0.0.1', port: 4566 }, 'attacker.example:4566', false],
    ['a subdomain of localhost', { host: '127.0.0.1', port: 4566 }, 'evil.localhost:4566', false],
    ['no port at all', { host: '127.0.0.1', port: 4566 }, '127.0.0.1', false],
    ['no Host', { host: '127.0.0.1', port: 4566 }, undefined, false],
    ['an IPv6 loopback listener', { host: '::1', port: 4566 }, '[::1]:4566', true],
    ['a wildcard listener, asked by IP', { host: '0.0.0.0', port: 4566 }, '192.0.2.7:4566', true],
    ['a wildcard listener, asked by name', { host: '0.0.0.0', port: 4566 }, 'attacker.example:4566', false],
    ['a listener on a named host', { host: 'aws.internal', port: 80 }, 'aws.internal', true],
  ])('%s', (_case, listen, hostHeader, allowed) => {
    expect(hostAllowed(hostHeader, listen)).toBe(allowed);
  });

  it('answers 421 naming the Host to a request for another name, and serves its own address and localhost', async () => {
    const foreign = await raw('GET', '/_certpipe/health', { host: `attacker.example:${server.port}` });
    expect(foreign.status).toBe(421);
    expect(foreign.body).toContain('attacker.example');
    expect(foreign.body).toContain(here());

    // An AWS call under a foreign Host is refused before any service runs.
    const signed = await raw(
      'POST',
      '/',
      {
        host: `attacker.example:${server.port}`,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'secretsmanager.ListSecrets',
        authorization: 'AWS4-HMAC-SHA256 Credential=000000000000/20250101/us-east-1/secretsmanager/aws4_request, Signature=x',
      },
      '{}',
    );
    expect(signed.status).toBe(421);

    expect((await raw('GET', '/_certpipe/health', { host: here() })).status).toBe(200);
    expect((await raw('GET', '/_certpipe/health', { host: `localhost:${server.port}` })).status).toBe(200);
  });
});

describe('local-only routes take JSON only', () => {
  it('a POST without application/json is 415 and changes nothing; with it, the fault is added', async () => {
    const rule = JSON.stringify({ service: 'acm', error: 'ThrottlingException', count: 1 });
    for (const contentType of [undefined, 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const headers: Record<string, string> = { host: here() };
      if (contentType) headers['content-type'] = contentType;
      const answer = await raw('POST', '/_certpipe/faults', headers, rule);
      expect(answer.status, contentType).toBe(415);
      expect(answer.body).toContain('application/json');
    }
    expect(server.faults.list()).toEqual([]);

    const settingsBefore = JSON.stringify(server.cloud.settings);
    const settings = await raw('POST', '/_certpipe/settings', { host: here(), 'content-type': 'text/plain' }, '{"dnsLagMs":99}');
    expect(settings.status).toBe(415);
    expect(JSON.stringify(server.cloud.settings)).toBe(settingsBefore);

    const accepted = await raw('POST', '/_certpipe/faults', { host: here(), 'content-type': 'application/json; charset=utf-8' }, rule);
    expect(accepted.status).toBe(201);
    server.faults.clear();
  });
});

describe('request size limits', () => {
  it('has a limit per service, the largest being what an ACM import with a full chain needs', () => {
    expect(bodyLimitOf('secretsmanager')).toBeGreaterThanOrEqual(Math.ceil(65_536 / 3) * 4);
    expect(bodyLimitOf('acm')).toBeGreaterThan(Math.ceil((2_097_152 + 32_768 + 5_120) / 3) * 4);
    expect(bodyLimitOf('secretsmanager')).toBeLessThan(bodyLimitOf('acm'));
  });

  it('a body over the service limit is 413, not buffered into a service, and never echoed', async () => {
    const big = 'x'.repeat(bodyLimitOf('secretsmanager') + 1);
    const answer = await raw(
      'POST',
      '/',
      {
        host: here(),
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'secretsmanager.CreateSecret',
        authorization: 'AWS4-HMAC-SHA256 Credential=000000000000/20250101/us-east-1/secretsmanager/aws4_request, Signature=x',
      },
      JSON.stringify({ Name: 'too-big', SecretString: big }),
    );
    expect(answer.status).toBe(413);
    expect(answer.body).toContain('RequestEntityTooLarge');
    expect(answer.body).not.toContain('xxxxxxxx');
    expect(answer.body.length).toBeLessThan(1000);
    const err = await sm().send(new CreateSecretCommand({ Name: 'too-big', SecretString: big })).catch((e: Error & { $metadata?: { httpStatusCode?: number } }) => e);
    expect((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(413);
  });

  it('a body within the limit still reaches the service', async () => {
    await sm().send(new CreateSecretCommand({ Name: 'fits', SecretString: 's'.repeat(65_536) }));
    await sm().send(new PutSecretValueCommand({ SecretId: 'fits', SecretString: 't'.repeat(65_536) }));
  });

  it('local-only routes have a limit too', async () => {
    const answer = await raw('POST', '/_certpipe/faults', { host: here(), 'content-type': 'application/json' }, ' '.repeat(bodyLimitOf('_certpipe') + 1));
    expect(answer.status).toBe(413);
  });
});

describe('fault hits', () => {
  it('GET /_certpipe/faults shows how many calls each rule answered; DELETE returns the cleared rules with their hits', async () => {
    const add = (rule: object) => raw('POST', '/_certpipe/faults', { host: here(), 'content-type': 'application/json' }, JSON.stringify(rule));
    expect((await add({ service: 'secretsmanager', operation: 'DescribeSecret', error: 'ThrottlingException', count: 2 })).status).toBe(201);
    expect((await add({ service: 'secretsmanager', operation: 'GetSecretValue', latencyMs: 1 })).status).toBe(201);
    expect((await add({ service: 'acm', error: 'ThrottlingException' })).status).toBe(201);
    const client = sm();
    for (let i = 0; i < 3; i++) await client.send(new PutSecretValueCommand({ SecretId: 'fits', SecretString: `v${i}` })).catch(() => {});
    const { DescribeSecretCommand, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
    for (let i = 0; i < 3; i++) await client.send(new DescribeSecretCommand({ SecretId: 'fits' })).catch(() => {});
    await client.send(new GetSecretValueCommand({ SecretId: 'fits' }));

    const listed = JSON.parse((await raw('GET', '/_certpipe/faults', { host: here() })).body) as { faults: { rule: { operation?: string }; hits: number }[] };
    expect(listed.faults.map((f) => [f.rule.operation ?? '*', f.hits])).toEqual([
      ['DescribeSecret', 2],
      ['GetSecretValue', 1],
      ['*', 0],
    ]);

    const cleared = JSON.parse((await raw('DELETE', '/_certpipe/faults', { host: here() })).body) as { faults: unknown[]; cleared: { hits: number }[] };
    expect(cleared.faults).toEqual([]);
    expect(cleared.cleared.map((f) => f.hits)).toEqual([2, 1, 0]);
    expect(server.faults.list()).toEqual([]);
  });
});
