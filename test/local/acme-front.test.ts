// The ACME front before Pebble, as the local cloud starts it: the directory it
// serves is Pebble's plus renewalInfo and meta.profiles; renewalInfo answers for the
// certificates issued through it (RFC 9773, Let's Encrypt's default window and
// Retry-After); newOrder's `replaces` is checked as Let's Encrypt checks it and
// Pebble 2.4 accepts the order with `replaces` and `profile` in the signed payload;
// the knobs on the AWS endpoint move a window, inject faults and list the orders.
// Pebble runs with PEBBLE_VA_ALWAYS_VALID: these tests are about the front, not DNS-01.
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import acme from 'acme-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AcmeSession } from '../../functions/lib/acme.js';
import { ariCertId } from '../../functions/lib/acme/ari.js';
import { resourceOf } from '../../local/pebble/acme-front/faults.js';
import { defaultWindow } from '../../local/pebble/acme-front/renewalInfo.js';
import { startTestCloud, type TestCloud } from '../support/cloud.js';

interface Answer {
  status: number;
  headers: Record<string, unknown>;
  body: string;
}

function get(url: string, ca: string, method = 'GET', body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, ca, headers: body === undefined ? {} : { 'content-type': 'application/jose+json' } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function knob(cloud: TestCloud, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Answer & { json: any }> {
  const res = await fetch(`${cloud.url}/_certpipe/acme/${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': contentType },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: Object.fromEntries(res.headers), body: text, json: text ? JSON.parse(text) : undefined };
}

/** The ACME problem a rejected client call carried (acme-client keeps the type in its message). */
async function problemOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected the CA to refuse');
}

describe('the ACME front, as the local cloud runs it', () => {
  let cloud: TestCloud;
  let ca: string;
  let client: acme.Client;

  /** One order through the front, to the certificate (PEM chain). */
  async function issue(names: string[], extra: Record<string, unknown> = {}, as: acme.Client = client): Promise<string> {
    const client = as;
    const order = await client.createOrder({ identifiers: names.map((value) => ({ type: 'dns', value })), ...extra } as acme.Order & { identifiers: [] });
    for (const authz of await client.getAuthorizations(order)) {
      const challenge = authz.challenges.find((c) => c.type === 'dns-01')!;
      await client.completeChallenge(challenge);
      await client.waitForValidStatus(challenge);
    }
    const [, csr] = await acme.crypto.createCsr({ commonName: names[0]!, altNames: names });
    const finalized = await client.finalizeOrder(order, csr);
    return client.getCertificate(await client.waitForValidStatus(finalized));
  }

  beforeAll(async () => {
    cloud = await startTestCloud({ pebble: true, pebbleEnv: { PEBBLE_VA_ALWAYS_VALID: '1' } });
    ca = cloud.pebbleCaPem!;
    acme.axios.defaults.httpsAgent = new https.Agent({ ca });
    client = new acme.Client({ directoryUrl: cloud.directoryUrl!, accountKey: await acme.crypto.createPrivateKey() });
    await client.createAccount({ termsOfServiceAgreed: true });
  }, 60_000);

  afterAll(async () => {
    delete process.env.CERTPIPE_ACME_CA_BUNDLE;
    await cloud?.close();
  });

  it("is the cloud's directory: Pebble's URLs under the front's host, plus renewalInfo and Let's Encrypt's profiles", async () => {
    expect(cloud.directoryUrl).toBe(cloud.handle.acmeFront!.directoryUrl);
    expect(cloud.directoryUrl).not.toBe(cloud.handle.pebble!.directoryUrl);
    const dir = JSON.parse((await get(cloud.directoryUrl!, ca)).body) as Record<string, any>;
    const origin = new URL(cloud.directoryUrl!).origin;
    expect(dir.newOrder).toBe(`${origin}/order-plz`);
    expect(dir.renewalInfo).toBe(`${origin}/renewal-info`);
    expect(Object.keys(dir.meta.profiles)).toEqual(['classic', 'tlsserver', 'shortlived']);
    expect(dir.meta.termsOfService).toBeTruthy(); // Pebble's meta is kept
  });

  it("serves renewalInfo for a certificate issued through it: Let's Encrypt's default window, Retry-After 6 h; 404 for an unknown one", async () => {
    const pem = await issue(['ari.example.test']);
    const certId = ariCertId(pem);
    const leaf = new (await import('node:crypto')).X509Certificate(pem);
    const res = await get(`${cloud.directoryUrl!.replace(/\/dir$/, '')}/renewal-info/${certId}`, ca);
    expect(res.status).toBe(200);
    expect(res.headers['retry-after']).toBe('21600');
    const expected = defaultWindow(new Date(leaf.validFrom), new Date(leaf.validTo));
    expect(JSON.parse(res.body)).toEqual({ suggestedWindow: { start: expected.start.toISOString(), end: expected.end.toISOString() } });
    // 90 days: the window sits about 60 days in, ±0.9 days.
    expect((expected.start.getTime() - new Date(leaf.validFrom).getTime()) / 86_400_000).toBeCloseTo(59.1, 0);

    const unknown = await get(`${cloud.directoryUrl!.replace(/\/dir$/, '')}/renewal-info/AAAA.AAAA`, ca);
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body).type).toMatch(/^urn:ietf:params:acme:error:/);
  }, 60_000);

  it('checks replaces as Let\'s Encrypt does; Pebble accepts replaces and profile in the signed payload; a second replacement is alreadyReplaced', async () => {
    const old = await issue(['replace.example.test', 'www.replace.example.test']);
    const certId = ariCertId(old);
    expect(await problemOf(client.createOrder({ identifiers: [{ type: 'dns', value: 'replace.example.test' }], replaces: 'not a cert id' } as never))).toMatch(/malformed|certificate identifier/);
    expect(await problemOf(client.createOrder({ identifiers: [{ type: 'dns', value: 'replace.example.test' }], replaces: 'AAAA.AAAA' } as never))).toMatch(/no certificate AAAA.AAAA/);
    expect(await problemOf(client.createOrder({ identifiers: [{ type: 'dns', value: 'other.example.test' }], replaces: certId } as never))).toMatch(/shares no identifier/);
    expect(await problemOf(client.createOrder({ identifiers: [{ type: 'dns', value: 'replace.example.test' }], profile: 'longlived' } as never))).toMatch(/classic, tlsserver, shortlived/);

    const before = (await knob(cloud, 'GET', 'orders')).json.orders.length;
    const renewed = await issue(['replace.example.test'], { replaces: certId, profile: 'shortlived' });
    expect(ariCertId(renewed)).not.toBe(certId);
    const orders = (await knob(cloud, 'GET', 'orders')).json.orders;
    expect(orders.slice(before)).toEqual([{ time: expect.any(String), identifiers: ['replace.example.test'], profile: 'shortlived', replaces: certId }]);

    // Another account may not replace it (Let's Encrypt's 403).
    const other = new acme.Client({ directoryUrl: cloud.directoryUrl!, accountKey: await acme.crypto.createPrivateKey() });
    await other.createAccount({ termsOfServiceAgreed: true });
    const renewedId = ariCertId(renewed);
    expect(await problemOf(other.createOrder({ identifiers: [{ type: 'dns', value: 'replace.example.test' }], replaces: renewedId } as never))).toMatch(
      /requester account did not request the certificate being replaced/,
    );

    const again = await problemOf(client.createOrder({ identifiers: [{ type: 'dns', value: 'replace.example.test' }], replaces: certId } as never));
    expect(again).toMatch(/already been replaced/);
    // Refused orders never reach Pebble and are not listed.
    expect((await knob(cloud, 'GET', 'orders')).json.orders).toHaveLength(orders.length);
  }, 60_000);

  it("the functions' ACME session sends replaces to this CA, and orders again without it when the CA refuses it", async () => {
    const bundle = path.join(cloud.dataDir, 'front-ca.pem');
    fs.writeFileSync(bundle, ca);
    process.env.CERTPIPE_ACME_CA_BUNDLE = bundle;
    const session = await AcmeSession.open(
      { name: 'front', directoryUrl: cloud.directoryUrl!, accountSecretName: 'certpipe/acme/front' },
      new SecretsManagerClient(cloud.sdkConfig()),
    );
    expect(await session.renewalInfoUrl()).toBe(cloud.directoryUrl!.replace(/\/dir$/, '/renewal-info'));
    const old = ariCertId(await issue(['session.example.test']));
    await issue(['session.example.test'], { replaces: old }); // another client replaced it already
    const before = (await knob(cloud, 'GET', 'orders')).json.orders.length;

    const order = await session.createOrder(['session.example.test'], { replaces: old });
    expect(order.status).toBe('pending');
    // A certificate the session's own account ordered (a client signing with its stored key).
    const stored = JSON.parse((await new SecretsManagerClient(cloud.sdkConfig()).send(new GetSecretValueCommand({ SecretId: 'certpipe/acme/front' }))).SecretString!);
    const sessionsOwn = new acme.Client({ directoryUrl: cloud.directoryUrl!, accountKey: stored.accountKey, accountUrl: stored.accountUrl });
    const fresh = ariCertId(await issue(['session2.example.test'], {}, sessionsOwn));
    await session.createOrder(['session2.example.test'], { replaces: fresh });
    const forwarded = (await knob(cloud, 'GET', 'orders')).json.orders.slice(before) as { identifiers: string[]; replaces?: string }[];
    expect(forwarded.filter((o) => o.identifiers[0] === 'session.example.test').map((o) => o.replaces)).toEqual([undefined]);
    expect(forwarded.filter((o) => o.identifiers[0] === 'session2.example.test').map((o) => o.replaces)).toEqual([undefined, fresh]);

    // The session's account is not the one that ordered the certificate (the CA forgot the
    // account, or it was replaced), or the CA does not know the certificate: the CA refuses
    // `replaces`, and the session orders again without it instead of failing every renewal.
    const theirs = ariCertId(await issue(['session3.example.test'])); // issued to the test's own account
    const beforeRefusals = (await knob(cloud, 'GET', 'orders')).json.orders.length;
    expect((await session.createOrder(['session3.example.test'], { replaces: theirs })).status).toBe('pending');
    expect((await session.createOrder(['session4.example.test'], { replaces: 'AAAA.AAAA' })).status).toBe('pending');
    const refusedThenPlaced = (await knob(cloud, 'GET', 'orders')).json.orders.slice(beforeRefusals) as { identifiers: string[]; replaces?: string }[];
    expect(refusedThenPlaced.map((o) => [o.identifiers[0], o.replaces])).toEqual([
      ['session3.example.test', undefined],
      ['session4.example.test', undefined],
    ]);
  }, 60_000);

  it('the ari knob moves one certificate\'s window (a mass-revocation drill) and names the field it cannot use', async () => {
    const pem = await issue(['drill.example.test']);
    const serial = new (await import('node:crypto')).X509Certificate(pem).serialNumber;
    const start = new Date(Date.now() - 2 * 3600_000).toISOString();
    const end = new Date(Date.now() - 3600_000).toISOString();
    const moved = await knob(cloud, 'POST', 'ari', { serial: serial.toLowerCase(), start, end, explanationURL: 'https://example.test/incident' });
    expect(moved.status).toBe(200);
    const info = JSON.parse((await get(`${cloud.directoryUrl!.replace(/\/dir$/, '')}/renewal-info/${ariCertId(pem)}`, ca)).body);
    expect(info).toEqual({ suggestedWindow: { start, end }, explanationURL: 'https://example.test/incident' });

    expect((await knob(cloud, 'POST', 'ari', { serial: 'abc123', start, end })).status).toBe(404);
    expect((await knob(cloud, 'POST', 'ari', { serial, start: 'yesterday', end })).json.error).toMatch(/^start: expected an ISO 8601 time/);
    expect((await knob(cloud, 'POST', 'ari', { serial, start: end, end: start })).json.error).toMatch(/^end: must not be before start/);
  }, 60_000);

  it('the faults knob names the field and the fix for a bad fault, and wants JSON', async () => {
    expect((await knob(cloud, 'POST', 'faults', '{"request":"newOrdr","status":429}')).body).toMatch(/request: expected one of .*newOrder/);
    expect((await knob(cloud, 'POST', 'faults', '{"request":"newOrder","status":200}')).body).toMatch(/status: expected an HTTP error status/);
    expect((await knob(cloud, 'POST', 'faults', '{"request":"newOrder","status":429}', 'text/plain')).status).toBe(415);
    expect((await knob(cloud, 'GET', 'faults')).json.faults).toEqual([]);
  });

  it('answers the next N matching requests with the status, an ACME problem and Retry-After, then passes through again', async () => {
    const set = await knob(cloud, 'POST', 'faults', { request: 'newNonce', status: 503, retryAfter: 7, count: 2 });
    expect(set.status).toBe(200);
    const nonceUrl = `${cloud.directoryUrl!.replace(/\/dir$/, '')}/nonce-plz`;
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await get(nonceUrl, ca, 'HEAD'));
    expect(answers.map((a) => a.status)).toEqual([503, 503, 200]);
    expect(answers[0]!.headers['retry-after']).toBe('7');
    expect(answers[2]!.headers['replay-nonce']).toBeTruthy();
    const listed = (await knob(cloud, 'GET', 'faults')).json as { faults: { hits: number }[]; requests: { resource: string; injected: boolean }[] };
    expect(listed.faults[0]!.hits).toBe(2);
    expect(listed.requests.filter((r) => r.resource === 'newNonce').slice(-3).map((r) => r.injected)).toEqual([true, true, false]);

    await knob(cloud, 'POST', 'faults', { request: 'newOrder', status: 429, retryAfter: 30 });
    // A raw request: acme-client itself would wait out the Retry-After and ask again.
    const problem = await get(`${cloud.directoryUrl!.replace(/\/dir$/, '')}/order-plz`, ca, 'POST', '{}');
    expect(problem.status).toBe(429);
    expect(problem.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(problem.body)).toMatchObject({ type: 'urn:ietf:params:acme:error:rateLimited', status: 429 });
    const cleared = await knob(cloud, 'DELETE', 'faults');
    expect(cleared.json.cleared.map((f: { request: string; hits: number }) => [f.request, f.hits])).toEqual([
      ['newNonce', 2],
      ['newOrder', 1],
    ]);
    expect((await knob(cloud, 'GET', 'faults')).json.faults).toEqual([]);
  });

  it.each([
    ['/order-plz', 'newOrder'],
    ['/sign-me-up', 'newAccount'],
    ['/finalize-order/abc', 'finalize'],
    ['/my-order/abc', 'order'],
    ['/authZ/abc', 'authz'],
    ['/chalZ/abc', 'chall'],
    ['/certZ/abc', 'cert'],
    ['/renewal-info/abc.def', 'renewalInfo'],
    ['/dir', 'directory'],
    ['/unknown', 'other'],
  ])('%s is the %s resource', (path, resource) => {
    expect(resourceOf(path)).toBe(resource);
  });
});
