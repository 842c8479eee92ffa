// The local Route 53 through the real SDK v3 client: every operation certpipe
// calls, the error classes the SDK raises, batch atomicity, pagination and
// INSYNC timing, account isolation and persistence across a restart.
import fs from 'node:fs';
import os from 'node:os';
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  DeleteHostedZoneCommand,
  GetChangeCommand,
  GetHostedZoneCommand,
  HostedZoneAlreadyExists,
  HostedZoneNotEmpty,
  InvalidChangeBatch,
  InvalidInput,
  ListHostedZonesByNameCommand,
  ListHostedZonesCommand,
  ListResourceRecordSetsCommand,
  NoSuchChange,
  NoSuchHostedZone,
  PriorRequestNotComplete,
  Route53Client,
  type Change,
  type ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalAws, type LocalAws } from '../../local/aws/server.js';
import { FileStore } from '../../local/aws/store.js';

const DEFAULT_ACCOUNT = '000000000000';
const OTHER_ACCOUNT = '111111111111';
// These tests call faster than 5 requests/s with no retries, to see each answer as
// it is; the request rate is tested on its own ("request rate" below).
const UNTHROTTLED = { route53RequestsPerSecond: 0 };

let dataDir: string;
let aws: LocalAws;

function client(account = DEFAULT_ACCOUNT, url = aws.url): Route53Client {
  return new Route53Client({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: account, secretAccessKey: 'test' },
    maxAttempts: 1,
  });
}

let zoneCounter = 0;
async function createZone(name: string, r53 = client()): Promise<string> {
  const created = await r53.send(new CreateHostedZoneCommand({ Name: name, CallerReference: `ref-${++zoneCounter}-${name}` }));
  return created.HostedZone!.Id!;
}

function txt(name: string, ttl: number, ...values: string[]): ResourceRecordSet {
  return { Name: name, Type: 'TXT', TTL: ttl, ResourceRecords: values.map((Value) => ({ Value })) };
}

function change(action: Change['Action'], rrset: ResourceRecordSet): Change {
  return { Action: action, ResourceRecordSet: rrset };
}

async function apply(zoneId: string, ...changes: Change[]) {
  return client().send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch: { Changes: changes } }));
}

async function allRecordSets(zoneId: string, r53 = client()): Promise<ResourceRecordSet[]> {
  return (await r53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }))).ResourceRecordSets ?? [];
}

async function rejection(promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to fail');
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(`${os.tmpdir()}/certpipe-`);
  aws = await startLocalAws({ port: 0, dataDir, settings: { insyncDelayMs: 0, nameserver: 'ns1.r53test.localhost', ...UNTHROTTLED } });
});

afterAll(async () => {
  await aws?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('hosted zones', () => {
  it('CreateHostedZone returns the zone, a PENDING change and the local nameserver, and makes SOA and NS', async () => {
    aws.cloud.settings.insyncDelayMs = 60_000;
    const created = await client().send(
      new CreateHostedZoneCommand({ Name: 'Create.Example.COM', CallerReference: 'create-1', HostedZoneConfig: { Comment: 'made by a test' } }),
    );
    aws.cloud.settings.insyncDelayMs = 0;

    expect(created.$metadata.httpStatusCode).toBe(201);
    expect(created.HostedZone?.Id).toMatch(/^\/hostedzone\/Z[A-Z0-9]+$/);
    expect(created.Location).toContain(created.HostedZone!.Id!);
    expect(created.HostedZone).toMatchObject({
      Name: 'create.example.com.',
      CallerReference: 'create-1',
      Config: { Comment: 'made by a test', PrivateZone: false },
      ResourceRecordSetCount: 2,
    });
    expect(created.ChangeInfo?.Id).toMatch(/^\/change\/C[A-Z0-9]+$/);
    expect(created.ChangeInfo?.Status).toBe('PENDING');
    expect(created.ChangeInfo?.SubmittedAt).toBeInstanceOf(Date);
    expect(created.DelegationSet?.NameServers).toEqual(['ns1.r53test.localhost']);

    const records = await allRecordSets(created.HostedZone!.Id!);
    expect(records.map((r) => [r.Name, r.Type])).toEqual([
      ['create.example.com.', 'NS'],
      ['create.example.com.', 'SOA'],
    ]);
    expect(records[0]!.ResourceRecords).toEqual([{ Value: 'ns1.r53test.localhost.' }]);
    expect(records[1]!.ResourceRecords![0]!.Value).toMatch(/^ns1\.r53test\.localhost\. \S+ 1 7200 900 1209600 86400$/);
  });

  it('a reused CallerReference fails with HostedZoneAlreadyExists', async () => {
    await client().send(new CreateHostedZoneCommand({ Name: 'callerref.example', CallerReference: 'same-ref' }));
    const err = await rejection(client().send(new CreateHostedZoneCommand({ Name: 'callerref2.example', CallerReference: 'same-ref' })));
    expect(err).toBeInstanceOf(HostedZoneAlreadyExists);
    expect(err.$metadata?.httpStatusCode).toBe(409);
    // Caller references are per account.
    await client(OTHER_ACCOUNT).send(new CreateHostedZoneCommand({ Name: 'callerref.example', CallerReference: 'same-ref' }));
  });

  it('GetHostedZone returns the zone and its delegation set; an unknown id is NoSuchHostedZone', async () => {
    const id = await createZone('get.example.org');
    const got = await client().send(new GetHostedZoneCommand({ Id: id }));
    expect(got.HostedZone).toMatchObject({ Id: id, Name: 'get.example.org.', ResourceRecordSetCount: 2 });
    expect(got.DelegationSet?.NameServers).toEqual(['ns1.r53test.localhost']);

    const err = await rejection(client().send(new GetHostedZoneCommand({ Id: 'ZDOESNOTEXIST' })));
    expect(err).toBeInstanceOf(NoSuchHostedZone);
    expect(err.message).toBe('No hosted zone found with ID: ZDOESNOTEXIST');
    expect(err.$metadata?.httpStatusCode).toBe(404);
  });

  it('accounts are isolated: another account can neither see nor change the zone', async () => {
    const id = await createZone('isolated.example.net');
    const other = client(OTHER_ACCOUNT);
    expect(await rejection(other.send(new GetHostedZoneCommand({ Id: id })))).toBeInstanceOf(NoSuchHostedZone);
    expect(
      await rejection(other.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: id, ChangeBatch: { Changes: [change('UPSERT', txt('isolated.example.net', 60, '"x"'))] } }))),
    ).toBeInstanceOf(NoSuchHostedZone);
    expect(await rejection(other.send(new ListResourceRecordSetsCommand({ HostedZoneId: id })))).toBeInstanceOf(NoSuchHostedZone);
    const listed = await other.send(new ListHostedZonesCommand({}));
    expect(listed.HostedZones?.map((z) => z.Id)).not.toContain(id);
  });

  it('ListHostedZones pages with Marker / NextMarker', async () => {
    const account = '222222222222';
    const r53 = client(account);
    const ids = [];
    for (const name of ['a.list.test', 'b.list.test', 'c.list.test', 'd.list.test', 'e.list.test']) ids.push(await createZone(name, r53));

    const seen: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const page = await r53.send(new ListHostedZonesCommand({ MaxItems: 2, Marker: marker }));
      pages++;
      expect(page.HostedZones!.length).toBeLessThanOrEqual(2);
      expect(page.MaxItems).toBe(2);
      seen.push(...page.HostedZones!.map((z) => z.Id!));
      marker = page.IsTruncated ? page.NextMarker : undefined;
    } while (marker);
    expect(pages).toBe(3);
    expect([...seen].sort()).toEqual([...ids].sort());
  });

  it('ListHostedZonesByName orders by reversed labels and pages with NextDNSName / NextHostedZoneId', async () => {
    const r53 = client('333333333333');
    for (const name of ['www.zeta.com', 'alpha.org', 'zeta.com', 'beta.com', 'a.alpha.org']) await createZone(name, r53);

    const all = await r53.send(new ListHostedZonesByNameCommand({}));
    expect(all.HostedZones?.map((z) => z.Name)).toEqual(['beta.com.', 'zeta.com.', 'www.zeta.com.', 'alpha.org.', 'a.alpha.org.']);
    expect(all.IsTruncated).toBe(false);

    const first = await r53.send(new ListHostedZonesByNameCommand({ MaxItems: 2 }));
    expect(first.HostedZones?.map((z) => z.Name)).toEqual(['beta.com.', 'zeta.com.']);
    expect(first.IsTruncated).toBe(true);
    expect(first.NextDNSName).toBe('www.zeta.com.');
    const second = await r53.send(
      new ListHostedZonesByNameCommand({ MaxItems: 2, DNSName: first.NextDNSName, HostedZoneId: first.NextHostedZoneId }),
    );
    expect(second.DNSName).toBe('www.zeta.com.');
    expect(second.HostedZones?.map((z) => z.Name)).toEqual(['www.zeta.com.', 'alpha.org.']);

    const exact = await r53.send(new ListHostedZonesByNameCommand({ DNSName: 'ZETA.com', MaxItems: 1 }));
    expect(exact.HostedZones?.[0]?.Name).toBe('zeta.com.');
  });

  it('DeleteHostedZone refuses a zone with records (HostedZoneNotEmpty), then deletes it', async () => {
    const id = await createZone('delete.example');
    await apply(id, change('CREATE', txt('x.delete.example', 60, '"v"')));
    expect(await rejection(client().send(new DeleteHostedZoneCommand({ Id: id })))).toBeInstanceOf(HostedZoneNotEmpty);
    await apply(id, change('DELETE', txt('x.delete.example', 60, '"v"')));
    const deleted = await client().send(new DeleteHostedZoneCommand({ Id: id }));
    expect(deleted.ChangeInfo?.Id).toMatch(/^\/change\//);
    expect(await rejection(client().send(new GetHostedZoneCommand({ Id: id })))).toBeInstanceOf(NoSuchHostedZone);
  });
});

describe('ChangeResourceRecordSets', () => {
  let zoneId: string;
  beforeAll(async () => {
    zoneId = await createZone('batch.example.com');
  });

  it('CREATE adds a record set, with the name normalized and ChangeInfo returned', async () => {
    const result = await apply(zoneId, change('CREATE', txt('_ACME-Challenge.Batch.Example.com', 60, '"token-1"')));
    expect(result.ChangeInfo?.Id).toMatch(/^\/change\/C/);
    expect(result.ChangeInfo?.Status).toMatch(/PENDING|INSYNC/);
    const found = await allRecordSets(zoneId);
    expect(found).toContainEqual(txt('_acme-challenge.batch.example.com.', 60, '"token-1"'));
  });

  it('CREATE of an existing set fails with InvalidChangeBatch and Route 53 message', async () => {
    await apply(zoneId, change('CREATE', txt('dup.batch.example.com', 60, '"a"')));
    const err = await rejection(apply(zoneId, change('CREATE', txt('dup.batch.example.com', 60, '"b"'))));
    expect(err).toBeInstanceOf(InvalidChangeBatch);
    expect(err.$metadata?.httpStatusCode).toBe(400);
    expect(err.message).toBe("[Tried to create resource record set [name='dup.batch.example.com.', type='TXT'] but it already exists]");
  });

  it('DELETE must match exactly: absent set and different values or TTL are InvalidChangeBatch', async () => {
    await apply(zoneId, change('CREATE', txt('del.batch.example.com', 60, '"a"', '"b"')));

    const absent = await rejection(apply(zoneId, change('DELETE', txt('nothing.batch.example.com', 60, '"a"'))));
    expect(absent).toBeInstanceOf(InvalidChangeBatch);
    expect(absent.message).toBe("[Tried to delete resource record set [name='nothing.batch.example.com.', type='TXT'] but it was not found]");

    for (const wrong of [txt('del.batch.example.com', 300, '"a"', '"b"'), txt('del.batch.example.com', 60, '"a"')]) {
      const err = await rejection(apply(zoneId, change('DELETE', wrong)));
      expect(err).toBeInstanceOf(InvalidChangeBatch);
      expect(err.message).toBe(
        "[Tried to delete resource record set [name='del.batch.example.com.', type='TXT'] but the values provided do not match the current values]",
      );
    }
    // Value order does not matter.
    await apply(zoneId, change('DELETE', txt('del.batch.example.com', 60, '"b"', '"a"')));
    expect((await allRecordSets(zoneId)).some((r) => r.Name === 'del.batch.example.com.')).toBe(false);
  });

  it('UPSERT replaces the whole set', async () => {
    await apply(zoneId, change('UPSERT', txt('up.batch.example.com', 60, '"one"', '"two"')));
    await apply(zoneId, change('UPSERT', txt('up.batch.example.com', 120, '"three"')));
    const found = (await allRecordSets(zoneId)).filter((r) => r.Name === 'up.batch.example.com.');
    expect(found).toEqual([txt('up.batch.example.com.', 120, '"three"')]);
  });

  it('TXT values must be quoted', async () => {
    const err = await rejection(apply(zoneId, change('CREATE', txt('unquoted.batch.example.com', 60, 'abc'))));
    expect(err).toBeInstanceOf(InvalidChangeBatch);
    expect(err.message).toContain('Value should be enclosed in quotation marks');
    expect(err.message).toContain("'abc'");
  });

  it('names outside the zone are rejected', async () => {
    const err = await rejection(apply(zoneId, change('CREATE', txt('www.other.example.org', 60, '"x"'))));
    expect(err).toBeInstanceOf(InvalidChangeBatch);
    expect(err.message).toBe('[RRSet with DNS name www.other.example.org. is not permitted in zone batch.example.com.]');
  });

  it('is atomic: one bad change fails the batch, reports every problem, and changes nothing', async () => {
    const before = await allRecordSets(zoneId);
    const err = await rejection(
      apply(
        zoneId,
        change('CREATE', txt('atomic-1.batch.example.com', 60, '"fine"')),
        change('UPSERT', txt('up.batch.example.com', 60, '"would replace"')),
        change('CREATE', txt('dup.batch.example.com', 60, '"exists"')),
        change('DELETE', txt('ghost.batch.example.com', 60, '"x"')),
      ),
    );
    expect(err).toBeInstanceOf(InvalidChangeBatch);
    expect(err.message).toBe(
      "[Tried to create resource record set [name='dup.batch.example.com.', type='TXT'] but it already exists, " +
        "Tried to delete resource record set [name='ghost.batch.example.com.', type='TXT'] but it was not found]",
    );
    expect(await allRecordSets(zoneId)).toEqual(before);
  });

  it('changes apply in order within a batch: DELETE then CREATE of the same set replaces it', async () => {
    await apply(zoneId, change('CREATE', txt('swap.batch.example.com', 60, '"old"')));
    await apply(zoneId, change('DELETE', txt('swap.batch.example.com', 60, '"old"')), change('CREATE', txt('swap.batch.example.com', 30, '"new"')));
    expect((await allRecordSets(zoneId)).filter((r) => r.Name === 'swap.batch.example.com.')).toEqual([
      txt('swap.batch.example.com.', 30, '"new"'),
    ]);
  });

  it('a batch that changes one record set twice, other than DELETE then CREATE, is InvalidChangeBatch and changes nothing', async () => {
    await apply(zoneId, change('CREATE', txt('twice.batch.example.com', 60, '"a"')));
    const before = await allRecordSets(zoneId);
    const pairs: [Change['Action'], Change['Action']][] = [
      ['UPSERT', 'UPSERT'],
      ['DELETE', 'UPSERT'],
      ['UPSERT', 'DELETE'],
      ['DELETE', 'DELETE'],
    ];
    for (const [first, second] of pairs) {
      const err = await rejection(
        apply(zoneId, change(first, txt('Twice.batch.example.com', 60, '"a"')), change(second, txt('twice.batch.example.com', 60, '"a"'))),
      );
      expect(err, `${first} then ${second}`).toBeInstanceOf(InvalidChangeBatch);
      expect(err.message).toBe("[The request contains an invalid set of changes for a resource record set 'TXT twice.batch.example.com.']");
    }
    // A new set created and deleted in one batch is refused the same way.
    const fresh = await rejection(
      apply(zoneId, change('CREATE', txt('fresh.batch.example.com', 60, '"a"')), change('DELETE', txt('fresh.batch.example.com', 60, '"a"'))),
    );
    expect(fresh.message).toBe("[The request contains an invalid set of changes for a resource record set 'TXT fresh.batch.example.com.']");
    // DELETE, CREATE, then anything more is too many.
    const thrice = await rejection(
      apply(
        zoneId,
        change('DELETE', txt('twice.batch.example.com', 60, '"a"')),
        change('CREATE', txt('twice.batch.example.com', 60, '"b"')),
        change('UPSERT', txt('twice.batch.example.com', 60, '"c"')),
      ),
    );
    expect(thrice).toBeInstanceOf(InvalidChangeBatch);
    expect(await allRecordSets(zoneId)).toEqual(before);
    // The same name with another type is another record set.
    await apply(zoneId, change('UPSERT', txt('twice.batch.example.com', 60, '"c"')), change('CREATE', { Name: 'twice.batch.example.com', Type: 'A', TTL: 60, ResourceRecords: [{ Value: '192.0.2.9' }] }));
  });

  it('more than 32,000 characters of values in one request is InvalidChangeBatch, UPSERT counting twice', async () => {
    const values = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `"${tag}${String(i).padStart(4, '0')}${'v'.repeat(240)}"`);
    // 130 values of 250 characters: 32,500.
    const over = await rejection(apply(zoneId, change('CREATE', txt('big.batch.example.com', 60, ...values(130, 'a')))));
    expect(over).toBeInstanceOf(InvalidChangeBatch);
    expect(over.message).toBe('[RDATA character limit of 32000 exceeded.]');
    // 70 values (17,500 characters) fit once, not twice.
    await apply(zoneId, change('CREATE', txt('big.batch.example.com', 60, ...values(70, 'b'))));
    const upsert = await rejection(apply(zoneId, change('UPSERT', txt('big.batch.example.com', 60, ...values(70, 'c')))));
    expect(upsert.message).toBe('[RDATA character limit of 32000 exceeded.]');
    // 600 records upserted count as 1,200.
    const many = Array.from({ length: 600 }, (_, i) => `"${i}"`);
    const records = await rejection(apply(zoneId, change('UPSERT', txt('many.batch.example.com', 60, ...many))));
    expect(records.message).toBe('[Number of records limit of 1000 exceeded.]');
  });

  it('a CNAME cannot share its name, nor sit at the apex; the apex SOA and NS cannot be deleted', async () => {
    const cname = (name: string): ResourceRecordSet => ({ Name: name, Type: 'CNAME', TTL: 60, ResourceRecords: [{ Value: 'target.example.net' }] });
    const conflict = await rejection(apply(zoneId, change('CREATE', cname('up.batch.example.com'))));
    expect(conflict).toBeInstanceOf(InvalidChangeBatch);
    expect(conflict.message).toContain('conflicting RRSet of type TXT');
    const apex = await rejection(apply(zoneId, change('CREATE', cname('batch.example.com'))));
    expect(apex.message).toContain('is not permitted at apex');

    const [ns, soa] = (await allRecordSets(zoneId)).filter((r) => r.Name === 'batch.example.com.');
    expect((await rejection(apply(zoneId, change('DELETE', soa!)))).message).toContain('exactly one SOA');
    expect((await rejection(apply(zoneId, change('DELETE', ns!)))).message).toContain('at least one NS');
  });

  it('writes `*` as \\052 and rejects values that are not valid for the type', async () => {
    await apply(zoneId, change('CREATE', { Name: '*.wild.batch.example.com', Type: 'A', TTL: 60, ResourceRecords: [{ Value: '192.0.2.1' }] }));
    expect((await allRecordSets(zoneId)).map((r) => r.Name)).toContain('\\052.wild.batch.example.com.');
    const err = await rejection(apply(zoneId, change('CREATE', { Name: 'bad-a.batch.example.com', Type: 'A', TTL: 60, ResourceRecords: [{ Value: '300.1.1.1' }] })));
    expect(err).toBeInstanceOf(InvalidChangeBatch);
    expect(err.message).toContain('not a valid IPv4 address');
  });

  it('a malformed change (no TTL) is InvalidInput; an unknown zone is NoSuchHostedZone', async () => {
    const err = await rejection(apply(zoneId, change('CREATE', { Name: 'nottl.batch.example.com', Type: 'TXT', ResourceRecords: [{ Value: '"x"' }] })));
    expect(err).toBeInstanceOf(InvalidInput);
    expect(await rejection(apply('ZNOSUCHZONE', change('CREATE', txt('x.example', 60, '"x"'))))).toBeInstanceOf(NoSuchHostedZone);
  });
});

describe('ListResourceRecordSets', () => {
  it('pages over more than 300 record sets in Route 53 order (reversed labels, then type)', async () => {
    const zoneId = await createZone('page.example.com');
    const names = Array.from({ length: 340 }, (_, i) => `_acme-challenge.host${String(i).padStart(3, '0')}.page.example.com`);
    await apply(zoneId, ...names.map((n) => change('CREATE', txt(n, 60, `"${n.length}"`))));
    await apply(
      zoneId,
      change('CREATE', { Name: 'host007.page.example.com', Type: 'A', TTL: 60, ResourceRecords: [{ Value: '192.0.2.7' }] }),
      change('CREATE', txt('host007.page.example.com', 60, '"t"')),
      change('CREATE', txt('a.page.example.com', 60, '"t"')),
    );

    const first = await client().send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
    expect(first.ResourceRecordSets).toHaveLength(300);
    expect(first.IsTruncated).toBe(true);
    expect(first.MaxItems).toBe(300);
    const second = await client().send(
      new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, StartRecordName: first.NextRecordName, StartRecordType: first.NextRecordType }),
    );
    expect(second.IsTruncated).toBe(false);
    const listed = [...first.ResourceRecordSets!, ...second.ResourceRecordSets!].map((r) => `${r.Name} ${r.Type}`);
    expect(listed).toHaveLength(2 + 340 + 3);
    expect(new Set(listed).size).toBe(listed.length);
    expect(listed.slice(0, 3)).toEqual(['page.example.com. NS', 'page.example.com. SOA', 'a.page.example.com. TXT']);
    // A name comes right before the names below it, and its types are in order.
    const at = listed.indexOf('host007.page.example.com. A');
    expect(listed.slice(at, at + 3)).toEqual([
      'host007.page.example.com. A',
      'host007.page.example.com. TXT',
      '_acme-challenge.host007.page.example.com. TXT',
    ]);

    // Small pages walk the same order.
    const walked: string[] = [];
    let start: { name?: string; type?: string } = {};
    for (;;) {
      const page = await client().send(
        new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, MaxItems: 97, StartRecordName: start.name, StartRecordType: start.type as 'TXT' }),
      );
      walked.push(...page.ResourceRecordSets!.map((r) => `${r.Name} ${r.Type}`));
      if (!page.IsTruncated) break;
      start = { name: page.NextRecordName, type: page.NextRecordType };
    }
    expect(walked).toEqual(listed);
  });

  it('starts at StartRecordName (any case, no trailing dot needed)', async () => {
    const zoneId = await createZone('start.example.com');
    await apply(zoneId, change('CREATE', txt('b.start.example.com', 60, '"b"')), change('CREATE', txt('c.start.example.com', 60, '"c"')));
    const page = await client().send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, StartRecordName: 'B.Start.Example.Com', MaxItems: 1 }));
    expect(page.ResourceRecordSets?.map((r) => r.Name)).toEqual(['b.start.example.com.']);
    expect(page).toMatchObject({ IsTruncated: true, NextRecordName: 'c.start.example.com.', NextRecordType: 'TXT' });
  });
});

describe('GetChange', () => {
  it('is PENDING until the insync delay has passed (read at call time), then INSYNC', async () => {
    const zoneId = await createZone('change.example.com');
    aws.cloud.settings.insyncDelayMs = 3_600_000;
    const submitted = await apply(zoneId, change('CREATE', txt('c.change.example.com', 60, '"v"')));
    expect(submitted.ChangeInfo?.Status).toBe('PENDING');
    const pending = await client().send(new GetChangeCommand({ Id: submitted.ChangeInfo!.Id! }));
    expect(pending.ChangeInfo).toMatchObject({ Id: submitted.ChangeInfo!.Id, Status: 'PENDING' });
    expect(pending.ChangeInfo?.SubmittedAt?.getTime()).toBe(submitted.ChangeInfo!.SubmittedAt!.getTime());

    // Through the settings route, as an operator would.
    const res = await fetch(`${aws.url}/_certpipe/settings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ insyncDelayMs: 50 }) });
    expect(res.status).toBe(200);
    await expect.poll(async () => (await client().send(new GetChangeCommand({ Id: submitted.ChangeInfo!.Id! }))).ChangeInfo?.Status, { timeout: 10_000 }).toBe('INSYNC');
    aws.cloud.settings.insyncDelayMs = 0;
  });

  it('an unknown change, or another account\'s, is NoSuchChange', async () => {
    expect(await rejection(client().send(new GetChangeCommand({ Id: 'CNOSUCHCHANGE' })))).toBeInstanceOf(NoSuchChange);
    const zoneId = await createZone('change2.example.com');
    const submitted = await apply(zoneId, change('CREATE', txt('c.change2.example.com', 60, '"v"')));
    const err = await rejection(client(OTHER_ACCOUNT).send(new GetChangeCommand({ Id: submitted.ChangeInfo!.Id! })));
    expect(err).toBeInstanceOf(NoSuchChange);
    expect(err.$metadata?.httpStatusCode).toBe(404);
  });
});

describe('faults and persistence', () => {
  it('injected PriorRequestNotComplete reaches the SDK as its exception class, then calls succeed again', async () => {
    const zoneId = await createZone('fault.example.com');
    const res = await fetch(`${aws.url}/_certpipe/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ service: 'route53', operation: 'ChangeResourceRecordSets', error: 'PriorRequestNotComplete', count: 1 }),
    });
    expect(res.status).toBe(201);
    const err = await rejection(apply(zoneId, change('CREATE', txt('f.fault.example.com', 60, '"v"'))));
    expect(err).toBeInstanceOf(PriorRequestNotComplete);
    expect(err.$metadata?.httpStatusCode).toBe(400);
    await apply(zoneId, change('CREATE', txt('f.fault.example.com', 60, '"v"')));
  });

  it('zones, record sets and changes survive a restart', async () => {
    const zoneId = await createZone('persist.example.com');
    const submitted = await apply(zoneId, change('CREATE', txt('p.persist.example.com', 60, '"kept"')));
    const recordsBefore = await allRecordSets(zoneId);
    await aws.close();

    aws = await startLocalAws({ port: 0, dataDir, settings: { insyncDelayMs: 0, nameserver: 'ns1.r53test.localhost', ...UNTHROTTLED } });
    const got = await client().send(new GetHostedZoneCommand({ Id: zoneId }));
    expect(got.HostedZone).toMatchObject({ Name: 'persist.example.com.', ResourceRecordSetCount: 3 });
    expect(await allRecordSets(zoneId)).toEqual(recordsBefore);
    expect((await client().send(new GetChangeCommand({ Id: submitted.ChangeInfo!.Id! }))).ChangeInfo?.Status).toBe('INSYNC');
    // The caller reference index is rebuilt too.
    const zone = got.HostedZone!;
    expect(await rejection(client().send(new CreateHostedZoneCommand({ Name: 'again.example', CallerReference: zone.CallerReference! })))).toBeInstanceOf(
      HostedZoneAlreadyExists,
    );
  });

  it('a batch cut short by a crash (change written, record sets not) is completed at the next start', async () => {
    const zoneId = await createZone('crash.example.com');
    await apply(zoneId, change('CREATE', txt('a.crash.example.com', 60, '"old"')));
    await aws.close();

    // What a crash between the two writes leaves: the change is on disk, the record sets are not.
    const bareId = zoneId.replace('/hostedzone/', '');
    const changes = await new FileStore(dataDir).collection<Record<string, unknown>>('route53/changes');
    const seq = Math.max(...changes.keys().map((k) => Number(changes.get(k)!.seq))) + 1;
    const newA = { name: 'a.crash.example.com.', type: 'TXT', ttl: 60, values: ['"new"'] };
    const newB = { name: 'b.crash.example.com.', type: 'TXT', ttl: 60, values: ['"b"'] };
    await changes.put('CCRASHED', {
      id: 'CCRASHED',
      accountId: DEFAULT_ACCOUNT,
      zoneId: bareId,
      seq,
      submittedAt: new Date().toISOString(),
      kind: 'ChangeResourceRecordSets',
      rrsets: [
        { name: newA.name, type: 'TXT', before: { ...newA, values: ['"old"'] }, after: newA },
        { name: newB.name, type: 'TXT', before: null, after: newB },
      ],
    });

    aws = await startLocalAws({ port: 0, dataDir, settings: { insyncDelayMs: 0, nameserver: 'ns1.r53test.localhost', ...UNTHROTTLED } });
    const records = (await allRecordSets(zoneId)).filter((r) => r.Type === 'TXT');
    expect(records).toEqual([txt('a.crash.example.com.', 60, '"new"'), txt('b.crash.example.com.', 60, '"b"')]);
    expect((await client().send(new GetChangeCommand({ Id: 'CCRASHED' }))).ChangeInfo?.Status).toBe('INSYNC');
  });
});

describe('request rate: 5 requests per second per account, as AWS enforces', () => {
  // A fresh bucket: the tests above spent theirs with the limit off.
  const throttled = async <T>(fn: () => Promise<T>): Promise<T> => {
    aws.cloud.settings.route53RequestsPerSecond = 5;
    try {
      return await fn();
    } finally {
      aws.cloud.settings.route53RequestsPerSecond = 0;
    }
  };

  it('beyond the burst the answer is HTTP 400 Throttling "Rate exceeded" (a Sender fault), per account', async () => {
    await new Promise((r) => setTimeout(r, 1100));
    const { answers, other } = await throttled(async () => {
      const answers = await Promise.allSettled(Array.from({ length: 10 }, () => client().send(new ListHostedZonesCommand({}))));
      // Another account has its own bucket.
      const other = await client(OTHER_ACCOUNT).send(new ListHostedZonesCommand({}));
      return { answers, other };
    });
    const ok = answers.filter((a) => a.status === 'fulfilled');
    const refused = answers.flatMap((a) => (a.status === 'rejected' ? [a.reason as Error & { $metadata?: { httpStatusCode?: number }; $fault?: string }] : []));
    // Five at once, and at most one more if the refill (5/s) came in while they ran.
    expect(ok.length).toBeGreaterThanOrEqual(5);
    expect(ok.length).toBeLessThanOrEqual(6);
    expect(refused.length).toBe(10 - ok.length);
    for (const err of refused) {
      expect(err.name).toBe('Throttling');
      expect(err.message).toBe('Rate exceeded');
      expect(err.$metadata?.httpStatusCode).toBe(400);
      expect(err.$fault).toBe('client');
    }
    expect(other.HostedZones).toBeDefined();
  });

  it("the functions' Route 53 client retries throttling: 20 calls at once all succeed, some after a retry", async () => {
    const { AwsClients } = await import('../../functions/lib/aws.js');
    const { route53Client } = await import('../../functions/lib/dns/route53.js');
    const r53 = route53Client(new AwsClients({ endpoint: aws.url, region: 'us-east-1', credentials: { accessKeyId: DEFAULT_ACCOUNT, secretAccessKey: 'test' }, maxAttempts: 1 }));
    await new Promise((r) => setTimeout(r, 1100));
    const answers = await throttled(() => Promise.all(Array.from({ length: 20 }, () => r53.send(new ListHostedZonesCommand({})))));
    expect(answers).toHaveLength(20);
    expect(answers.some((a) => (a.$metadata.attempts ?? 1) > 1)).toBe(true);
  }, 60_000);
});
