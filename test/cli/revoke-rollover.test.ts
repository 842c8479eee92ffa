// `certpipe revoke` and `certpipe account rollover` against a local cloud with
// Pebble, after a real issuance. Pebble's management API is the CA's word on
// what it revoked; acme-client calls with the old account key are its word on
// which key it accepts.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { ACMClient, GetCertificateCommand } from '@aws-sdk/client-acm';
import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import * as acme from 'acme-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../bin/cli.js';
import { runCli } from './runCli.js';
import { LOCAL_ACCOUNT_ID } from '../../bin/local-cloud.js';
import { generateAccountKey, stagePendingAccountKey } from '../../functions/lib/acme/account.js';
import { parseCertificate } from '../../functions/lib/x509.js';
import { startTestCloud, type TestCloud } from '../support/cloud.js';
import { currentSecret, deployTestPipeline, exampleConfig, holdsKeyMaterial, logFiles, storedEvents, type TestPipeline } from '../e2e/pipeline.js';

const ACCOUNT_SECRET = 'certpipe/acme-account/pebble';

describe('certpipe revoke and account rollover', () => {
  let cloud: TestCloud;
  let pipeline: TestPipeline;
  let env: NodeJS.ProcessEnv;
  let sm: SecretsManagerClient;
  let cliCaller: string;

  const cli = (argv: string[], extra: Partial<CliIO> = {}) => runCli(argv, env, extra);

  /** Pebble's management API: the CA's own record of a certificate. */
  function caStatus(serial: string): Promise<{ Status: string; Reason?: number }> {
    const url = `${cloud.handle.info.pebbleManagementUrl}/cert-status-by-serial/${serial.toLowerCase()}`;
    return new Promise((resolve, reject) => {
      https
        .get(url, { ca: cloud.pebbleCaPem }, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`${url}: ${res.statusCode} ${body}`))));
        })
        .on('error', reject);
    });
  }

  async function accountSecret(stage = 'AWSCURRENT'): Promise<{ accountKey: string; accountUrl: string }> {
    return JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: ACCOUNT_SECRET, VersionStage: stage }))).SecretString!);
  }

  /**
   * What an order the CA accepted can be: `pending`, or `ready`. Pebble answers a new order
   * identical to a pending or ready one of the same account with that order (its README), and
   * CI once got `ready` for cdn here; either way the CA took the signature.
   */
  const ACCEPTED_ORDER = expect.stringMatching(/^(pending|ready)$/);

  /** An order placed straight with acme-client, signed with `accountKey` for the account URL. */
  function orderWith(accountKey: string, accountUrl: string) {
    const client = new acme.Client({ directoryUrl: cloud.directoryUrl!, accountKey, accountUrl, backoffAttempts: 1 });
    return client.createOrder({ identifiers: [{ type: 'dns', value: 'cdn.example.test' }] });
  }

  beforeAll(async () => {
    cloud = await startTestCloud({ pebble: true, settings: { insyncDelayMs: 200 } });
    env = { ...process.env, CERTPIPE_DATA_DIR: cloud.dataDir };
    delete env.AWS_ENDPOINT_URL;
    delete env.CERTPIPE_CONFIG;
    sm = new SecretsManagerClient(cloud.sdkConfig());
    // acme-client's direct calls trust Pebble's listener, as the CLI does through cloud.json.
    acme.axios.defaults.httpsAgent = new https.Agent({ ca: cloud.pebbleCaPem });
    // The certificate with ACM targets in two regions: a reissue must reach both.
    pipeline = await deployTestPipeline(
      cloud,
      exampleConfig(cloud, (doc) => {
        doc.certificates = doc.certificates.filter((c: { name: string }) => c.name === 'cdn');
      }),
    );
    const first = await pipeline.run();
    expect(first.status, `${first.error}: ${first.cause}`).toBe('SUCCEEDED');
    // Who the CLI is, asked independently with the credentials the CLI uses on a local cloud.
    const sts = new STSClient({ endpoint: cloud.url, region: 'us-east-1', credentials: { accessKeyId: LOCAL_ACCOUNT_ID, secretAccessKey: 'local' } });
    cliCaller = (await sts.send(new GetCallerIdentityCommand({}))).Arn!;
  }, 240_000);

  afterAll(async () => {
    await cloud?.close();
  });

  it('refuses without --yes off a terminal, and the CA still has the certificate valid', async () => {
    const { serial } = await currentSecret(cloud, 'certpipe/cdn');
    const refused = await cli(['revoke', 'cdn', '--reason', 'superseded']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--yes');
    expect((await caStatus(serial)).Status).toBe('Valid');

    const badReason = await cli(['revoke', 'cdn', '--reason', 'unspecified', '--yes']);
    expect(badReason.code).toBe(2);
    expect((await caStatus(serial)).Status).toBe('Valid');
  });

  it('revoke --reissue: the CA revoked the old serial with the reason, the new one is in the secret and both ACM targets, history and an event say so and who asked why', async () => {
    const old = await currentSecret(cloud, 'certpipe/cdn');
    const eventsBefore = (await storedEvents(cloud, 'Certificate Revoked')).length;

    const why = 'INC-7: chain replaced after the CA incident';
    const revoked = await cli(['revoke', 'cdn', '--reason', 'superseded', '--reissue', '--wait', '--yes', '--why', why, '--poll-ms', '250']);
    expect(revoked.code, revoked.stdout + revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain(`serial ${old.serial} revoked (superseded, signed with the account key)`);
    expect(revoked.stdout).toMatch(/^cdn: renewed, valid until /m);
    expect(holdsKeyMaterial(revoked.stdout + revoked.stderr)).toBe(false);

    expect(await caStatus(old.serial)).toMatchObject({ Status: 'Revoked', Reason: 4 });
    const now = await currentSecret(cloud, 'certpipe/cdn');
    expect(now.serial).not.toBe(old.serial);
    expect((await caStatus(now.serial)).Status).toBe('Valid');
    // A new key, not only a new certificate.
    expect(now.privateKey).not.toBe(old.privateKey);

    const tags = (await sm.send(new DescribeSecretCommand({ SecretId: 'certpipe/cdn' }))).Tags ?? [];
    expect(tags.find((t) => t.Key === 'certpipe:revoked')?.Value).toMatch(new RegExp(`^\\S+Z superseded ${old.serial} ${cliCaller}$`));
    for (const region of ['us-east-1', 'eu-west-1']) {
      const arn = tags.find((t) => t.Key === `certpipe:acm:000000000000:${region}`)?.Value;
      expect(arn, region).toBeDefined();
      const got = await new ACMClient(cloud.sdkConfig(undefined, region)).send(new GetCertificateCommand({ CertificateArn: arn }));
      expect(parseCertificate(got.Certificate!).serial, region).toBe(now.serial);
    }

    const events = (await storedEvents(cloud, 'Certificate Revoked')).slice(eventsBefore);
    expect(events).toHaveLength(1);
    expect(events[0]!.detail).toMatchObject({ certificate: 'cdn', serial: old.serial, reason: 'superseded', signedWith: 'accountKey', startedBy: cliCaller, why });
    expect(holdsKeyMaterial(events[0]!.detail)).toBe(false);

    const history = await cli(['history', 'cdn']);
    expect(history.code, history.stderr).toBe(0);
    expect(history.stdout).toMatch(/REVOKED[^\n]*cdn revoked/);
    const wide = (await cli(['history', 'cdn', '--wide'])).stdout;
    expect(wide).toContain(`cdn revoked (superseded, serial ${old.serial})`);
    expect(wide.split('\n').find((line) => line.includes('REVOKED'))).toContain(cliCaller);
    const json = JSON.parse((await cli(['history', 'cdn', '--json'])).stdout);
    expect(json.revocations).toEqual([expect.objectContaining({ certificate: 'cdn', serial: old.serial, reason: 'superseded', startedBy: cliCaller })]);
    // The reissue is an execution of its own, newest first, started with the same audit fields.
    expect(json.executions[0]).toMatchObject({ startedBy: cliCaller, why });
    expect(json.executions[0].certificates).toEqual([expect.objectContaining({ name: 'cdn', outcome: 'renewed' })]);
    const renewed = (await storedEvents(cloud, 'Certificate Renewed')).at(-1)!;
    expect(renewed.detail).toMatchObject({ certificate: 'cdn', serial: now.serial, startedBy: cliCaller, why });
  }, 180_000);

  it('keyCompromise is signed with the certificate key: it works while the account key cannot even be read', async () => {
    const { serial } = await currentSecret(cloud, 'certpipe/cdn');
    // The account key is unreadable: a request signed by the account cannot be made.
    await cloud.setFault({ service: 'secretsmanager', operation: 'GetSecretValue', match: { SecretId: ACCOUNT_SECRET }, error: 'AccessDeniedException' });
    try {
      const byAccount = await cli(['revoke', 'cdn', '--reason', 'superseded', '--yes']);
      expect(byAccount.code).toBe(1);
      const hitsByAccount = (await cloud.faults())[0]!.hits;
      expect(hitsByAccount).toBeGreaterThan(0);
      expect((await caStatus(serial)).Status).toBe('Valid');

      const byKey = await cli(['revoke', 'cdn', '--reason', 'keyCompromise', '--yes']);
      expect(byKey.code, byKey.stderr).toBe(0);
      expect(byKey.stdout).toContain("signed with the certificate's own key");
      expect((await cloud.faults())[0]!.hits).toBe(hitsByAccount);
    } finally {
      await cloud.clearFaults();
    }
    expect(await caStatus(serial)).toMatchObject({ Status: 'Revoked', Reason: 1 });
    const events = await storedEvents(cloud, 'Certificate Revoked');
    expect(events.at(-1)!.detail).toMatchObject({ serial, reason: 'keyCompromise', signedWith: 'certificateKey' });
    // Not reissued: the next run replaces it, and status says why.
    const status = JSON.parse((await cli(['status', '--json'])).stdout);
    expect(status.certificates[0]).toMatchObject({ serial, renewal: { due: true, reason: 'Revoked' } });
  });

  it('account rollover keeps the URL and changes the key; the CA refuses the old key; the next renewal succeeds with the new one', async () => {
    const before = await accountSecret();
    const rolled = await cli(['account', 'rollover', 'pebble']);
    expect(rolled.code, rolled.stderr).toBe(0);
    expect(rolled.stdout).toMatch(/stage: .*\n.*keyChange: /);
    expect(holdsKeyMaterial(rolled.stdout)).toBe(false);

    const after = await accountSecret();
    expect(after.accountUrl).toBe(before.accountUrl);
    expect(after.accountKey).not.toBe(before.accountKey);
    expect((await accountSecret('AWSPREVIOUS')).accountKey).toBe(before.accountKey);
    const stages = Object.values((await sm.send(new DescribeSecretCommand({ SecretId: ACCOUNT_SECRET }))).VersionIdsToStages ?? {}).flat();
    expect(stages).not.toContain('AWSPENDING');

    await expect(orderWith(before.accountKey, before.accountUrl)).rejects.toThrow();
    await expect(orderWith(after.accountKey, after.accountUrl)).resolves.toMatchObject({ status: ACCEPTED_ORDER });

    const oldSerial = (await currentSecret(cloud, 'certpipe/cdn')).serial;
    const renewed = await pipeline.run({ only: ['cdn'], force: true });
    expect(renewed.status, `${renewed.error}: ${renewed.cause}`).toBe('SUCCEEDED');
    expect((await currentSecret(cloud, 'certpipe/cdn')).serial).not.toBe(oldSerial);
    // Signed with the new key: the account was neither registered again nor re-keyed by the run.
    expect(await accountSecret()).toEqual(after);
    // The warm PlaceChallenges worker (it ran the reissue) still held the old key: refused, it took the stored one.
    const logs = logFiles(cloud).map((f) => readFileSync(f, 'utf8')).join('\n');
    expect(logs).toContain('signing with the key a rollover stored');
    expect(logs).not.toContain('ACME account registered again');
  }, 180_000);

  it('a rollover that stopped after the CA accepted the new key: the next renewal signs with that key and finishes the rollover', async () => {
    const { before, staged } = await rolloverStoppedBeforePromotion();
    // Every function still reads the old key as current.
    await expect(orderWith(before.accountKey, before.accountUrl)).rejects.toThrow();

    const oldSerial = (await currentSecret(cloud, 'certpipe/cdn')).serial;
    const renewed = await pipeline.run({ only: ['cdn'], force: true });
    expect(renewed.status, `${renewed.error}: ${renewed.cause}`).toBe('SUCCEEDED');
    expect((await currentSecret(cloud, 'certpipe/cdn')).serial).not.toBe(oldSerial);
    // The same account, now on the key the CA accepts; the old key kept as AWSPREVIOUS, nothing pending.
    expect(await accountSecret()).toMatchObject({ accountKey: staged, accountUrl: before.accountUrl });
    expect((await accountSecret('AWSPREVIOUS')).accountKey).toBe(before.accountKey);
    const stages = Object.values((await sm.send(new DescribeSecretCommand({ SecretId: ACCOUNT_SECRET }))).VersionIdsToStages ?? {}).flat();
    expect(stages).not.toContain('AWSPENDING');
    const logs = logFiles(cloud).map((f) => readFileSync(f, 'utf8')).join('\n');
    expect(logs).toContain('finished a key rollover that stopped before promoting the new key');
    expect(logs).not.toContain('ACME account registered again');
    expect(holdsKeyMaterial(logs)).toBe(false);
  }, 180_000);

  it('a rollover that stopped after the CA accepted the new key is finished by the next rollover command, with that key', async () => {
    const { before, staged } = await rolloverStoppedBeforePromotion();
    expect((await accountSecret()).accountKey).toBe(before.accountKey);

    const resumed = await cli(['account', 'rollover', 'pebble', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout).steps.map((s: { action: string }) => s.action)).toEqual(['promote']);
    expect(await accountSecret()).toMatchObject({ accountKey: staged, accountUrl: before.accountUrl });
    await expect(orderWith(staged, before.accountUrl)).resolves.toMatchObject({ status: ACCEPTED_ORDER });
  });

  /** A new key stored as pending and accepted by the CA (keyChange), then the "crash": nothing promoted. */
  async function rolloverStoppedBeforePromotion(): Promise<{ before: { accountKey: string; accountUrl: string }; staged: string }> {
    const before = await accountSecret();
    const staged = generateAccountKey();
    await stagePendingAccountKey(sm, ACCOUNT_SECRET, { ...before, accountKey: staged, directoryUrl: await currentAccountDirectory() });
    const client = new acme.Client({ directoryUrl: cloud.directoryUrl!, accountKey: before.accountKey, accountUrl: before.accountUrl, backoffAttempts: 1 });
    await client.updateAccountKey(staged);
    return { before, staged };
  }

  async function currentAccountDirectory(): Promise<string> {
    return (JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: ACCOUNT_SECRET }))).SecretString!) as { directoryUrl: string }).directoryUrl;
  }
});
