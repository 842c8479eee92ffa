// CleanupChallenges against the local Route 53 and Secrets Manager (no CA): the
// values come from the state or from the tags PlaceChallenges wrote, and stay
// while another live execution holds them.
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { CreateSecretCommand, DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AwsClients } from '../../functions/lib/aws.js';
import type { CleanupChallengesContext } from '../../functions/lib/steps/cleanupChallenges.js';
import { parseInventory, type CertificateSpec } from '../../functions/lib/inventory.js';
import { cleanupChallenges } from '../../functions/lib/steps/cleanupChallenges.js';
import { route53Zones } from '../../functions/lib/ports/route53Zones.js';
import { PendingOrderTags } from '../../functions/lib/store/pendingOrder.js';
import { startTestCloud, type TestCloud } from '../support/cloud.js';

let tc: TestCloud;
let route53: Route53Client;
let sm: SecretsManagerClient;
let zoneId: string;
let ctx: CleanupChallengesContext;
let aws: AwsClients;
let spec: CertificateSpec;
let secretCount = 0;

const ORDER = 'https://ca.test/order/1';
// DNS-01 values are 43 base64url characters.
const value = (c: string) => c.repeat(43);
const APEX = value('a');
const WILDCARD = value('b');
const WWW = value('c');
const FOREIGN = 'another-acme-client-value';

async function txtValues(fqdn: string): Promise<string[]> {
  const r = await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, StartRecordName: fqdn, StartRecordType: 'TXT', MaxItems: 1 }));
  const set = r.ResourceRecordSets?.[0];
  return set && set.Name === `${fqdn}.` && set.Type === 'TXT' ? (set.ResourceRecords ?? []).map((x) => x.Value!.replace(/"/g, '')).sort() : [];
}

async function writeTxt(fqdn: string, values: string[]): Promise<void> {
  await route53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: fqdn, Type: 'TXT', TTL: 60, ResourceRecords: values.map((v) => ({ Value: `"${v}"` })) } }] },
    }),
  );
}

async function challengeTags(): Promise<string[]> {
  const described = await sm.send(new DescribeSecretCommand({ SecretId: spec.secretName }));
  return (described.Tags ?? []).map((t) => t.Key!).filter((k) => k.startsWith('certpipe:challenge-')).sort();
}

const hold = (executionId: string, leaseEndsAt = new Date(Date.now() + 3600_000)) =>
  new PendingOrderTags(sm).hold(spec, { orderUrl: ORDER, values: [APEX, WILDCARD, WWW], executionId, leaseEndsAt });

beforeAll(async () => {
  tc = await startTestCloud({ settings: { insyncDelayMs: 0 } });
  route53 = new Route53Client(tc.sdkConfig());
  sm = new SecretsManagerClient(tc.sdkConfig());
  zoneId = (await route53.send(new CreateHostedZoneCommand({ Name: 'clean.test', CallerReference: 'clean.test' }))).HostedZone!.Id!.replace('/hostedzone/', '');
  aws = new AwsClients({ endpoint: tc.url, credentials: tc.sdkConfig().credentials, maxAttempts: 1 });
});

afterAll(() => tc?.close());

beforeEach(async () => {
  // A fresh certificate secret per test: its tags are the state under test.
  const secretName = `certpipe/site-${++secretCount}`;
  await sm.send(new CreateSecretCommand({ Name: secretName, Tags: [{ Key: 'certpipe:managed', Value: 'true' }] }));
  const inventory = parseInventory({
    version: 1,
    issuers: [{ name: 'ca', directoryUrl: 'https://ca.test/dir', accountSecretName: 'certpipe/acme-account/ca' }],
    certificates: [
      {
        name: 'site',
        dnsNames: ['clean.test', '*.clean.test', 'www.clean.test'],
        issuer: 'ca',
        keyAlgorithm: 'ecdsa-p256',
        privateKeyRotation: 'always',
        renewal: { renewAtFractionLeft: 0.33 },
        secretName,
        hostedZoneIds: {},
        targets: [],
      },
    ],
    hostedZones: [{ name: 'clean.test', id: zoneId }],
    resolvers: [],
    eventBusName: 'default',
  });
  ctx = { env: { inventory, holderLeaseMs: 3600_000 }, inventory, holds: new PendingOrderTags(aws.secretsManager()), dns: route53Zones(aws, inventory), now: () => new Date() };
  spec = inventory.certificates[0]!;
  await writeTxt('_acme-challenge.clean.test', [FOREIGN]);
  await route53
    .send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch: { Changes: [{ Action: 'DELETE', ResourceRecordSet: { Name: '_acme-challenge.www.clean.test', Type: 'TXT', TTL: 60, ResourceRecords: [{ Value: `"${WWW}"` }] } }] } }))
    .catch(() => undefined);
});

describe('cleanupChallenges', () => {
  it('after PlaceChallenges failed halfway (no order in the state), removes the recorded values and no other writer value', async () => {
    await hold('exec-A');
    // Two of the three values were written before the failure; the apex name also holds another client's value.
    await writeTxt('_acme-challenge.clean.test', [FOREIGN, APEX]);
    await writeTxt('_acme-challenge.www.clean.test', [WWW]);

    const out = await cleanupChallenges(ctx, { name: 'site', execution: { id: 'exec-A', startTime: new Date().toISOString(), timeoutSeconds: 21_600 }, error: { Error: 'AccessDenied' } });

    expect(out.failures).toEqual([]);
    expect(await txtValues('_acme-challenge.clean.test')).toEqual([FOREIGN]);
    expect(await txtValues('_acme-challenge.www.clean.test')).toEqual([]);
    expect(await challengeTags()).toEqual([]);
  });

  it('leaves the values while another execution holds them; the last one out removes them', async () => {
    await hold('exec-A');
    await hold('exec-B');
    await writeTxt('_acme-challenge.clean.test', [FOREIGN, APEX, WILDCARD]);
    await writeTxt('_acme-challenge.www.clean.test', [WWW]);

    await cleanupChallenges(ctx, { name: 'site', execution: { id: 'exec-B', startTime: new Date().toISOString(), timeoutSeconds: 21_600 }, error: { Error: 'DnsPropagationTimeout' } });
    expect(await txtValues('_acme-challenge.clean.test')).toEqual([APEX, WILDCARD, FOREIGN].sort());
    expect(await txtValues('_acme-challenge.www.clean.test')).toEqual([WWW]);
    expect(await challengeTags()).toHaveLength(2); // A's holder and the order's values

    const records = [
      { identifier: 'clean.test', fqdn: '_acme-challenge.clean.test', zoneId, value: APEX },
      { identifier: '*.clean.test', fqdn: '_acme-challenge.clean.test', zoneId, value: WILDCARD },
      { identifier: 'www.clean.test', fqdn: '_acme-challenge.www.clean.test', zoneId, value: WWW },
    ];
    await cleanupChallenges(ctx, { name: 'site', execution: { id: 'exec-A', startTime: new Date().toISOString(), timeoutSeconds: 21_600 }, order: { orderUrl: ORDER, records } });
    expect(await txtValues('_acme-challenge.clean.test')).toEqual([FOREIGN]);
    expect(await txtValues('_acme-challenge.www.clean.test')).toEqual([]);
    expect(await challengeTags()).toEqual([]);
  });

  it('a holder whose lease has ended (its execution stopped before cleaning up) does not keep the values', async () => {
    await hold('exec-stopped', new Date(Date.now() - 1000));
    await hold('exec-A');
    await writeTxt('_acme-challenge.clean.test', [FOREIGN, APEX, WILDCARD]);

    await cleanupChallenges(ctx, { name: 'site', execution: { id: 'exec-A', startTime: new Date().toISOString(), timeoutSeconds: 21_600 }, error: { Error: 'AcmeOrderInvalid' } });
    expect(await txtValues('_acme-challenge.clean.test')).toEqual([FOREIGN]);
    expect(await challengeTags()).toEqual([]);
  });

  it('removes the values in the state when no tag recorded them (a run placed before the tags existed)', async () => {
    await writeTxt('_acme-challenge.clean.test', [FOREIGN, APEX]);
    const records = [{ identifier: 'clean.test', fqdn: '_acme-challenge.clean.test', zoneId, value: APEX }];
    const out = await cleanupChallenges(ctx, { name: 'site', order: { records } });
    expect(out).toEqual({ removed: 1, failures: [] });
    expect(await txtValues('_acme-challenge.clean.test')).toEqual([FOREIGN]);
  });
});
