// The ACME account when the CA no longer honours it: the CA forgot it (reset,
// Pebble restart), it was deactivated, or the issuer moved to another directory.
// Against the real local cloud's Secrets Manager and Pebble.
import fs from 'node:fs';
import path from 'node:path';
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as acme from 'acme-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AcmeSession } from '../../functions/lib/acme.js';
import { generateAccountKey } from '../../functions/lib/acme/account.js';
import type { Issuer } from '../../functions/lib/inventory.js';
import type { PebbleHandle } from '../../local/pebble/pebble.js';
import { startTestCloud, type TestCloud } from '../support/cloud.js';
import { restartPebble } from '../support/pebble-restart.js';

let tc: TestCloud;
let restarted: PebbleHandle | undefined;

const issuerNamed = (name: string): Issuer => ({ name, directoryUrl: tc.directoryUrl!, accountSecretName: `certpipe/acme/${name}` });
/** A fresh SDK client: AcmeSession caches per client, so this is what a new Lambda process sees. */
const freshSm = () => new SecretsManagerClient(tc.sdkConfig());

async function storedAccount(secretName: string): Promise<{ accountKey: string; accountUrl?: string; directoryUrl: string }> {
  const text = (await freshSm().send(new GetSecretValueCommand({ SecretId: secretName }))).SecretString!;
  return JSON.parse(text);
}

beforeAll(async () => {
  tc = await startTestCloud({ pebble: true });
  const bundle = path.join(tc.dataDir, 'pebble-tls-ca.pem');
  fs.writeFileSync(bundle, tc.pebbleCaPem!);
  process.env.CERTPIPE_ACME_CA_BUNDLE = bundle;
}, 60_000);

afterAll(async () => {
  delete process.env.CERTPIPE_ACME_CA_BUNDLE;
  await restarted?.stop();
  await tc?.close();
});

describe('an account the CA forgot', () => {
  it('is registered again with the stored key, stored with its new URL, and the request goes through', async () => {
    const issuer = issuerNamed('forgotten');
    const before = await AcmeSession.open(issuer, freshSm());
    const stored = await storedAccount(issuer.accountSecretName);
    expect(stored.accountUrl).toBe(before.accountUrl);
    const inFlight = await before.createOrder(['in-flight.acme.test']);

    restarted = await restartPebble(tc, restarted);

    // A new process: it trusts the stored account URL, which the CA no longer knows.
    const session = await AcmeSession.open(issuer, freshSm());
    const order = await session.createOrder(['forgotten.acme.test']);
    expect(order.status).toBe('pending');
    expect(session.accountUrl).not.toBe(stored.accountUrl);
    const after = await storedAccount(issuer.accountSecretName);
    expect(after).toEqual({ accountKey: stored.accountKey, accountUrl: session.accountUrl, directoryUrl: issuer.directoryUrl });

    // A session opened before the reset (a warm Lambda) recovers the same way, without a second registration.
    const warm = await before.createOrder(['warm.acme.test']);
    expect(warm.status).toBe('pending');
    expect(before.accountUrl).toBe(session.accountUrl);

    // An order placed before the reset is gone with it: AcmeOrderInvalid, so the workflow orders afresh.
    const lost = session.resumeOrder(inFlight.url);
    await expect(lost).rejects.toMatchObject({ name: 'AcmeOrderInvalid' });
    await expect(lost).rejects.toThrow(inFlight.url);
  }, 60_000);
});

describe('a deactivated account', () => {
  it('is replaced by a new key and account (the CA refuses the old key for good)', async () => {
    const issuer = issuerNamed('deactivated');
    const session = await AcmeSession.open(issuer, freshSm());
    const stored = await storedAccount(issuer.accountSecretName);
    const owner = new acme.Client({ directoryUrl: issuer.directoryUrl, accountKey: stored.accountKey, accountUrl: stored.accountUrl! });
    const deactivated = await owner.updateAccount({ status: 'deactivated' });
    expect(deactivated.status).toBe('deactivated');

    const order = await session.createOrder(['deactivated.acme.test']);
    expect(order.status).toBe('pending');
    const after = await storedAccount(issuer.accountSecretName);
    expect(after.accountKey).not.toBe(stored.accountKey);
    expect(after.accountUrl).not.toBe(stored.accountUrl);
    expect(after.accountUrl).toBe(session.accountUrl);
  }, 60_000);
});

describe('an order of an account that was deactivated', () => {
  it('is AcmeOrderInvalid after one re-registration, and asking again registers nothing more', async () => {
    const issuer = issuerNamed('retired');
    const session = await AcmeSession.open(issuer, freshSm());
    const order = await session.createOrder(['retired.acme.test']);
    const stored = await storedAccount(issuer.accountSecretName);
    await new acme.Client({ directoryUrl: issuer.directoryUrl, accountKey: stored.accountKey, accountUrl: stored.accountUrl! }).updateAccount({
      status: 'deactivated',
    });

    // The new account may not read the old account's order: it is dead to the workflow, which orders afresh.
    await expect(session.orderStatus(order.url)).rejects.toMatchObject({ name: 'AcmeOrderInvalid' });
    const replaced = await storedAccount(issuer.accountSecretName);
    expect(replaced.accountKey).not.toBe(stored.accountKey);
    expect(replaced.accountUrl).toBe(session.accountUrl);

    // The new account is valid: the same refusal now is about the order, not the account. No loop, no new key.
    await expect(session.orderStatus(order.url)).rejects.toMatchObject({ name: 'AcmeRequestRejected' });
    expect(await storedAccount(issuer.accountSecretName)).toEqual(replaced);
  }, 60_000);
});

describe('an "unauthorized" that is not about the account', () => {
  it('stays AcmeRequestRejected and leaves the account as it is', async () => {
    const owner = await AcmeSession.open(issuerNamed('owner'), freshSm());
    const order = await owner.createOrder(['owned.acme.test']);
    const other = issuerNamed('other');
    const stranger = await AcmeSession.open(other, freshSm());
    const stored = await storedAccount(other.accountSecretName);

    // Pebble answers 403 unauthorized: the order belongs to another account.
    const refused = stranger.orderStatus(order.url);
    await expect(refused).rejects.toMatchObject({ name: 'AcmeRequestRejected' });
    await expect(refused).rejects.toThrow(/unauthorized/);
    expect(await storedAccount(other.accountSecretName)).toEqual(stored);
    expect(stranger.accountUrl).toBe(stored.accountUrl);
  }, 60_000);
});

describe('an issuer whose directoryUrl changed', () => {
  it('registers a new key at the new directory and stores key, URL and directory together', async () => {
    const issuer = issuerNamed('moved');
    const oldKey = generateAccountKey();
    await freshSm().send(
      new CreateSecretCommand({
        Name: issuer.accountSecretName,
        SecretString: JSON.stringify({ accountKey: oldKey, accountUrl: 'https://old-ca.test/acme/acct/1', directoryUrl: 'https://old-ca.test/dir' }),
      }),
    );

    const session = await AcmeSession.open(issuer, freshSm());
    expect(session.accountUrl.startsWith(new URL(issuer.directoryUrl).origin)).toBe(true);
    const after = await storedAccount(issuer.accountSecretName);
    expect(after.directoryUrl).toBe(issuer.directoryUrl);
    expect(after.accountUrl).toBe(session.accountUrl);
    // The old CA's key is not carried over to the new one (RFC 8555 §7.3: one account key per CA).
    expect(after.accountKey).not.toBe(oldKey);
    expect((await session.createOrder(['moved.acme.test'])).status).toBe('pending');
  }, 60_000);
});
