// The Route 53 challenge provider and the propagation checker against the local
// Route 53 and its authoritative DNS server (no CA needed).
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
  type ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AwsClients } from '../../functions/lib/aws.js';
import { authoritativeTxt, checkPropagation, route53Nameservers } from '../../functions/lib/dns/propagation.js';
import { Route53ChallengeProvider,
  route53Client, type ZoneConfig } from '../../functions/lib/dns/route53.js';
import { startTestCloud, type TestCloud } from '../support/cloud.js';
import { recordCalls } from '../support/sdk-calls.js';

let tc: TestCloud;
let route53: Route53Client;
let mainZone: string;
let delegatedZone: string;
let zones: ZoneConfig;
let resolvers: string[];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function txt(zoneId: string, fqdn: string): Promise<ResourceRecordSet | undefined> {
  const r = await route53.send(
    new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, StartRecordName: fqdn, StartRecordType: 'TXT', MaxItems: 1 }),
  );
  const set = r.ResourceRecordSets?.[0];
  return set && set.Name === `${fqdn}.` && set.Type === 'TXT' ? set : undefined;
}

const valuesOf = (set: ResourceRecordSet | undefined) => (set?.ResourceRecords ?? []).map((r) => r.Value).sort();

async function write(zoneId: string, action: 'CREATE' | 'UPSERT', set: ResourceRecordSet): Promise<void> {
  await route53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch: { Changes: [{ Action: action, ResourceRecordSet: set }] } }));
}

beforeAll(async () => {
  tc = await startTestCloud({ settings: { insyncDelayMs: 0 } });
  route53 = new Route53Client(tc.sdkConfig());
  const create = async (name: string) =>
    (await route53.send(new CreateHostedZoneCommand({ Name: name, CallerReference: name }))).HostedZone!.Id!.replace('/hostedzone/', '');
  mainZone = await create('dns.test');
  delegatedZone = await create('validation.example');
  await create('sub.dns.test');
  // Ids of two zones left for the provider to look up by name.
  zones = { hostedZones: [{ name: 'dns.test' }, { name: 'validation.example' }, { name: 'sub.dns.test' }] };
  resolvers = [`127.0.0.1:${tc.dnsPort}`];
});

afterAll(() => tc?.close());

beforeEach(async () => {
  await tc.clearFaults();
  await tc.setSettings({ insyncDelayMs: 0, dnsLagMs: 0, dnsHiddenNames: [] });
});

describe('present', () => {
  it("spends Route 53's 5 requests per second sparingly: one read per name, one change batch per zone, both ways", async () => {
    // A certificate's names in one zone (one written there already by someone else, one CNAME-delegated elsewhere).
    await write(mainZone, 'CREATE', { Name: '_acme-challenge.www.thrift.dns.test', Type: 'TXT', TTL: 300, ResourceRecords: [{ Value: '"foreign"' }] });
    await write(mainZone, 'CREATE', { Name: '_acme-challenge.cdn.thrift.dns.test', Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: 'cdn.thrift.validation.example' }] });
    const client = new Route53Client(tc.sdkConfig());
    const calls = recordCalls(client);
    const provider = new Route53ChallengeProvider(client, {
      hostedZones: [{ name: 'dns.test', id: mainZone }, { name: 'validation.example', id: delegatedZone }],
      challengeDelegations: { '_acme-challenge.cdn.thrift.dns.test': 'cdn.thrift.validation.example' },
    });
    const names = ['thrift.dns.test', 'www.thrift.dns.test', 'api.thrift.dns.test', 'cdn.thrift.dns.test'];
    const result = await provider.present(names.map((n) => ({ fqdn: `_acme-challenge.${n}`, value: `v-${n}` })));
    // Four names, one of them delegated: a read per name plus one for the CNAME's target, one batch per zone written.
    expect(calls.filter((c) => c === 'ListResourceRecordSetsCommand')).toHaveLength(5);
    expect(calls.filter((c) => c === 'ChangeResourceRecordSetsCommand')).toHaveLength(2);
    expect(result.changeIds).toHaveLength(2);
    expect(valuesOf(await txt(mainZone, '_acme-challenge.www.thrift.dns.test'))).toEqual(['"foreign"', '"v-www.thrift.dns.test"']);
    expect(valuesOf(await txt(delegatedZone, 'cdn.thrift.validation.example'))).toEqual(['"v-cdn.thrift.dns.test"']);

    calls.length = 0;
    await provider.cleanUp(result.records);
    expect(calls.filter((c) => c === 'ListResourceRecordSetsCommand')).toHaveLength(4);
    expect(calls.filter((c) => c === 'ChangeResourceRecordSetsCommand')).toHaveLength(2);
    expect(valuesOf(await txt(mainZone, '_acme-challenge.www.thrift.dns.test'))).toEqual(['"foreign"']);
    for (const n of ['thrift.dns.test', 'api.thrift.dns.test']) expect(await txt(mainZone, `_acme-challenge.${n}`)).toBeUndefined();
    expect(await txt(delegatedZone, 'cdn.thrift.validation.example')).toBeUndefined();
  });

  it('merges with a value another writer put there, and cleanUp leaves that value', async () => {
    const fqdn = '_acme-challenge.merge.dns.test';
    await write(mainZone, 'CREATE', { Name: fqdn, Type: 'TXT', TTL: 300, ResourceRecords: [{ Value: '"foreign-value"' }] });
    const provider = new Route53ChallengeProvider(route53, zones);

    const result = await provider.present([
      { fqdn, value: 'ours-apex' },
      { fqdn, value: 'ours-wildcard' },
    ]);
    expect(result.changeIds).toHaveLength(1);
    expect(await provider.changeStatus(result.changeIds)).toBe(true);
    const set = await txt(mainZone, fqdn);
    expect(valuesOf(set)).toEqual(['"foreign-value"', '"ours-apex"', '"ours-wildcard"']);
    expect(set?.TTL).toBe(60);

    // Repeating is harmless and changes nothing.
    expect((await provider.present([{ fqdn, value: 'ours-apex' }])).changeIds).toEqual([]);

    await provider.cleanUp(result.records);
    expect(valuesOf(await txt(mainZone, fqdn))).toEqual(['"foreign-value"']);
  });

  it('deletes the whole set when only our values were there, and cleaning an absent record succeeds', async () => {
    const fqdn = '_acme-challenge.alone.dns.test';
    const provider = new Route53ChallengeProvider(route53, zones);
    const { records } = await provider.present([{ fqdn, value: 'v' }]);
    expect(valuesOf(await txt(mainZone, fqdn))).toEqual(['"v"']);
    await provider.cleanUp(records);
    expect(await txt(mainZone, fqdn)).toBeUndefined();
    await expect(provider.cleanUp(records)).resolves.toEqual([]);
    await expect(provider.cleanUp([{ fqdn: '_acme-challenge.never.dns.test', value: 'x' }])).resolves.toEqual([]);
  });

  it('picks the longest matching zone', async () => {
    const provider = new Route53ChallengeProvider(route53, zones);
    const { records } = await provider.present([{ fqdn: '_acme-challenge.www.sub.dns.test', value: 'deep' }]);
    expect(records[0]!.zoneId).not.toBe(mainZone);
    expect(valuesOf(await txt(records[0]!.zoneId, '_acme-challenge.www.sub.dns.test'))).toEqual(['"deep"']);
    expect(await txt(mainZone, '_acme-challenge.www.sub.dns.test')).toBeUndefined();
    await provider.cleanUp(records);
  });

  it('uses the zone id the config fixes for a name', async () => {
    const provider = new Route53ChallengeProvider(route53, {
      hostedZones: [],
      hostedZoneIds: { '*.fixed.dns.test': mainZone, 'fixed.dns.test': mainZone },
    });
    const { records } = await provider.present([{ fqdn: '_acme-challenge.fixed.dns.test', value: 'f' }]);
    expect(records[0]!.zoneId).toBe(mainZone);
    await provider.cleanUp(records);
  });

  it('follows a CNAME-delegated _acme-challenge name to the zone that answers', async () => {
    const fqdn = '_acme-challenge.cname.dns.test';
    const target = 'cname.dns.test.validation.example';
    await write(mainZone, 'CREATE', { Name: fqdn, Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: `${target}.` }] });
    const provider = new Route53ChallengeProvider(route53, { ...zones, challengeDelegations: { [fqdn]: target } });

    const result = await provider.present([{ fqdn, value: 'delegated' }]);
    expect(result.records).toEqual([{ fqdn: target, value: 'delegated', zoneId: delegatedZone, delegatedFrom: fqdn }]);
    expect(valuesOf(await txt(delegatedZone, target))).toEqual(['"delegated"']);
    // The resolver follows the CNAME, as the CA does.
    expect((await checkPropagation({ records: [{ fqdn, value: 'delegated' }], resolvers })).ready).toBe(true);

    await provider.cleanUp(result.records);
    expect(await txt(delegatedZone, target)).toBeUndefined();
  });

  it('refuses to write at a delegation target the config does not name, and names the field', async () => {
    const fqdn = '_acme-challenge.undeclared.dns.test';
    const target = 'undeclared.dns.test.validation.example';
    await write(mainZone, 'CREATE', { Name: fqdn, Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: `${target}.` }] });
    const declaredElsewhere = new Route53ChallengeProvider(route53, { ...zones, challengeDelegations: { [fqdn]: 'other.validation.example' } });
    for (const provider of [new Route53ChallengeProvider(route53, zones), declaredElsewhere]) {
      await expect(provider.present([{ fqdn, value: 'x' }])).rejects.toMatchObject({
        name: 'InvalidInput',
        message: expect.stringContaining(`challengeDelegations: { "undeclared.dns.test": "${target}" }`),
      });
    }
    expect(await txt(delegatedZone, target)).toBeUndefined();
  });

  it('refuses a CNAME pointing outside the configured zones', async () => {
    const fqdn = '_acme-challenge.away.dns.test';
    await write(mainZone, 'CREATE', { Name: fqdn, Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: 'elsewhere.invalid.' }] });
    const provider = new Route53ChallengeProvider(route53, zones);
    await expect(provider.present([{ fqdn, value: 'x' }])).rejects.toMatchObject({ name: 'HostedZoneNotFound' });
  });

  it('names the missing zone when none covers a name', async () => {
    const provider = new Route53ChallengeProvider(route53, zones);
    await expect(provider.present([{ fqdn: '_acme-challenge.example.org', value: 'x' }])).rejects.toThrow(/example\.org.*hostedZones/);
  });

  it('two writers racing on one name both keep their values', async () => {
    const fqdn = '_acme-challenge.race.dns.test';
    const a = new Route53ChallengeProvider(route53, zones);
    const b = new Route53ChallengeProvider(route53, zones);
    const values = Array.from({ length: 6 }, (_, i) => `racer-${i}`);
    await Promise.all(values.map((value, i) => (i % 2 ? a : b).present([{ fqdn, value }])));
    expect(valuesOf(await txt(mainZone, fqdn))).toEqual(values.map((v) => `"${v}"`).sort());
    await Promise.all(values.map((value, i) => (i % 2 ? a : b).cleanUp([{ fqdn, value }])));
    expect(await txt(mainZone, fqdn)).toBeUndefined();
  });
});

describe('Route 53 throttling', () => {
  it('PriorRequestNotComplete is retried by the SDK (adaptive retry from route53Client)', async () => {
    await tc.setFault({ service: 'route53', operation: 'ChangeResourceRecordSets', error: 'PriorRequestNotComplete', status: 400, count: 2 });
    const clients = new AwsClients({ endpoint: tc.url, credentials: tc.sdkConfig().credentials });
    const provider = new Route53ChallengeProvider(route53Client(clients), zones);
    const { records } = await provider.present([{ fqdn: '_acme-challenge.throttled.dns.test', value: 't' }]);
    expect(valuesOf(await txt(mainZone, '_acme-challenge.throttled.dns.test'))).toEqual(['"t"']);
    await provider.cleanUp(records);
  });

  it('what outlives the retries is AwsTransient', async () => {
    await tc.setFault({ service: 'route53', operation: 'ChangeResourceRecordSets', error: 'Throttling', status: 400, count: 1 });
    const provider = new Route53ChallengeProvider(route53, zones); // maxAttempts 1
    await expect(provider.present([{ fqdn: '_acme-challenge.throttled2.dns.test', value: 't' }])).rejects.toMatchObject({
      name: 'AwsTransient',
      retryable: true,
    });
  });
});

describe('changeStatus and propagation', () => {
  it('reports PENDING until INSYNC, then the value only after the DNS lag', async () => {
    await tc.setSettings({ insyncDelayMs: 300, dnsLagMs: 400 });
    const fqdn = '_acme-challenge.lag.dns.test';
    const provider = new Route53ChallengeProvider(route53, zones);
    const { changeIds, records } = await provider.present([{ fqdn, value: 'late' }]);
    expect(await provider.changeStatus(changeIds)).toBe(false);
    const early = await checkPropagation({ records, resolvers });
    expect(early.ready).toBe(false);
    expect(early.missing).toEqual([fqdn]);

    let insync = false;
    for (let i = 0; i < 40 && !insync; i++) {
      insync = await provider.changeStatus(changeIds);
      if (!insync) await sleep(100);
    }
    expect(insync).toBe(true);
    let ready = false;
    for (let i = 0; i < 40 && !ready; i++) {
      ready = (await checkPropagation({ records, resolvers })).ready;
      if (!ready) await sleep(100);
    }
    expect(ready).toBe(true);
    await tc.setSettings({ insyncDelayMs: 0, dnsLagMs: 0 });
    await provider.cleanUp(records);
  });

  it('a record that never shows is "not yet", every time, never an error', async () => {
    const fqdn = '_acme-challenge.hidden.dns.test';
    await tc.setSettings({ dnsHiddenNames: [fqdn] });
    const provider = new Route53ChallengeProvider(route53, zones);
    const { records } = await provider.present([{ fqdn, value: 'invisible' }]);
    const result = await checkPropagation({ records, resolvers });
    expect(result).toMatchObject({ ready: false, missing: [fqdn] });
    expect(result.details[0]).toContain(`@127.0.0.1:${tc.dnsPort}`);
    await provider.cleanUp(records);
  });

  it('tells NXDOMAIN from NODATA and from a found value', async () => {
    const provider = new Route53ChallengeProvider(route53, zones);
    const { records } = await provider.present([{ fqdn: '_acme-challenge.answers.dns.test', value: 'here' }]);
    await write(mainZone, 'UPSERT', { Name: 'a-only.dns.test', Type: 'A', TTL: 60, ResourceRecords: [{ Value: '192.0.2.1' }] });

    const [found] = await authoritativeTxt('_acme-challenge.answers.dns.test', { resolvers });
    expect(found).toMatchObject({ status: 'found', values: ['here'] });
    const [nodata] = await authoritativeTxt('a-only.dns.test', { resolvers });
    expect(nodata?.status).toBe('nodata');
    const [nx] = await authoritativeTxt('_acme-challenge.nothing-here.dns.test', { resolvers });
    expect(nx?.status).toBe('nxdomain');
    await provider.cleanUp(records);
  });

  it('every server must show the value: one that does not answer keeps it "not ready"', async () => {
    const provider = new Route53ChallengeProvider(route53, zones);
    const { records } = await provider.present([{ fqdn: '_acme-challenge.two.dns.test', value: 'two' }]);
    const result = await checkPropagation({ records, resolvers: [...resolvers, '127.0.0.1:9'], timeoutMs: 300 });
    expect(result.ready).toBe(false);
    expect(result.details.join('\n')).toContain('127.0.0.1:9');
    await provider.cleanUp(records);
  });

  it('asks the nameservers a resolver function names (the zone delegation set, locally the DNS port)', async () => {
    const provider = new Route53ChallengeProvider(route53, zones);
    const { records } = await provider.present([{ fqdn: '_acme-challenge.ns.dns.test', value: 'ns' }]);
    const delegation = await route53Nameservers(route53, mainZone);
    expect(delegation.length).toBeGreaterThan(0);
    const asked: string[] = [];
    const result = await checkPropagation({
      records,
      nameserversFor: async (fqdn) => {
        asked.push(fqdn);
        return [`127.0.0.1:${tc.dnsPort}`];
      },
    });
    expect(result.ready).toBe(true);
    expect(asked).toEqual(['_acme-challenge.ns.dns.test']);
    await provider.cleanUp(records);
  });
});
