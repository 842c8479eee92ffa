// The key scan every fault scenario and end-to-end test ends with must be able
// to fail: plant a private key in each kind of store the pipeline writes and see
// the scan name it; keys where they belong (secret values, ACM's imported key)
// are not reported.
import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ACMClient, AddTagsToCertificateCommand, ImportCertificateCommand } from '@aws-sdk/client-acm';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, Route53Client } from '@aws-sdk/client-route-53';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChain } from '../local/support/pki.js';
import { startTestCloud, type TestCloud } from '../support/cloud.js';

/** A PEM header built at run time, so no key marker is committed (the repository's key check looks for them). */
const pemHeader = (label: string) => ['-----BEGIN', `${label}-----`].join(' ');
import { holdsKeyMaterial, placesWithPrivateKeys } from './pipeline.js';

const ecKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const PEM = ecKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const SEC1_DER_BASE64 = ecKey.export({ type: 'sec1', format: 'der' }).toString('base64');
const PKCS8_DER_BASE64 = ecKey.export({ type: 'pkcs8', format: 'der' }).toString('base64');
const JWK = ecKey.export({ format: 'jwk' });

describe('holdsKeyMaterial', () => {
  it.each([
    ['PKCS#8 PEM', PEM],
    ['an RSA PEM header alone (cut short)', `oops ${pemHeader('RSA PRIVATE KEY')}\nMIIEow`],
    ['an ENCRYPTED PEM', '-----BEGIN ENCRYPTED PRIVATE KEY-----'],
    ['JSON-escaped PEM', JSON.stringify({ out: JSON.stringify({ key: PEM }) })],
    ['base64 SEC1 DER', `value ${SEC1_DER_BASE64} end`],
    ['base64 PKCS#8 DER', { detail: { blob: PKCS8_DER_BASE64 } }],
    ['a private JWK', { detail: { jwk: JWK } }],
    ['a private JWK inside a JSON string', { output: JSON.stringify({ accountKey: JWK }) }],
    ['a private JWK in a log line', `{"level":"INFO","message":"x"}\n${JSON.stringify({ jwk: JWK })}\n`],
  ])('finds %s', (_case, value) => {
    expect(holdsKeyMaterial(value)).toBe(true);
  });

  it.each([
    ['a certificate PEM', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----'],
    ['a public JWK', { jwk: { kty: 'EC', crv: JWK.crv, x: JWK.x, y: JWK.y } }],
    ['a long base64 run that is no key', `M${'A'.repeat(300)}`],
  ])('passes %s', (_case, value) => {
    expect(holdsKeyMaterial(value)).toBe(false);
  });
});

describe('placesWithPrivateKeys', () => {
  let cloud: TestCloud;
  let sfn: SFNClient;

  beforeAll(async () => {
    cloud = await startTestCloud({ settings: { insyncDelayMs: 0 } });
    sfn = new SFNClient(cloud.sdkConfig());
  });

  afterAll(async () => {
    await cloud?.close();
  });

  it('reports nothing for keys where they belong: a secret value and the key ACM keeps', async () => {
    await new SecretsManagerClient(cloud.sdkConfig()).send(new CreateSecretCommand({ Name: 'certpipe/planted', SecretString: JSON.stringify({ privateKey: PEM }) }));
    const chain = await createChain(['planted.example.test']);
    const acm = new ACMClient(cloud.sdkConfig());
    const imported = await acm.send(
      new ImportCertificateCommand({
        Certificate: Buffer.from(chain.leaf.certificatePem),
        PrivateKey: Buffer.from(chain.leaf.privateKeyPem),
        CertificateChain: Buffer.from(chain.chainPem),
      }),
    );
    expect(await placesWithPrivateKeys(cloud, sfn, [])).toEqual([]);

    // The same ACM record is scanned for everything else it holds.
    await acm.send(
      new AddTagsToCertificateCommand({ CertificateArn: imported.CertificateArn!, Tags: [{ Key: 'note', Value: pemHeader('PRIVATE KEY') }] }),
    );
    expect(await placesWithPrivateKeys(cloud, sfn, [])).toEqual([expect.stringMatching(/^store acm\/000000000000\/us-east-1\/certificates /)]);
  });

  it('names a Route 53 record, a stored event and a log file that hold a key', async () => {
    const route53 = new Route53Client(cloud.sdkConfig());
    const zone = await route53.send(new CreateHostedZoneCommand({ Name: 'planted.example.test', CallerReference: 'planted' }));
    await route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zone.HostedZone!.Id!,
        ChangeBatch: {
          Changes: [{ Action: 'CREATE', ResourceRecordSet: { Name: '_acme-challenge.planted.example.test', Type: 'TXT', TTL: 60, ResourceRecords: [{ Value: `"${SEC1_DER_BASE64}"` }] } }],
        },
      }),
    );
    await new EventBridgeClient(cloud.sdkConfig()).send(
      new PutEventsCommand({ Entries: [{ Source: 'certpipe', DetailType: 'Certificate Renewed', Detail: JSON.stringify({ jwk: JWK }) }] }),
    );
    const logDir = join(cloud.dataDir, 'aws', 'logs');
    mkdirSync(logDir, { recursive: true });
    appendFileSync(join(logDir, 'PlantedFunction.log'), `${JSON.stringify({ level: 'ERROR', message: `failed: ${PEM}` })}\n`);

    const found = await placesWithPrivateKeys(cloud, sfn, []);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^store route53\/rrsets /),
        expect.stringMatching(/^store events\/events /),
        '/_certpipe/events',
        `log ${join(logDir, 'PlantedFunction.log')}`,
      ]),
    );
  });
});
