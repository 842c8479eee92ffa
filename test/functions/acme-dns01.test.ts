// The ACME wrapper, the Route 53 provider and the propagation checker together,
// against the real local cloud (Route 53, Secrets Manager, authoritative DNS) and Pebble.
import fs from 'node:fs';
import path from 'node:path';
import { CreateHostedZoneCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AcmeSession, type OrderRecord } from '../../functions/lib/acme.js';
import { checkPropagation } from '../../functions/lib/dns/propagation.js';
import { Route53ChallengeProvider } from '../../functions/lib/dns/route53.js';
import type { Issuer } from '../../functions/lib/inventory.js';
import { publishMetrics } from '../../functions/lib/observability.js';
import { createCsr, generateKeyPair, splitPemChain, verifyIssued } from '../../functions/lib/x509.js';
import { startTestCloud, type TestCloud } from '../support/cloud.js';
import type { AcmeOrderInvalid } from '../../functions/lib/workflow/errors.js';

let tc: TestCloud;
let route53: Route53Client;
let zoneId: string;
let issuer: Issuer;
let resolvers: string[];

const ZONE = 'acme.test';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Asks again until `fn` gives a value: the state machine's Wait loop, in a test. */
async function until<T>(what: string, fn: () => Promise<T | undefined>, attempts = 60): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const value = await fn();
    if (value !== undefined) return value;
    await sleep(250);
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** AcmeRequests by Status in the EMF that publishMetrics() writes to stdout, as a handler's end does. */
function acmeRequestsPublished(): Record<string, number> {
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
    return true;
  });
  try {
    publishMetrics();
  } finally {
    spy.mockRestore();
  }
  const counts: Record<string, number> = {};
  for (const line of chunks.join('').split('\n').filter((l) => l.includes('"AcmeRequests"'))) {
    const record = JSON.parse(line) as { Status: string; AcmeRequests: number };
    counts[record.Status] = (counts[record.Status] ?? 0) + record.AcmeRequests;
  }
  return counts;
}

beforeAll(async () => {
  tc = await startTestCloud({ pebble: true, settings: { insyncDelayMs: 200 } });
  const bundle = path.join(tc.dataDir, 'pebble-tls-ca.pem');
  fs.writeFileSync(bundle, tc.pebbleCaPem!);
  process.env.CERTPIPE_ACME_CA_BUNDLE = bundle;
  route53 = new Route53Client(tc.sdkConfig());
  const zone = await route53.send(new CreateHostedZoneCommand({ Name: ZONE, CallerReference: 'acme-dns01' }));
  zoneId = zone.HostedZone!.Id!;
  resolvers = [`127.0.0.1:${tc.dnsPort}`];
  issuer = { name: 'pebble', directoryUrl: tc.directoryUrl!, accountSecretName: 'certpipe/acme/pebble' };
});

afterAll(async () => {
  delete process.env.CERTPIPE_ACME_CA_BUNDLE;
  await tc?.close();
});

describe('ACME account', () => {
  it('is created on first use and stored; concurrent first users end up with one account', async () => {
    const [a, b] = await Promise.all([
      AcmeSession.open(issuer, new SecretsManagerClient(tc.sdkConfig())),
      AcmeSession.open(issuer, new SecretsManagerClient(tc.sdkConfig())),
    ]);
    expect(a.accountUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+\//);
    expect(b.accountUrl).toBe(a.accountUrl);

    const sm = new SecretsManagerClient(tc.sdkConfig());
    const stored = JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: issuer.accountSecretName }))).SecretString!);
    expect(stored).toEqual({ accountKey: expect.stringContaining('BEGIN PRIVATE KEY'), accountUrl: a.accountUrl, directoryUrl: issuer.directoryUrl });

    // A later process reads it back instead of registering again.
    const again = await AcmeSession.open(issuer, new SecretsManagerClient(tc.sdkConfig()));
    expect(again.accountUrl).toBe(a.accountUrl);
  });
});

describe('DNS-01 issuance for an apex and its wildcard', () => {
  it('places two values on one name, sees them at the authoritative DNS, and gets a verified certificate', async () => {
    const sm = new SecretsManagerClient(tc.sdkConfig());
    const acme = await AcmeSession.open(issuer, sm);
    const provider = new Route53ChallengeProvider(route53, { hostedZones: [{ name: ZONE }] });
    const names = [`shop.${ZONE}`, `*.shop.${ZONE}`];

    const order = await acme.createOrder(names);
    expect(order.status).toBe('pending');
    expect([...order.dnsNames].sort()).toEqual([...names].sort()); // the CA may reorder them

    const challenges = await acme.dnsChallenges(order);
    expect(challenges.map((c) => c.fqdn)).toEqual([`_acme-challenge.shop.${ZONE}`, `_acme-challenge.shop.${ZONE}`]);
    expect(new Set(challenges.map((c) => c.value)).size).toBe(2);

    // Nothing written yet: "not yet" is an answer, not an error.
    const before = await checkPropagation({ records: challenges, resolvers });
    expect(before).toMatchObject({ ready: false, missing: [`_acme-challenge.shop.${ZONE}`] });

    const presented = await provider.present(challenges);
    expect(presented.changeIds).toHaveLength(1);
    expect(presented.records.map((r) => r.zoneId)).toEqual([zoneId.replace('/hostedzone/', ''), zoneId.replace('/hostedzone/', '')]);
    await until('INSYNC', async () => ((await provider.changeStatus(presented.changeIds)) ? true : undefined));
    await until('propagation', async () => ((await checkPropagation({ records: presented.records, resolvers })).ready ? true : undefined));

    await acme.completeChallenges(order);
    await acme.completeChallenges(order); // a retried step must not fail on answered challenges
    const ready = await until('order ready', async () => {
      const o = await acme.orderStatus(order.url);
      return o.status === 'ready' ? o : undefined;
    });

    const key = await generateKeyPair('ecdsa-p256');
    const csr = await createCsr(key.privateKeyPem, names);
    const finalized = await acme.finalize(ready, csr.pem);
    expect(['processing', 'valid']).toContain(finalized.status);
    const valid: OrderRecord = await until('order valid', async () => {
      const o = await acme.orderStatus(order.url);
      return o.status === 'valid' ? o : undefined;
    });
    const fullchain = await acme.downloadCertificate(valid);
    const [leaf, ...chain] = splitPemChain(fullchain);
    const facts = verifyIssued({
      certificatePem: leaf!,
      chainPem: chain.join(''),
      privateKeyPem: key.privateKeyPem,
      dnsNames: names,
      now: new Date(),
      trustedRoots: [await tc.pebbleRootPem()],
    });
    expect(facts.dnsNames.sort()).toEqual([...names].sort());

    await provider.cleanUp(presented.records);
    const left = await route53.send(
      new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, StartRecordName: `_acme-challenge.shop.${ZONE}`, StartRecordType: 'TXT', MaxItems: 1 }),
    );
    expect(left.ResourceRecordSets?.filter((r) => r.Type === 'TXT' && r.Name?.startsWith('_acme-challenge.shop.'))).toEqual([]);

    // The requests are counted into the AcmeRequests metric the handler flushes.
    const counts = acmeRequestsPublished();
    expect(counts['201']).toBeGreaterThan(0);
    expect(counts['200']).toBeGreaterThan(0);
  });
});

describe('what the CA refuses becomes a typed error', () => {
  it('an order whose challenge cannot be validated becomes AcmeOrderInvalid with the CA detail', async () => {
    const acme = await AcmeSession.open(issuer, new SecretsManagerClient(tc.sdkConfig()));
    const order = await acme.createOrder([`missing.${ZONE}`]);
    await acme.completeChallenges(order); // no TXT record was ever placed
    const failure = await until('order invalid', async () => {
      try {
        await acme.orderStatus(order.url);
        return undefined;
      } catch (err) {
        return err as Error;
      }
    });
    expect(failure.name).toBe('AcmeOrderInvalid');
    expect(failure.message).toContain(order.url);
    expect(failure.message).toContain('_acme-challenge.missing.acme.test');
    // The identifier the CA failed, for the rate-limit ledger (failed authorizations per identifier).
    expect((failure as AcmeOrderInvalid).failedIdentifiers).toEqual([`missing.${ZONE}`]);
    await expect(acme.resumeOrder(order.url)).rejects.toMatchObject({ name: 'AcmeOrderInvalid', failedIdentifiers: [`missing.${ZONE}`] });
  });

  it('a name the CA will not issue for is AcmeRequestRejected', async () => {
    const acme = await AcmeSession.open(issuer, new SecretsManagerClient(tc.sdkConfig()));
    await expect(acme.createOrder(['not a name'])).rejects.toMatchObject({ name: 'AcmeRequestRejected' });
  });

  it('finalizing an order that is not ready is AcmeOrderNotReady, without a request', async () => {
    const acme = await AcmeSession.open(issuer, new SecretsManagerClient(tc.sdkConfig()));
    const order = await acme.createOrder([`early.${ZONE}`]);
    await expect(acme.finalize(order, 'csr')).rejects.toMatchObject({ name: 'AcmeOrderNotReady' });
    await expect(acme.downloadCertificate(order)).rejects.toMatchObject({ name: 'AcmeOrderNotReady' });
  });

  it('a CA whose TLS certificate is not trusted is AcmeRequestRejected, naming CERTPIPE_ACME_CA_BUNDLE', async () => {
    const bundle = process.env.CERTPIPE_ACME_CA_BUNDLE;
    delete process.env.CERTPIPE_ACME_CA_BUNDLE;
    try {
      const untrusted: Issuer = { ...issuer, accountSecretName: 'certpipe/acme/untrusted' };
      const failure = AcmeSession.open(untrusted, new SecretsManagerClient(tc.sdkConfig()));
      await expect(failure).rejects.toMatchObject({ name: 'AcmeRequestRejected' });
      await expect(failure).rejects.toThrow(/CERTPIPE_ACME_CA_BUNDLE/);
    } finally {
      process.env.CERTPIPE_ACME_CA_BUNDLE = bundle;
    }
  });

  it('a CA that does not answer is AcmeUnavailable, and the account secret is kept for next time', async () => {
    const down: Issuer = { name: 'down', directoryUrl: 'https://127.0.0.1:9/dir', accountSecretName: 'certpipe/acme/down' };
    const sm = new SecretsManagerClient(tc.sdkConfig());
    await expect(AcmeSession.open(down, sm)).rejects.toMatchObject({ name: 'AcmeUnavailable' });
    const stored = JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: down.accountSecretName }))).SecretString!);
    expect(stored.accountUrl).toBeUndefined();
    expect(stored.directoryUrl).toBe(down.directoryUrl);
  });
});
