// The local cloud as a whole: env settings, the in-process test harness (Pebble
// validating DNS-01 against records written through Route 53), and the
// `npm run local:up` / `local:down` commands.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, Route53Client } from '@aws-sdk/client-route-53';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import acme from 'acme-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCloudInfo, type CloudInfo } from '../../bin/local-cloud.js';
import { LocalEnvError, readLocalEnv, repoRoot } from '../../local/lifecycle/env.js';
import { isProcessAlive } from '../../local/lifecycle/process.js';
import { httpsGetText } from '../../local/pebble/https.js';
import { startTestCloud, type TestCloud } from '../support/cloud.js';
import { freePort } from '../../local/lifecycle/ports.js';

function resolverFor(port: number): Resolver {
  const resolver = new Resolver({ timeout: 2_000, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
  return resolver;
}

describe('readLocalEnv', () => {
  it('has the documented defaults', () => {
    expect(readLocalEnv({})).toEqual({
      port: 4566,
      host: '127.0.0.1',
      dnsPort: 8053,
      dataDir: path.join(repoRoot, '.certpipe-local'),
      pebblePort: 14000,
      pebbleManagementPort: 15000,
      stagingPebblePort: 14001,
      stagingPebbleManagementPort: 15001,
      pebbleValiditySeconds: 7_776_000,
      insyncDelayMs: undefined,
      dnsLagMs: undefined,
    });
  });

  it('reads overrides and resolves a relative data directory', () => {
    const env = readLocalEnv({ CERTPIPE_LOCAL_PORT: '5000', CERTPIPE_DATA_DIR: 'x/y', CERTPIPE_DNS_LAG_MS: '250' });
    expect(env).toMatchObject({ port: 5000, dataDir: path.resolve('x/y'), dnsLagMs: 250 });
  });

  it.each([
    ['CERTPIPE_LOCAL_PORT', 'abc'],
    ['CERTPIPE_DNS_PORT', '70000'],
    ['CERTPIPE_PEBBLE_VALIDITY_SECONDS', '0'],
    ['CERTPIPE_INSYNC_DELAY_MS', '-1'],
  ])('rejects %s=%s in one line naming the variable', (name, value) => {
    let error: unknown;
    try {
      readLocalEnv({ [name]: value });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(LocalEnvError);
    expect((error as LocalEnvError).variable).toBe(name);
    expect((error as Error).message).toContain(`${name}="${value}"`);
    expect((error as Error).message).not.toContain('\n');
  });

  it('rejects two parts on one port', () => {
    expect(() => readLocalEnv({ CERTPIPE_DNS_PORT: '4566' })).toThrow(LocalEnvError);
  });
});

describe('startTestCloud (in-process harness)', () => {
  let tc: TestCloud;
  beforeAll(async () => {
    tc = await startTestCloud({ pebble: true, pebbleValiditySeconds: 86_400, settings: { insyncDelayMs: 0, dnsLagMs: 0 } });
  });
  afterAll(() => tc?.close());

  it('answers the AWS SDK, per account', async () => {
    const other = await new STSClient(tc.sdkConfig('111111111111')).send(new GetCallerIdentityCommand({}));
    expect(other.Account).toBe('111111111111');
    const dflt = await new STSClient(tc.sdkConfig()).send(new GetCallerIdentityCommand({}));
    expect(dflt.Account).toBe('000000000000');
  });

  it('injects and clears faults', async () => {
    const sts = new STSClient(tc.sdkConfig());
    await tc.setFault({ service: 'sts', operation: 'GetCallerIdentity', error: 'ThrottlingException', count: 1 });
    await expect(sts.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({ name: 'ThrottlingException' });
    await tc.setFault({ service: 'sts', error: 'ThrottlingException', count: 5 });
    await tc.clearFaults();
    await expect(sts.send(new GetCallerIdentityCommand({}))).resolves.toMatchObject({ Account: '000000000000' });
  });

  it('changes settings at run time', async () => {
    await tc.setSettings({ dnsLagMs: 5 });
    expect(tc.cloud.settings.dnsLagMs).toBe(5);
    await tc.setSettings({ dnsLagMs: 0 });
  });

  it('writes cloud.json naming every part', () => {
    const info = readCloudInfo(tc.dataDir);
    expect(info).toMatchObject({ pid: process.pid, endpoint: tc.url, dnsPort: tc.dnsPort, directoryUrl: tc.directoryUrl });
    expect(fs.readFileSync(info!.pebbleCaPath!, 'utf8')).toBe(tc.pebbleCaPem);
  });

  it('lets Pebble validate DNS-01 against records written through Route 53, and issue for the configured lifetime', async () => {
    const route53 = new Route53Client(tc.sdkConfig());
    const zone = await route53.send(new CreateHostedZoneCommand({ Name: 'example.test', CallerReference: 'cloud-test' }));
    const zoneId = zone.HostedZone!.Id!;
    const txt = (action: 'UPSERT' | 'DELETE', name: string, value: string) =>
      route53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: zoneId,
          ChangeBatch: { Changes: [{ Action: action, ResourceRecordSet: { Name: name, Type: 'TXT', TTL: 60, ResourceRecords: [{ Value: `"${value}"` }] } }] },
        }),
      );

    acme.axios.defaults.httpsAgent = new https.Agent({ ca: tc.pebbleCaPem });
    const client = new acme.Client({ directoryUrl: tc.directoryUrl!, accountKey: await acme.crypto.createPrivateKey() });
    const [, csr] = await acme.crypto.createCsr({ commonName: 'www.example.test' });
    const seen: string[] = [];
    const pem = await client.auto({
      csr,
      termsOfServiceAgreed: true,
      challengePriority: ['dns-01'],
      // Pebble checks through our DNS; acme-client's own check would ask the system resolver.
      skipChallengeVerification: true,
      challengeCreateFn: async (authz, _challenge, keyAuthorization) => {
        const name = `_acme-challenge.${authz.identifier.value}`;
        await txt('UPSERT', name, keyAuthorization);
        seen.push(...(await resolverFor(tc.dnsPort).resolveTxt(name)).flat());
      },
      challengeRemoveFn: async (authz, _challenge, keyAuthorization) => {
        await txt('DELETE', `_acme-challenge.${authz.identifier.value}`, keyAuthorization);
      },
    });

    expect(seen).toHaveLength(1);
    const [leafPem, intermediatePem] = acme.crypto.splitPemChain(pem);
    const leaf = new X509Certificate(leafPem!);
    const intermediate = new X509Certificate(intermediatePem!);
    const root = new X509Certificate(await tc.pebbleRootPem());
    expect(leaf.checkHost('www.example.test')).toBe('www.example.test');
    expect(leaf.verify(intermediate.publicKey)).toBe(true);
    expect(intermediate.verify(root.publicKey)).toBe(true);
    const lifetimeSeconds = (Date.parse(leaf.validTo) - Date.parse(leaf.validFrom)) / 1000;
    expect(Math.abs(lifetimeSeconds - 86_400)).toBeLessThanOrEqual(1);
  });

  it('close() stops Pebble and removes the data directory', async () => {
    const pebblePid = tc.handle.pebble!.pid;
    await tc.close();
    expect(isProcessAlive(pebblePid)).toBe(false);
    expect(fs.existsSync(tc.dataDir)).toBe(false);
  });
});

describe('npm run local:up / local:down', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'certpipe-'));
  let env: NodeJS.ProcessEnv;

  // npm proves the package.json wiring; the repeat runs skip npm and tsx's CLI wrapper to stay quick.
  function run(script: 'local:up' | 'local:down', how: 'npm' | 'node', extraEnv: NodeJS.ProcessEnv = {}) {
    const [command, args] =
      how === 'npm'
        ? ['npm', ['run', '--silent', script]]
        : [process.execPath, ['--import', 'tsx', path.join('local', 'lifecycle', script === 'local:up' ? 'up.ts' : 'down.ts')]];
    return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(command, args, { cwd: repoRoot, env: { ...env, ...extraEnv }, timeout: 60_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  }

  beforeAll(async () => {
    env = {
      ...process.env,
      CERTPIPE_DATA_DIR: dataDir,
      CERTPIPE_LOCAL_PORT: String(await freePort()),
      CERTPIPE_DNS_PORT: String(await freePort()),
      CERTPIPE_PEBBLE_PORT: String(await freePort()),
      CERTPIPE_PEBBLE_MGMT_PORT: String(await freePort()),
    };
  });
  afterAll(async () => {
    await run('local:down', 'node');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  let info: CloudInfo;

  it('local:up starts every part in the background and prints where they answer', async () => {
    const up = await run('local:up', 'npm');
    expect(up.code, up.stderr).toBe(0);
    info = readCloudInfo(dataDir)!;
    expect(info.endpoint).toBe(`http://127.0.0.1:${env.CERTPIPE_LOCAL_PORT}`);
    expect(info.dnsPort).toBe(Number(env.CERTPIPE_DNS_PORT));
    expect(info.directoryUrl).toBe(`https://127.0.0.1:${env.CERTPIPE_PEBBLE_PORT}/dir`);
    expect(up.stdout).toContain(info.endpoint);
    expect(up.stdout).toContain(`127.0.0.1:${info.dnsPort}`);
    expect(up.stdout).toContain(info.directoryUrl);
    expect(isProcessAlive(info.pid)).toBe(true);

    expect((await fetch(`${info.endpoint}/_certpipe/health`)).status).toBe(200);
    await expect(resolverFor(info.dnsPort).resolveTxt('nothing.example.invalid')).rejects.toMatchObject({
      code: expect.stringMatching(/^(ENOTFOUND|EREFUSED|ENODATA)$/),
    });
    const dir = await httpsGetText(info.directoryUrl!, fs.readFileSync(info.pebbleCaPath!, 'utf8'));
    expect(dir.status).toBe(200);
  });

  it('local:up again finds the running cloud instead of starting another', async () => {
    const again = await run('local:up', 'node');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`pid ${info.pid}`);
    expect(readCloudInfo(dataDir)?.pid).toBe(info.pid);
  });

  it('local:down stops every process and removes cloud.json; a second local:down is a no-op', async () => {
    const down = await run('local:down', 'npm');
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toContain(`stopped (pid ${info.pid})`);
    expect(readCloudInfo(dataDir)).toBeUndefined();
    expect(isProcessAlive(info.pid)).toBe(false);
    expect(isProcessAlive(info.pebblePid!)).toBe(false);

    const again = await run('local:down', 'node');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('not running');
  });

  it('local:up fails with the daemon log when a port is taken, and leaves nothing running', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(Number(env.CERTPIPE_PEBBLE_PORT), '127.0.0.1', resolve));
    try {
      const up = await run('local:up', 'node');
      expect(up.code).not.toBe(0);
      expect(up.stderr).toContain('daemon.log');
      expect(up.stderr).toContain(`port ${env.CERTPIPE_PEBBLE_PORT}`);
      expect(readCloudInfo(dataDir)).toBeUndefined();
      // The endpoint the daemon had opened is closed again.
      expect((await fetch(`${info.endpoint}/_certpipe/health`).catch(() => undefined))?.status).toBeUndefined();
    } finally {
      blocker.close();
    }
  });

  it('rejects a bad variable with one line naming it', async () => {
    const up = await run('local:up', 'node', { CERTPIPE_DNS_PORT: 'eighty' });
    expect(up.code).not.toBe(0);
    expect(up.stderr.trim()).toMatch(/^CERTPIPE_DNS_PORT="eighty" is not valid: .+$/);
  });
});
