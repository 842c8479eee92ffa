// The certpipe CLI against a local cloud with Pebble, after a real run: one
// issuance in set-up, one forced renewal followed by `renew --wait`, then a
// rollback to the first certificate.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ACMClient, GetCertificateCommand } from '@aws-sdk/client-acm';
import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../bin/cli.js';
import { runCli } from './runCli.js';
import { parseCertificate } from '../../functions/lib/x509.js';
import { startTestCloud, type TestCloud } from '../support/cloud.js';
import { currentSecret, deployTestPipeline, exampleConfig, storedEvents, type TestPipeline } from '../e2e/pipeline.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const LAUNCHER = path.join(REPO, 'bin', 'certpipe.mjs');

describe('certpipe CLI', () => {
  let cloud: TestCloud;
  let pipeline: TestPipeline;
  let env: NodeJS.ProcessEnv;
  let firstSerial: string;
  let badConfig: string;

  const cli = (argv: string[], extra: Partial<CliIO> = {}) => runCli(argv, env, extra);

  beforeAll(async () => {
    cloud = await startTestCloud({ pebble: true, settings: { insyncDelayMs: 200 } });
    env = { ...process.env, CERTPIPE_DATA_DIR: cloud.dataDir };
    delete env.AWS_ENDPOINT_URL;
    delete env.CERTPIPE_CONFIG;
    badConfig = path.join(cloud.dataDir, 'bad.yaml');
    fs.writeFileSync(badConfig, 'issuers: []\ncertificates:\n  - name: web\n    dnsNames: example.test\n');
    // Only the certificate with ACM targets (rollback has to re-import it), plus a
    // secret copy in another region (rollback has to copy it too).
    pipeline = await deployTestPipeline(
      cloud,
      exampleConfig(cloud, (doc) => {
        doc.certificates = doc.certificates.filter((c: { name: string }) => c.name === 'cdn');
        doc.certificates[0].targets.push({ type: 'secretsmanager', region: 'eu-west-1', name: 'certpipe/cdn' });
      }),
    );
    const first = await pipeline.run();
    expect(first.status, `${first.error}: ${first.cause}`).toBe('SUCCEEDED');
    firstSerial = (await currentSecret(cloud, 'certpipe/cdn')).serial;
  }, 240_000);

  afterAll(async () => {
    await cloud?.close();
  });

  it('validate: exit 0 for the example config, 1 with each problem naming its field', async () => {
    const ok = await cli(['validate']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/is valid: 4 certificates, 2 issuers/);

    const bad = await cli(['validate', '--config', badConfig]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^ {2}issuers: .+ — /m);
    expect(bad.stderr).toMatch(/^ {2}certificates\[0\]\.dnsNames: .+ — /m);

    const json = await cli(['validate', '--config', badConfig, '--json']);
    expect(json.code).toBe(1);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.valid).toBe(false);
    expect(parsed.problems.map((p: { path: string }) => p.path)).toEqual(
      expect.arrayContaining(['issuers', 'certificates[0].dnsNames']),
    );
  });

  it('the bin/certpipe.mjs launcher runs the CLI', () => {
    const spawned = spawnSync(process.execPath, [LAUNCHER, 'validate', '--config', badConfig], {
      cwd: REPO,
      encoding: 'utf8',
      env,
      timeout: 60_000,
    });
    expect(spawned.status).toBe(1);
    expect(spawned.stderr).toContain('certificates[0].dnsNames');
    expect(spawned.stdout).toBe('');
  }, 60_000);

  it('status: a table and a --json document with expiry, renewal reason, last run and targets', async () => {
    const table = await cli(['status']);
    expect(table.code, table.stderr).toBe(0);
    expect(Math.max(...table.stdout.split('\n').map((l) => [...l].length))).toBeLessThanOrEqual(80);
    expect((await cli(['status', '--wide'])).stdout).toContain('cdn.example.test');
    expect(table.stdout).toContain('UpToDate');
    expect(table.stdout).toContain('renewed');
    expect(table.stdout).toContain('acm eu-west-1');
    // No colour when not on a terminal.
    expect(table.stdout).not.toMatch(/\u001b\[/);

    const json = await cli(['status', '--json']);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout);
    expect(doc.certificates).toHaveLength(1);
    const [row] = doc.certificates;
    expect(row).toMatchObject({
      name: 'cdn',
      dnsNames: ['cdn.example.test'],
      serial: firstSerial,
      renewal: { due: false, reason: 'UpToDate' },
      lastRun: { outcome: 'renewed' },
      publishedTo: ['secret certpipe/cdn', 'acm us-east-1', 'acm eu-west-1', 'secret eu-west-1/certpipe/cdn'],
    });
    expect(row.daysLeft).toBeGreaterThan(80);
    expect(Date.parse(row.notAfter)).toBeGreaterThan(Date.now());
  });

  it('usage and not-found errors are one line with their exit codes', async () => {
    const noNames = await cli(['renew']);
    expect(noNames.code).toBe(2);
    expect(noNames.stderr.trim().split('\n')).toHaveLength(1);

    const unknown = await cli(['inspect', 'nope']);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/^certpipe: no certificate named "nope"/);
    expect(unknown.stderr).not.toMatch(/\n\s+at /);
  });

  it('renew --force --wait follows the run to completion and exits 0', async () => {
    const renewed = await cli(['renew', 'cdn', '--force', '--wait', '--poll-ms', '250']);
    expect(renewed.code, renewed.stdout + renewed.stderr).toBe(0);
    expect(renewed.stdout).toMatch(/due: cdn \(Forced\)/);
    for (const step of ['place', 'dns', 'finalize', 'publish', 'cleanup']) {
      expect(renewed.stdout).toContain(`cdn: ${step}  [0/1 renewed]`);
    }
    expect(renewed.stdout).toContain('cdn: renewed  [1/1 renewed]');
    expect(renewed.stdout).toMatch(/^cdn: renewed, valid until /m);
    expect(renewed.stdout).toContain('execution SUCCEEDED');
    expect((await currentSecret(cloud, 'certpipe/cdn')).serial).not.toBe(firstSerial);
  }, 180_000);

  it('inspect: the certificate, its key, fingerprint, chain, versions and targets, never the key', async () => {
    const current = await currentSecret(cloud, 'certpipe/cdn');
    const text = await cli(['inspect', 'cdn']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`serial        ${current.serial}`);
    expect(text.stdout).toContain('ECDSA P-256 (256 bits)');
    expect(text.stdout).toMatch(/SHA-256 {7}([0-9A-F]{2}:){15}[0-9A-F]{2}\n {16}([0-9A-F]{2}:){15}[0-9A-F]{2}\n/);
    expect(Math.max(...text.stdout.split('\n').map((l) => l.length))).toBeLessThanOrEqual(80);
    const wide = await cli(['inspect', 'cdn', '--wide']);
    expect(wide.stdout).toMatch(/SHA-256 {7}([0-9A-F]{2}:){31}[0-9A-F]{2}/);
    expect(wide.stdout).toMatch(/acm .*arn:aws:acm:/);
    expect(text.stdout).toMatch(/AWSPREVIOUS\s+serial /);
    expect(text.stdout).not.toContain('PRIVATE KEY');

    const json = JSON.parse((await cli(['inspect', 'cdn', '--json'])).stdout);
    expect(json).toMatchObject({
      name: 'cdn',
      dnsNames: ['cdn.example.test'],
      serial: current.serial,
      keyAlgorithm: 'ecdsa-p256',
      fingerprintSha256: parseCertificate(current.certificate).fingerprintSha256,
    });
    expect(json.chain.length).toBeGreaterThan(0);
    const stages = Object.fromEntries(json.secret.versions.map((v: { stages: string[]; serial: string }) => [v.stages.join(','), v.serial]));
    expect(stages).toMatchObject({ AWSCURRENT: current.serial, AWSPREVIOUS: firstSerial });
    expect(json.published.filter((p: { arn?: string }) => p.arn?.startsWith('arn:aws:acm:'))).toHaveLength(2);
    expect(json.lastError).toBeUndefined();
  });

  it('history: both executions, newest first, with outcome and duration', async () => {
    const text = await cli(['history']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout.match(/SUCCEEDED/g)).toHaveLength(2);

    const json = JSON.parse((await cli(['history', 'cdn', '--json'])).stdout);
    expect(json.executions).toHaveLength(2);
    for (const e of json.executions) {
      expect(e).toMatchObject({ status: 'SUCCEEDED', certificates: [expect.objectContaining({ name: 'cdn', outcome: 'renewed' })] });
      expect(e.durationSeconds).toBeGreaterThan(0);
      expect(e.failedStep).toBeUndefined();
    }
    expect(Date.parse(json.executions[0].startDate)).toBeGreaterThanOrEqual(Date.parse(json.executions[1].startDate));
  });

  it('rollback: refuses without --yes off a terminal, then restores the previous serial in the secret, ACM and the copy, and says so with an event', async () => {
    const refused = await cli(['rollback', 'cdn']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--yes');

    const eventsBefore = (await storedEvents(cloud, 'Certificate Rolled Back')).length;
    const rolled = await cli(['rollback', 'cdn', '--yes']);
    expect(rolled.code, rolled.stderr).toBe(0);
    expect(rolled.stdout).toContain(`serial ${firstSerial}`);
    expect(rolled.stdout).toContain('copied to secret eu-west-1/certpipe/cdn');
    expect((await currentSecret(cloud, 'certpipe/cdn')).serial).toBe(firstSerial);

    const copy = new SecretsManagerClient(cloud.sdkConfig(undefined, 'eu-west-1'));
    const copied = JSON.parse((await copy.send(new GetSecretValueCommand({ SecretId: 'certpipe/cdn' }))).SecretString!) as { serial: string };
    expect(copied.serial).toBe(firstSerial);
    const events = (await storedEvents(cloud, 'Certificate Rolled Back')).slice(eventsBefore);
    expect(events).toHaveLength(1);
    expect(events[0]!.detail).toMatchObject({ certificate: 'cdn', serial: firstSerial, reason: 'Rollback', failedTargets: [] });
    expect(JSON.stringify(events[0]!.detail)).not.toMatch(/PRIVATE KEY/);

    const sm = new SecretsManagerClient(cloud.sdkConfig());
    const tags = (await sm.send(new DescribeSecretCommand({ SecretId: 'certpipe/cdn' }))).Tags ?? [];
    expect(tags.find((t) => t.Key === 'certpipe:serial')?.Value).toBe(firstSerial);
    for (const region of ['us-east-1', 'eu-west-1']) {
      const arn = tags.find((t) => t.Key === `certpipe:acm:000000000000:${region}`)?.Value;
      expect(arn, region).toBeDefined();
      const acm = new ACMClient(cloud.sdkConfig(undefined, region));
      const got = await acm.send(new GetCertificateCommand({ CertificateArn: arn }));
      expect(parseCertificate(got.Certificate!).serial, region).toBe(firstSerial);
    }
  });

  it('after a rollback, a forced renewal orders a new certificate (not the rolled-back one again)', async () => {
    const rolledBackTo = (await currentSecret(cloud, 'certpipe/cdn')).serial;
    const sm = new SecretsManagerClient(cloud.sdkConfig());
    const replaced = (await sm.send(new DescribeSecretCommand({ SecretId: 'certpipe/cdn' }))).VersionIdsToStages ?? {};
    expect(Object.values(replaced).some((s) => s.includes('AWSPREVIOUS'))).toBe(true);

    const renewed = await cli(['renew', 'cdn', '--force', '--wait']);
    expect(renewed.code, renewed.stderr + renewed.stdout).toBe(0);
    const now = await currentSecret(cloud, 'certpipe/cdn');
    expect(now.serial).not.toBe(rolledBackTo);
    expect(now.serial).not.toBe(firstSerial);
    const previous = JSON.parse(
      (await sm.send(new GetSecretValueCommand({ SecretId: 'certpipe/cdn', VersionStage: 'AWSPREVIOUS' }))).SecretString!,
    ) as { serial: string };
    // Neither earlier certificate: the one rolled back to is now the previous one.
    expect(previous.serial).toBe(rolledBackTo);
  }, 180_000);
});
