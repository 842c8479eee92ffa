// ACM publishing against the local ACM: first import, re-import into the same
// ARN, the key-algorithm guard, an ARN deleted out of band, and another account.
import { webcrypto } from 'node:crypto';
// @peculiar/x509 (through tsyringe) needs the Reflect polyfill before it loads.
import 'reflect-metadata';
import {
  ACMClient,
  DeleteCertificateCommand,
  DescribeCertificateCommand,
  ListTagsForCertificateCommand,
} from '@aws-sdk/client-acm';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as px509 from '@peculiar/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsClients } from '../../functions/lib/aws.js';
import { clientsFor } from '../../functions/lib/targets.js';
import type { CertificateSpec, KeyAlgorithm } from '../../functions/lib/inventory.js';
import { publishToAcm } from '../../functions/lib/store/acm.js';
import { buildIssued, CertificateStore, type IssuedCertificate } from '../../functions/lib/store/certificateStore.js';
import { generateKeyPair, parseCertificate } from '../../functions/lib/x509.js';
import { startTestCloud, type TestCloud } from '../support/cloud.js';
import { recordCalls } from '../support/sdk-calls.js';

let tc: TestCloud;
let acm: ACMClient;
let store: CertificateStore;
let ca: { cert: px509.X509Certificate; key: webcrypto.CryptoKey };

const subtle = webcrypto.subtle;
const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;

function specFor(name: string, keyAlgorithm: KeyAlgorithm = 'ecdsa-p256'): CertificateSpec {
  return {
    name,
    dnsNames: [`${name}.acm.test`],
    issuer: 'test-ca',
    keyAlgorithm,
    privateKeyRotation: 'always',
    renewal: { renewAtFractionLeft: 1 / 3 },
    secretName: `certpipe/${name}`,
    hostedZoneIds: {},
    targets: [],
  };
}

/** A leaf for `spec` with a fresh key, signed by the test CA (no Pebble needed). */
async function issue(spec: CertificateSpec, keyAlgorithm: KeyAlgorithm = spec.keyAlgorithm): Promise<IssuedCertificate> {
  const key = await generateKeyPair(keyAlgorithm);
  const isEc = keyAlgorithm.startsWith('ecdsa');
  const publicKey = await subtle.importKey('spki', key.publicKey.export({ type: 'spki', format: 'der' }), isEc ? EC : RSA, true, ['verify']);
  const leaf = await px509.X509CertificateGenerator.create(
    {
      subject: `CN=${spec.dnsNames[0]}`,
      issuer: ca.cert.subject,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 30 * 86_400_000),
      publicKey,
      signingKey: ca.key,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions: [
        new px509.SubjectAlternativeNameExtension(spec.dnsNames.map((value) => ({ type: 'dns' as const, value }))),
        new px509.BasicConstraintsExtension(false),
        await px509.AuthorityKeyIdentifierExtension.create(ca.cert, false, webcrypto),
      ],
    },
    webcrypto,
  );
  const leafPem = leaf.toString('pem') + '\n';
  const chainPem = ca.cert.toString('pem') + '\n';
  const facts = parseCertificate(leafPem);
  return buildIssued({ spec, certificatePem: leafPem, privateKeyPem: key.privateKeyPem, orderUrl: 'https://ca.test/order/1', facts: { ...facts, chainPem } });
}

async function seedSecret(spec: CertificateSpec, issued: IssuedCertificate): Promise<void> {
  await store.claimPending(spec, { orderUrl: issued.orderUrl, privateKeyPem: issued.privateKey, keyAlgorithm: issued.keyAlgorithm, dnsNames: issued.dnsNames, now: new Date() });
  await store.storeIssued(spec, issued, { claimVersionId: (await store.readPending(spec))!.versionId });
  await store.promote(spec, { now: new Date() });
}

beforeAll(async () => {
  tc = await startTestCloud();
  acm = new ACMClient(tc.sdkConfig());
  store = new CertificateStore(new SecretsManagerClient(tc.sdkConfig()));
  const keys = (await subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await px509.X509CertificateGenerator.createSelfSigned(
    {
      name: 'CN=certpipe test CA',
      keys,
      notBefore: new Date(Date.now() - 86_400_000),
      notAfter: new Date(Date.now() + 365 * 86_400_000),
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions: [
        new px509.BasicConstraintsExtension(true, undefined, true),
        new px509.KeyUsagesExtension(px509.KeyUsageFlags.keyCertSign | px509.KeyUsageFlags.cRLSign, true),
        await px509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
      ],
    },
    webcrypto,
  );
  ca = { cert, key: keys.privateKey };
});

afterAll(() => tc?.close());

describe('publishToAcm', () => {
  it('imports once with certpipe tags, records the ARN on the secret, then re-imports into the same ARN', async () => {
    const spec = specFor('web');
    const first = await issue(spec);
    await seedSecret(spec, first);

    const imported = await publishToAcm({ store, spec, acm, accountId: '000000000000', region: 'us-east-1', issued: first });
    expect(imported.reimported).toBe(false);
    const arn = imported.certificateArn;
    expect(arn).toMatch(/^arn:aws:acm:us-east-1:000000000000:certificate\//);
    const tags = (await acm.send(new ListTagsForCertificateCommand({ CertificateArn: arn }))).Tags;
    expect(tags).toEqual(expect.arrayContaining([{ Key: 'certpipe:managed', Value: 'true' }, { Key: 'certpipe:certificate', Value: 'web' }]));
    expect(await store.acmCertificateArn(spec, '000000000000', 'us-east-1')).toBe(arn);

    const renewed = await issue(spec);
    const again = await publishToAcm({ store, spec, acm, accountId: '000000000000', region: 'us-east-1', issued: renewed });
    expect(again).toEqual({ certificateArn: arn, reimported: true });
    const described = (await acm.send(new DescribeCertificateCommand({ CertificateArn: arn }))).Certificate!;
    const hex = (serial: string) => serial.replace(/:/g, '').toLowerCase().replace(/^0+/, '');
    expect(hex(described.Serial!)).toBe(hex(renewed.serial));
    expect(described.KeyAlgorithm).toBe('EC_prime256v1');
  });

  it('refuses a re-import that changes the key algorithm, naming the ARN and both algorithms, before calling ImportCertificate', async () => {
    const spec = specFor('switch');
    const first = await issue(spec);
    await seedSecret(spec, first);
    const { certificateArn } = await publishToAcm({ store, spec, acm, accountId: '000000000000', region: 'us-east-1', issued: first });

    const guarded = new ACMClient(tc.sdkConfig());
    const calls = recordCalls(guarded);
    const rsa = await issue({ ...spec, keyAlgorithm: 'rsa-2048' });
    const failure = publishToAcm({ store, spec, acm: guarded, accountId: '000000000000', region: 'us-east-1', issued: rsa });
    await expect(failure).rejects.toMatchObject({ name: 'AcmReimportIncompatible' });
    await expect(failure).rejects.toThrow(certificateArn);
    await expect(failure).rejects.toThrow(/EC_prime256v1.*RSA_2048/);
    expect(calls).not.toContain('ImportCertificateCommand');
    expect((await acm.send(new DescribeCertificateCommand({ CertificateArn: certificateArn }))).Certificate?.Serial).toBeDefined();
  });

  it('imports anew when the recorded certificate was deleted out of band', async () => {
    const spec = specFor('gone');
    const first = await issue(spec);
    await seedSecret(spec, first);
    const { certificateArn: old } = await publishToAcm({ store, spec, acm, accountId: '000000000000', region: 'us-east-1', issued: first });
    await acm.send(new DeleteCertificateCommand({ CertificateArn: old }));

    const result = await publishToAcm({ store, spec, acm, accountId: '000000000000', region: 'us-east-1', issued: await issue(spec) });
    expect(result.reimported).toBe(false);
    expect(result.certificateArn).not.toBe(old);
    expect(await store.acmCertificateArn(spec, '000000000000', 'us-east-1')).toBe(result.certificateArn);
  });

  it('publishes into another account and region through clientsFor, one ARN tag per account and region', async () => {
    const spec = specFor('multi');
    const issued = await issue(spec);
    await seedSecret(spec, issued);
    const clients = new AwsClients({ endpoint: tc.url, credentials: tc.sdkConfig().credentials, maxAttempts: 1 });
    // As the target stack creates it: the pipeline account may assume it with the ExternalId.
    await fetch(`${tc.url}/_certpipe/iam/roles`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ roleArn: 'arn:aws:iam::222222222222:role/certpipe-publisher', externalId: 'ext-222' }),
    });
    const targets = [
      { region: 'eu-west-1', roleArn: 'arn:aws:iam::222222222222:role/certpipe-publisher', externalId: 'ext-222' },
      { region: 'us-west-2' },
    ];
    const arns: string[] = [];
    for (const target of targets) {
      const there = await clientsFor(clients, target);
      arns.push((await publishToAcm({ store, spec, acm: there.acm, accountId: there.accountId, region: there.region, issued })).certificateArn);
    }
    expect(arns[0]).toMatch(/^arn:aws:acm:eu-west-1:222222222222:certificate\//);
    expect(arns[1]).toMatch(/^arn:aws:acm:us-west-2:000000000000:certificate\//);

    const secretTags = (await new SecretsManagerClient(tc.sdkConfig()).send(new DescribeSecretCommand({ SecretId: spec.secretName }))).Tags ?? [];
    expect(Object.fromEntries(secretTags.filter((t) => t.Key!.startsWith('certpipe:acm:')).map((t) => [t.Key, t.Value]))).toEqual({
      'certpipe:acm:222222222222:eu-west-1': arns[0],
      'certpipe:acm:000000000000:us-west-2': arns[1],
    });
  });
});
