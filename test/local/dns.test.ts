// The local authoritative DNS server, queried with node's own resolver (c-ares)
// and with raw dns-packet queries over UDP and TCP, answering from zones written
// through the real Route 53 SDK client.
import dgram from 'node:dgram';
import { promises as dns } from 'node:dns';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  GetChangeCommand,
  Route53Client,
  type Change,
  type ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import * as dnsPacket from 'dns-packet';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startLocalAws, type LocalAws } from '../../local/aws/server.js';
import { startDnsServer, type DnsServer } from '../../local/dns/server.js';
import { txtStrings } from '../../local/dns/rdata.js';

let dataDir: string;
let aws: LocalAws;
let server: DnsServer;

function route53(account = '000000000000'): Route53Client {
  return new Route53Client({
    endpoint: aws.url,
    region: 'us-east-1',
    credentials: { accessKeyId: account, secretAccessKey: 'test' },
    maxAttempts: 1,
  });
}

let refs = 0;
async function createZone(name: string, account?: string): Promise<string> {
  const created = await route53(account).send(new CreateHostedZoneCommand({ Name: name, CallerReference: `dns-${++refs}` }));
  return created.HostedZone!.Id!;
}

function rrset(name: string, type: ResourceRecordSet['Type'], ...values: string[]): ResourceRecordSet {
  return { Name: name, Type: type, TTL: 60, ResourceRecords: values.map((Value) => ({ Value })) };
}

async function apply(zoneId: string, changes: Array<[Change['Action'], ResourceRecordSet]>, account?: string) {
  const result = await route53(account).send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: { Changes: changes.map(([Action, ResourceRecordSet]) => ({ Action, ResourceRecordSet })) },
    }),
  );
  return result.ChangeInfo!.Id!;
}

/** A fresh resolver per question, so no answer comes from c-ares's cache. */
function resolver(): dns.Resolver {
  const r = new dns.Resolver({ timeout: 3_000, tries: 2 });
  r.setServers([`127.0.0.1:${server.port}`]);
  return r;
}

async function code(query: Promise<unknown>): Promise<string> {
  try {
    await query;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'unknown';
  }
  return 'answered';
}

const txtOf = async (name: string) => (await resolver().resolveTxt(name)).map((chunks) => chunks.join('')).sort();

/** dns-packet decodes the rcode too; its type declarations leave it out. */
type Reply = dnsPacket.DecodedPacket & { rcode: string };
const dataOf = (answer: dnsPacket.Answer) => (answer as { data?: unknown }).data;

function udpQuery(packet: dnsPacket.Packet): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('message', (message) => {
      socket.close();
      resolve(dnsPacket.decode(message) as Reply);
    });
    socket.once('error', reject);
    socket.send(dnsPacket.encode(packet), server.port, '127.0.0.1');
  });
}

function tcpQuery(packet: dnsPacket.Packet): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, '127.0.0.1');
    let received = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
        socket.end();
        resolve(dnsPacket.streamDecode(received) as Reply);
      }
    });
    socket.on('error', reject);
    socket.write(dnsPacket.streamEncode(packet));
  });
}

const question = (name: string, type: dnsPacket.RecordType, id = 4242): dnsPacket.Packet => ({
  type: 'query',
  id,
  flags: dnsPacket.RECURSION_DESIRED,
  questions: [{ type, name, class: 'IN' }],
});

let zoneId: string;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(`${os.tmpdir()}/certpipe-`);
  aws = await startLocalAws({ port: 0, dataDir, settings: { insyncDelayMs: 0, dnsLagMs: 0, nameserver: 'ns1.dnstest.localhost', route53RequestsPerSecond: 0 } });
  server = await startDnsServer({ cloud: aws.cloud, port: 0 });
  zoneId = await createZone('example.test');
  await apply(zoneId, [
    ['CREATE', rrset('_acme-challenge.example.test', 'TXT', '"token-a"', '"part-1" "part-2"')],
    ['CREATE', rrset('host.example.test', 'A', '192.0.2.10')],
    ['CREATE', rrset('host.example.test', 'AAAA', '2001:db8::10')],
    ['CREATE', rrset('www.example.test', 'CNAME', 'host.example.test')],
    ['CREATE', rrset('deep.ent.example.test', 'A', '192.0.2.20')],
    ['CREATE', rrset('*.wild.example.test', 'A', '192.0.2.30')],
    ['CREATE', rrset('away.example.test', 'CNAME', 'somewhere.not-local.example')],
    ['CREATE', rrset('loop-a.example.test', 'CNAME', 'loop-b.example.test')],
    ['CREATE', rrset('loop-b.example.test', 'CNAME', 'loop-a.example.test')],
    ['CREATE', rrset('sub.example.test', 'NS', 'ns.elsewhere.example')],
  ]);
});

beforeEach(() => {
  Object.assign(aws.cloud.settings, { insyncDelayMs: 0, dnsLagMs: 0, dnsHiddenNames: [] });
});

afterAll(async () => {
  await server?.close();
  await aws?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('answers', () => {
  it('TXT, A, AAAA, NS and SOA from the zone', async () => {
    const r = resolver();
    expect(await txtOf('_acme-challenge.example.test')).toEqual(['part-1part-2', 'token-a']);
    expect((await r.resolveTxt('_acme-challenge.example.test')).find((c) => c.length === 2)).toEqual(['part-1', 'part-2']);
    expect(await r.resolve4('host.example.test')).toEqual(['192.0.2.10']);
    expect(await r.resolve6('host.example.test')).toEqual(['2001:db8::10']);
    expect(await r.resolveNs('example.test')).toEqual(['ns1.dnstest.localhost']);
    expect(await r.resolveSoa('example.test')).toMatchObject({ nsname: 'ns1.dnstest.localhost', serial: 1, minttl: 86400 });
  });

  it('names are matched without regard to case', async () => {
    expect(await resolver().resolve4('HOST.Example.TEST')).toEqual(['192.0.2.10']);
  });

  it('NXDOMAIN (ENOTFOUND) for a name that does not exist, NODATA (ENODATA) for one that has other types', async () => {
    expect(await code(resolver().resolveTxt('missing.example.test'))).toBe('ENOTFOUND');
    expect(await code(resolver().resolveTxt('host.example.test'))).toBe('ENODATA');
    // An empty non-terminal exists: it has a name below it.
    expect(await code(resolver().resolve4('ent.example.test'))).toBe('ENODATA');
  });

  it('REFUSED for a name in no local zone', async () => {
    expect(await code(resolver().resolve4('example.org'))).toBe('EREFUSED');
  });

  it('follows a CNAME within the local zones, and returns it alone when it leaves them', async () => {
    expect(await resolver().resolve4('www.example.test')).toEqual(['192.0.2.10']);
    expect(await resolver().resolveCname('www.example.test')).toEqual(['host.example.test']);
    expect(await resolver().resolveCname('away.example.test')).toEqual(['somewhere.not-local.example']);

    const chased = await udpQuery(question('www.example.test', 'A'));
    expect(chased.answers?.map((a) => [a.name, a.type, dataOf(a)])).toEqual([
      ['www.example.test', 'CNAME', 'host.example.test'],
      ['host.example.test', 'A', '192.0.2.10'],
    ]);
    // A loop ends instead of spinning.
    const looped = await udpQuery(question('loop-a.example.test', 'A'));
    expect(looped.rcode).toBe('NOERROR');
    expect(looped.answers?.every((a) => a.type === 'CNAME')).toBe(true);
  });

  it('chases a delegated _acme-challenge CNAME into a zone of another account', async () => {
    const validation = await createZone('acme-validation.test', '444444444444');
    await apply(validation, [['CREATE', rrset('shop.acme-validation.test', 'TXT', '"delegated-token"')]], '444444444444');
    await apply(zoneId, [['CREATE', rrset('_acme-challenge.shop.example.test', 'CNAME', 'shop.acme-validation.test.')]]);
    expect(await txtOf('_acme-challenge.shop.example.test')).toEqual(['delegated-token']);
  });

  it('answers from a wildcard for names that do not exist below it', async () => {
    expect(await resolver().resolve4('anything.wild.example.test')).toEqual(['192.0.2.30']);
    expect(await code(resolver().resolveTxt('anything.wild.example.test'))).toBe('ENODATA');
  });

  it('refers names below a delegation instead of answering them', async () => {
    const referral = await udpQuery(question('x.sub.example.test', 'A'));
    expect(referral.rcode).toBe('NOERROR');
    expect(referral.flag_aa).toBe(false);
    expect(referral.answers).toEqual([]);
    expect(referral.authorities?.map((a) => [a.name, a.type, dataOf(a)])).toEqual([['sub.example.test', 'NS', 'ns.elsewhere.example']]);
  });
});

describe('the wire', () => {
  it('UDP: authoritative answers echo id and question; NXDOMAIN carries the SOA with the negative TTL', async () => {
    const answer = await udpQuery(question('_acme-challenge.example.test', 'TXT', 777));
    expect(answer).toMatchObject({ id: 777, type: 'response', flag_aa: true, flag_rd: true, rcode: 'NOERROR' });
    expect(answer.questions).toEqual([{ name: '_acme-challenge.example.test', type: 'TXT', class: 'IN' }]);

    const missing = await udpQuery(question('nope.example.test', 'TXT'));
    expect(missing).toMatchObject({ flag_aa: true, rcode: 'NXDOMAIN', answers: [] });
    expect(missing.authorities).toHaveLength(1);
    expect(missing.authorities![0]).toMatchObject({ name: 'example.test', type: 'SOA', ttl: 900 });
  });

  it('TCP with two-byte length framing', async () => {
    const answer = await tcpQuery(question('host.example.test', 'A', 31337));
    expect(answer).toMatchObject({ id: 31337, flag_aa: true, rcode: 'NOERROR' });
    expect(answer.answers?.map(dataOf)).toEqual(['192.0.2.10']);

    const nodata = await tcpQuery(question('host.example.test', 'TXT'));
    expect(nodata).toMatchObject({ rcode: 'NOERROR', answers: [] });
    expect(nodata.authorities?.[0]?.type).toBe('SOA');
  });

  it('a response too big for UDP is truncated (TC) and complete over TCP, which the resolver falls back to', async () => {
    const values = Array.from({ length: 30 }, (_, i) => `"${String(i).padStart(2, '0')}${'x'.repeat(60)}"`);
    await apply(zoneId, [['CREATE', rrset('big.example.test', 'TXT', ...values)]]);

    const udp = await udpQuery(question('big.example.test', 'TXT'));
    expect(udp.flag_tc).toBe(true);
    const tcp = await tcpQuery(question('big.example.test', 'TXT'));
    expect(tcp.flag_tc).toBe(false);
    expect(tcp.answers).toHaveLength(30);
    expect(await txtOf('big.example.test')).toHaveLength(30);
  });

  it('long TXT data goes out as character-strings of at most 255 bytes', async () => {
    const long = ['"', 'a'.repeat(255), '" "', 'b'.repeat(200), '"'].join('');
    await apply(zoneId, [['CREATE', rrset('dkim.example.test', 'TXT', long)]]);
    const [chunks] = await resolver().resolveTxt('dkim.example.test');
    expect(chunks!.map((c) => c.length)).toEqual([255, 200]);
    // A single string longer than 255 bytes is split, so it still fits its length byte.
    expect(txtStrings(`"${'c'.repeat(600)}"`).map((b) => b.length)).toEqual([255, 255, 90]);
  });

  it('answers FORMERR to a query with no question and NOTIMP to other opcodes', async () => {
    expect((await udpQuery({ type: 'query', id: 1, questions: [] })).rcode).toBe('FORMERR');
    const notify = await udpQuery({ ...question('example.test', 'SOA'), flags: 4 << 11 });
    expect(notify.rcode).toBe('NOTIMP');

    // A header that promises a question that is not there.
    const broken = Buffer.from([0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07]);
    const reply = await new Promise<Reply>((resolve) => {
      const socket = dgram.createSocket('udp4');
      socket.once('message', (message) => {
        socket.close();
        resolve(dnsPacket.decode(message) as Reply);
      });
      socket.send(broken, server.port, '127.0.0.1');
    });
    expect(reply).toMatchObject({ id: 0x1234, rcode: 'FORMERR' });
    // The server still answers afterwards.
    expect(await resolver().resolve4('host.example.test')).toEqual(['192.0.2.10']);
  });
});

describe('propagation', () => {
  it('a change shows only after insync delay + DNS lag; until then the previous state answers', async () => {
    await apply(zoneId, [['CREATE', rrset('_acme-challenge.lag.example.test', 'TXT', '"old"')]]);
    expect(await txtOf('_acme-challenge.lag.example.test')).toEqual(['old']);

    aws.cloud.settings.insyncDelayMs = 3_600_000;
    aws.cloud.settings.dnsLagMs = 3_600_000;
    const upsert = await apply(zoneId, [['UPSERT', rrset('_acme-challenge.lag.example.test', 'TXT', '"new"')]]);
    const created = await apply(zoneId, [['CREATE', rrset('_acme-challenge.fresh.lag.example.test', 'TXT', '"fresh"')]]);
    const status = async (id: string) => (await route53().send(new GetChangeCommand({ Id: id }))).ChangeInfo?.Status;

    expect(await status(upsert)).toBe('PENDING');
    expect(await txtOf('_acme-challenge.lag.example.test')).toEqual(['old']);
    expect(await code(resolver().resolveTxt('_acme-challenge.fresh.lag.example.test'))).toBe('ENOTFOUND');

    // INSYNC is not enough: the DNS lag still hides it.
    aws.cloud.settings.insyncDelayMs = 0;
    expect(await status(upsert)).toBe('INSYNC');
    expect(await txtOf('_acme-challenge.lag.example.test')).toEqual(['old']);

    aws.cloud.settings.dnsLagMs = 0;
    expect(await txtOf('_acme-challenge.lag.example.test')).toEqual(['new']);
    expect(await txtOf('_acme-challenge.fresh.lag.example.test')).toEqual(['fresh']);
    expect(await status(created)).toBe('INSYNC');
  });

  it('a deletion also waits: the record keeps answering until the lag has passed', async () => {
    await apply(zoneId, [['CREATE', rrset('_acme-challenge.gone.example.test', 'TXT', '"bye"')]]);
    aws.cloud.settings.dnsLagMs = 3_600_000;
    await apply(zoneId, [['DELETE', rrset('_acme-challenge.gone.example.test', 'TXT', '"bye"')]]);
    expect(await txtOf('_acme-challenge.gone.example.test')).toEqual(['bye']);
    aws.cloud.settings.dnsLagMs = 0;
    expect(await code(resolver().resolveTxt('_acme-challenge.gone.example.test'))).toBe('ENOTFOUND');
  });

  it('the lag is measured from submission, so it ends by itself', async () => {
    aws.cloud.settings.dnsLagMs = 200;
    await apply(zoneId, [['CREATE', rrset('_acme-challenge.soon.example.test', 'TXT', '"soon"')]]);
    await expect.poll(() => code(resolver().resolveTxt('_acme-challenge.soon.example.test')), { timeout: 10_000 }).toBe('answered');
  });

  it('names in dnsHiddenNames never show TXT records', async () => {
    await apply(zoneId, [
      ['CREATE', rrset('_acme-challenge.hidden.example.test', 'TXT', '"never"')],
      ['CREATE', rrset('hidden.example.test', 'TXT', '"apex-of-name"')],
      ['CREATE', rrset('hidden.example.test', 'A', '192.0.2.40')],
    ]);
    const res = await fetch(`${aws.url}/_certpipe/settings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dnsHiddenNames: ['_acme-challenge.hidden.example.test', 'hidden.example.test'] }),
    });
    expect(res.status).toBe(200);
    expect(await code(resolver().resolveTxt('_acme-challenge.hidden.example.test'))).toBe('ENOTFOUND');
    expect(await code(resolver().resolveTxt('hidden.example.test'))).toBe('ENODATA');
    expect(await resolver().resolve4('hidden.example.test')).toEqual(['192.0.2.40']);

    aws.cloud.settings.dnsHiddenNames = [];
    expect(await txtOf('_acme-challenge.hidden.example.test')).toEqual(['never']);
  });

  it('of two accounts with the same zone name, the most recently created zone answers', async () => {
    const older = await createZone('shared.test', '555555555555');
    await apply(older, [['CREATE', rrset('who.shared.test', 'TXT', '"older"')]], '555555555555');
    expect(await txtOf('who.shared.test')).toEqual(['older']);
    const newer = await createZone('shared.test', '666666666666');
    await apply(newer, [['CREATE', rrset('who.shared.test', 'TXT', '"newer"')]], '666666666666');
    expect(await txtOf('who.shared.test')).toEqual(['newer']);
  });

  it('after a restart the pending changes stay hidden and the zones still answer', async () => {
    await apply(zoneId, [['UPSERT', rrset('_acme-challenge.restart.example.test', 'TXT', '"before"')]]);
    aws.cloud.settings.dnsLagMs = 3_600_000;
    await apply(zoneId, [['UPSERT', rrset('_acme-challenge.restart.example.test', 'TXT', '"after"')]]);

    await server.close();
    await aws.close();
    aws = await startLocalAws({ port: 0, dataDir, settings: { insyncDelayMs: 0, dnsLagMs: 3_600_000, nameserver: 'ns1.dnstest.localhost' } });
    server = await startDnsServer({ cloud: aws.cloud, port: 0 });

    expect(await txtOf('_acme-challenge.restart.example.test')).toEqual(['before']);
    aws.cloud.settings.dnsLagMs = 0;
    expect(await txtOf('_acme-challenge.restart.example.test')).toEqual(['after']);
    expect(await resolver().resolve4('www.example.test')).toEqual(['192.0.2.10']);
  });
});
