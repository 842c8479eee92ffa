// The ACME front: transparent to clients (Pebble's URLs name the front, because
// Host passes through), a knob with clear errors, and faults that fire exactly
// as often as asked, with the problem document and Retry-After a CA would send.
import https from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resourceOf } from '../../local/pebble/acme-front/faults.js';
import { startAcmeFront, type AcmeFront } from '../../local/pebble/acme-front/front.js';
import { startTestCloud, type TestCloud } from '../support/cloud.js';

function request(front: AcmeFront, ca: string, method: string, path: string, body?: string, contentType = 'application/json') {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    const req = https.request(`${front.url}${path}`, { method, ca, headers: body !== undefined ? { 'content-type': contentType } : {} }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('ACME front for Pebble', () => {
  let cloud: TestCloud;
  let front: AcmeFront;
  let ca: string;

  beforeAll(async () => {
    cloud = await startTestCloud({ pebble: true });
    ca = cloud.pebbleCaPem!;
    front = await startAcmeFront({
      upstream: new URL(cloud.directoryUrl!).origin,
      certPath: join(cloud.dataDir, 'pebble', 'tls-cert.pem'),
      keyPath: join(cloud.dataDir, 'pebble', 'tls-key.pem'),
      caPem: ca,
    });
  }, 60_000);

  afterAll(async () => {
    await front?.close();
    await cloud?.close();
  });

  it("passes the directory through with the front's own host in every URL (Host is kept)", async () => {
    const res = await request(front, ca, 'GET', '/dir');
    expect(res.status).toBe(200);
    const dir = JSON.parse(res.body) as Record<string, unknown>;
    expect(dir.newOrder).toBe(`${front.url}/order-plz`);
    expect(dir.newNonce).toBe(`${front.url}/nonce-plz`);
  });

  it('the knob names the field and the fix for a bad fault, and wants JSON', async () => {
    expect((await request(front, ca, 'POST', '/_certpipe/acme/faults', '{"request":"newOrdr","status":429}')).body).toMatch(/request: expected one of .*newOrder/);
    expect((await request(front, ca, 'POST', '/_certpipe/acme/faults', '{"request":"newOrder","status":200}')).body).toMatch(/status: expected an HTTP error status/);
    expect((await request(front, ca, 'POST', '/_certpipe/acme/faults', '{"request":"newOrder","status":429}', 'text/plain')).status).toBe(415);
    expect(front.faults).toEqual([]);
  });

  it('answers the next N matching requests with the status, an ACME problem and Retry-After, then passes through again', async () => {
    const set = await request(front, ca, 'POST', '/_certpipe/acme/faults', JSON.stringify({ request: 'newNonce', status: 503, retryAfter: 7, count: 2 }));
    expect(set.status).toBe(200);
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await request(front, ca, 'HEAD', '/nonce-plz'));
    expect(answers.map((a) => a.status)).toEqual([503, 503, 200]);
    expect(answers[0]!.headers['retry-after']).toBe('7');
    expect(answers[2]!.headers['replay-nonce']).toBeTruthy();
    const listed = JSON.parse((await request(front, ca, 'GET', '/_certpipe/acme/faults')).body) as { faults: { hits: number }[]; requests: { resource: string; injected: boolean }[] };
    expect(listed.faults[0]!.hits).toBe(2);
    expect(listed.requests.filter((r) => r.resource === 'newNonce').map((r) => r.injected)).toEqual([true, true, false]);

    front.addFault({ request: 'newOrder', status: 429, retryAfter: 30 });
    const problem = await request(front, ca, 'POST', '/order-plz', '{}', 'application/jose+json');
    expect(problem.status).toBe(429);
    expect(problem.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(problem.body)).toMatchObject({ type: 'urn:ietf:params:acme:error:rateLimited', status: 429 });
    expect((await request(front, ca, 'DELETE', '/_certpipe/acme/faults')).status).toBe(200);
    expect(front.faults).toEqual([]);
  });

  it.each([
    ['/order-plz', 'newOrder'],
    ['/sign-me-up', 'newAccount'],
    ['/finalize-order/abc', 'finalize'],
    ['/my-order/abc', 'order'],
    ['/authZ/abc', 'authz'],
    ['/chalZ/abc', 'chall'],
    ['/certZ/abc', 'cert'],
    ['/dir', 'directory'],
    ['/unknown', 'other'],
  ])('%s is the %s resource', (path, resource) => {
    expect(resourceOf(path)).toBe(resource);
  });
});
