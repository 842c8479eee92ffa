// Self-service requests end to end, under the IAM judge: a team's secret under
// certpipe/teams/ tagged with a name in an allowed zone is issued into; one
// naming a zone the policy does not allow, and one over the names limit, get
// a refusal in their certpipe:status tag. The Certificate Renewed event names
// the request secret as what started the issuance. The CLI finds an adopted
// certificate by the name status shows: renew, inspect and history work on it.
import { ACMClient, ListCertificatesCommand } from '@aws-sdk/client-acm';
import { CreateSecretCommand, DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../bin/cli.js';
import { adoptedInventory } from '../../bin/commands/requests.js';
import { certificateRows } from '../../bin/report.js';
import { parseCertificate } from '../../functions/lib/x509.js';
import { startTestCloud, type TestCloud } from '../support/cloud.js';
import { currentSecret, deployTestPipeline, exampleConfig, storedEvents, type TestPipeline } from './pipeline.js';

describe('self-service requests', () => {
  let cloud: TestCloud;
  let pipeline: TestPipeline;
  let sm: SecretsManagerClient;
  const tagsOf = async (name: string) =>
    Object.fromEntries(((await sm.send(new DescribeSecretCommand({ SecretId: name }))).Tags ?? []).map((t) => [t.Key!, t.Value ?? '']));
  const request = (name: string, dnsNames: string, acmRegions?: string) =>
    sm.send(
      new CreateSecretCommand({
        Name: name,
        Description: 'team request',
        Tags: [{ Key: 'certpipe:dns-names', Value: dnsNames }, ...(acmRegions ? [{ Key: 'certpipe:acm-regions', Value: acmRegions }] : [])],
      }),
    );

  beforeAll(async () => {
    cloud = await startTestCloud({ pebble: true, settings: { insyncDelayMs: 200 } });
    pipeline = await deployTestPipeline(
      cloud,
      exampleConfig(cloud, (doc) => {
        doc.certificates = doc.certificates.filter((c: { name: string }) => c.name === 'cdn');
        // ap-southeast-2 is no config target's region: only selfService.acmRegions opens it.
        doc.selfService = { zones: ['example.org.test'], issuers: ['pebble'], maxNamesPerCertificate: 2, maxCertificates: 5, acmRegions: ['ap-southeast-2'] };
      }),
    );
    // The team, not the pipeline, creates the requests (the account's root here).
    sm = new SecretsManagerClient(cloud.sdkConfig());
    await request('certpipe/teams/storefront', 'team.example.org.test', 'ap-southeast-2');
    await request('certpipe/teams/faraway', 'far.example.org.test', 'sa-east-1');
    await request('certpipe/teams/outside', 'intruder.example.test');
    await request('certpipe/teams/greedy', 'a.example.org.test,b.example.org.test,c.example.org.test');
  }, 240_000);
  afterAll(() => cloud?.close());

  it('issues into the request secret whose names lie in an allowed zone, and says so on it', async () => {
    const finished = await pipeline.run({ startedBy: 'schedule', why: 'scheduled expiry check' });
    expect(finished.status, `${finished.error}: ${finished.cause}`).toBe('SUCCEEDED');
    const issued = await currentSecret(cloud, 'certpipe/teams/storefront');
    expect(parseCertificate(issued.certificate).dnsNames).toEqual(['team.example.org.test']);
    expect(await tagsOf('certpipe/teams/storefront')).toMatchObject({ 'certpipe:status': 'adopted issuer=pebble key=ecdsa-p256', 'certpipe:managed': 'true' });
    // Imported into ACM in the region the request asked for, which the config opens to requests.
    // (ListCertificates lists RSA 2048 only unless asked for other key types, as in AWS.)
    const inSydney = await new ACMClient(cloud.sdkConfig(undefined, 'ap-southeast-2')).send(new ListCertificatesCommand({ Includes: { keyTypes: ['EC_prime256v1'] } }));
    expect((inSydney.CertificateSummaryList ?? []).map((c) => c.DomainName)).toEqual(['team.example.org.test']);
    const renewed = (await storedEvents(cloud, 'Certificate Renewed')).map((e) => e.detail);
    expect(renewed.map((d) => d.certificate).sort()).toEqual(['cdn', 'certpipe/teams/storefront']);
    // The adoption's audit trail: the request secret started it, within the scheduled run.
    const storefront = renewed.find((d) => d.certificate === 'certpipe/teams/storefront')!;
    expect(storefront.startedBy).toMatch(/^arn:aws:secretsmanager:us-east-1:\d{12}:secret:certpipe\/teams\/storefront-[A-Za-z0-9]{6}$/);
    expect(storefront.why).toBe('self-service request, adopted in a run started by schedule (scheduled expiry check)');
    expect(renewed.find((d) => d.certificate === 'cdn')!.startedBy).toBe('schedule');
    // npm start's closing table (the rows of the run) lists the adopted certificate beside the configured one.
    const rows = certificateRows(finished.history, await adoptedInventory(sm, pipeline.deployment.inventory));
    expect(rows.map((r) => [r.name, r.outcome, r.dnsNames])).toEqual([
      ['cdn', 'renewed', ['cdn.example.test']],
      ['certpipe/teams/storefront', 'renewed', ['team.example.org.test']],
    ]);
  }, 180_000);

  it('refuses a request outside the allowed zones and one over the names limit, with the reason on the secret, and issues nothing into them', async () => {
    expect((await tagsOf('certpipe/teams/outside'))['certpipe:status']).toBe('refused: intruder.example.test is in none of the allowed zones (example.org.test)');
    expect((await tagsOf('certpipe/teams/greedy'))['certpipe:status']).toBe('refused: 3 names, more than the 2 allowed per certificate');
    expect((await tagsOf('certpipe/teams/faraway'))['certpipe:status']).toBe('refused: sa-east-1 is not one of the ACM regions requests may use (ap-southeast-2)');
    for (const name of ['certpipe/teams/outside', 'certpipe/teams/greedy', 'certpipe/teams/faraway']) expect((await tagsOf(name))['certpipe:managed']).toBeUndefined();
  });

  it('certpipe status lists the adopted certificate with the others, and every request with its answer', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, CERTPIPE_DATA_DIR: cloud.dataDir };
    delete env.AWS_ENDPOINT_URL;
    const status = async (...args: string[]) => {
      let stdout = '';
      const code = await run(['status', ...args], { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: () => true }, isTTY: false, env });
      expect(code).toBe(0);
      return stdout;
    };
    const json = JSON.parse(await status('--json'));
    expect(json.certificates.map((c: { name: string }) => c.name).sort()).toEqual(['cdn', 'certpipe/teams/storefront']);
    expect(json.requests).toEqual(
      expect.arrayContaining([
        { secret: 'certpipe/teams/storefront', dnsNames: 'team.example.org.test', status: 'adopted issuer=pebble key=ecdsa-p256' },
        { secret: 'certpipe/teams/outside', dnsNames: 'intruder.example.test', status: 'refused: intruder.example.test is in none of the allowed zones (example.org.test)' },
      ]),
    );
    const text = await status('--wide');
    expect(text).toContain('self-service requests');
    expect(text).toContain('certpipe/teams/greedy: refused: 3 names, more than the 2 allowed per certificate');
  });

  it('a second run finds the adopted certificate up to date: no new issuance, still adopted', async () => {
    const serial = (await currentSecret(cloud, 'certpipe/teams/storefront')).serial;
    const finished = await pipeline.run({});
    expect(finished.status).toBe('SUCCEEDED');
    expect(await storedEvents(cloud, 'Certificate Renewed')).toHaveLength(2);
    expect((await currentSecret(cloud, 'certpipe/teams/storefront')).serial).toBe(serial);
    expect((await tagsOf('certpipe/teams/storefront'))['certpipe:status']).toBe('adopted issuer=pebble key=ecdsa-p256');
  }, 120_000);

  it('certpipe renew, inspect and history take the adopted certificate by its name; a refused request is no certificate', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, CERTPIPE_DATA_DIR: cloud.dataDir };
    delete env.AWS_ENDPOINT_URL;
    const cli = async (...argv: string[]) => {
      let stdout = '';
      let stderr = '';
      const code = await run(argv, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, isTTY: false, env });
      return { code, stdout, stderr };
    };
    const name = 'certpipe/teams/storefront';
    const before = (await currentSecret(cloud, name)).serial;

    const renewed = await cli('renew', name, '--force', '--wait', '--poll-ms', '250');
    expect(renewed.code, renewed.stdout + renewed.stderr).toBe(0);
    expect(renewed.stdout).toMatch(new RegExp(`^${name}: renewed, valid until `, 'm'));
    const after = await currentSecret(cloud, name);
    expect(after.serial).not.toBe(before);
    expect(parseCertificate(after.certificate).dnsNames).toEqual(['team.example.org.test']);
    // Still the request's change, now within a run the CLI started.
    const event = (await storedEvents(cloud, 'Certificate Renewed')).at(-1)!;
    expect(event.detail).toMatchObject({ certificate: name, serial: after.serial });
    expect(event.detail.why).toContain(`(certpipe renew ${name} --force)`);

    const inspected = await cli('inspect', name, '--json');
    expect(inspected.code, inspected.stderr).toBe(0);
    expect(JSON.parse(inspected.stdout)).toMatchObject({ name, serial: after.serial, dnsNames: ['team.example.org.test'], secret: { name } });

    const history = await cli('history', name, '--json');
    expect(history.code, history.stderr).toBe(0);
    expect(JSON.parse(history.stdout).executions[0].certificates).toEqual([expect.objectContaining({ name, outcome: 'renewed' })]);

    const refused = await cli('renew', 'certpipe/teams/outside', '--force');
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('no certificate named "certpipe/teams/outside"');
    expect(refused.stderr).toContain(name);
  }, 180_000);
});
