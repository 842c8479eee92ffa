// External account binding end to end: a second Pebble that registers no account
// without EAB (externalAccountBindingRequired, one MAC key), and the real pipeline
// deployed against it. The issuer with `eab` (HMAC key in Secrets Manager) gets its
// certificate; the issuer without it is refused by the CA, and the error says why.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../infra/config.js';
import { deployLocal } from '../../local/deploy.js';
import { startPebble, type PebbleHandle } from '../../local/pebble/pebble.js';
import { runExecution, executionHistory } from '../../bin/run.js';
import { SFNClient } from '@aws-sdk/client-sfn';
import { freePort, startTestCloud, type TestCloud } from '../support/cloud.js';
import { challengeRecordsLeft, currentSecret, placesWithPrivateKeys } from './pipeline.js';

const KEY_ID = 'kid-certpipe';
// Pebble wants the MAC key base64url-encoded, as CAs hand it out.
const HMAC_KEY = randomBytes(48).toString('base64url');

describe('external account binding', () => {
  let cloud: TestCloud;
  let pebble: PebbleHandle;
  let sfn: SFNClient;
  let stateMachineArn: string;

  beforeAll(async () => {
    cloud = await startTestCloud({ settings: { insyncDelayMs: 200 } });
    pebble = await startPebble({
      dataDir: path.join(cloud.dataDir, 'pebble-eab'),
      dnsServer: `127.0.0.1:${cloud.dnsPort}`,
      port: await freePort(),
      managementPort: await freePort(),
      validitySeconds: 7_776_000,
      externalAccountMACKeys: { [KEY_ID]: HMAC_KEY },
    });
    const sm = new SecretsManagerClient(cloud.sdkConfig());
    await sm.send(new CreateSecretCommand({ Name: 'certpipe/eab/bound', SecretString: HMAC_KEY }));
    const config = validateConfig({
      issuers: [
        { name: 'bound', directoryUrl: pebble.directoryUrl, eab: { keyId: KEY_ID, hmacKeySecret: 'certpipe/eab/bound' } },
        { name: 'unbound', directoryUrl: pebble.directoryUrl },
      ],
      hostedZones: [{ name: 'example.test' }],
      certificates: [
        { name: 'with-eab', dnsNames: ['eab.example.test'], issuer: 'bound' },
        { name: 'without-eab', dnsNames: ['no-eab.example.test'], issuer: 'unbound' },
      ],
      pipeline: { propagation: { waitSeconds: 1 } },
    });
    const deployment = await deployLocal(config, {
      endpointUrl: cloud.url,
      dnsPort: cloud.dnsPort,
      acmeCaBundlePath: pebble.tlsCaPath,
      acmeManagementUrl: pebble.managementUrl,
      acmeDirectoryUrl: pebble.directoryUrl,
      dataDir: cloud.dataDir,
    });
    stateMachineArn = deployment.stateMachineArn;
    sfn = new SFNClient(cloud.sdkConfig());
  }, 300_000);

  afterAll(async () => {
    await pebble?.stop();
    await cloud?.close();
  });

  it('issues with EAB; without it the CA refuses, and the error names the fix', async () => {
    const run = await runExecution(sfn, stateMachineArn, {}, { pollMs: 250, timeoutMs: 10 * 60_000 });
    // One certificate failed, so the execution fails (CertificatesFailed) and pages.
    expect(run.status).toBe('FAILED');
    const events = await executionHistory(sfn, run.executionArn);
    const summary = events.find((e) => e.type === 'TaskStateExited' && e.stateExitedEventDetails?.name === 'Summarize');
    const results = (JSON.parse(summary?.stateExitedEventDetails?.output ?? '{}') as { results?: { name: string; outcome: string; error?: string; cause?: string }[] }).results ?? [];
    const outcome = (name: string) => results.find((r) => r.name === name);

    const issued = await currentSecret(cloud, 'certpipe/with-eab');
    expect(issued.dnsNames).toEqual(['eab.example.test']);
    expect(issued.issuer).toBe('bound');
    // The account was registered at the EAB CA: its URL is stored with its key.
    const account = await new SecretsManagerClient(cloud.sdkConfig()).send(new GetSecretValueCommand({ SecretId: 'certpipe/acme-account/bound' }));
    expect(JSON.parse(account.SecretString!).accountUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/my-account\//);

    // The refusal is that certificate's failure, with the CA's problem type and the fix.
    expect(outcome('with-eab')?.outcome).toBe('renewed');
    expect(outcome('without-eab')).toMatchObject({ outcome: 'failed', error: 'AcmeRequestRejected' });
    const message = (JSON.parse(outcome('without-eab')!.cause!) as { errorMessage: string }).errorMessage;
    expect(message).toContain('Registering ACME account');
    expect(message).toContain('urn:ietf:params:acme:error:externalAccountRequired');
    expect(message).toContain('add "eab" (keyId, and hmacKeySecret naming the Secrets Manager secret that holds the HMAC key) to the issuer');
    await expect(currentSecret(cloud, 'certpipe/without-eab')).rejects.toThrow();

    expect(JSON.stringify(events)).not.toContain(HMAC_KEY);
    expect(await challengeRecordsLeft(cloud)).toEqual([]);
    expect(await placesWithPrivateKeys(cloud, sfn, [run.executionArn])).toEqual([]);
  }, 300_000);
});
