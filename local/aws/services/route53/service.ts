// The local Route 53 (REST-XML, API version 2013-04-01): hosted zones, record
// sets with AWS's batch semantics, and changes that go from PENDING to INSYNC.
// Route 53 is global, so the signed region is ignored; accounts are isolated.
// The authoritative DNS server (local/dns/) reads the zones through `lookup`.
import { xmlErrorResponse } from '../../protocol.js';
import { AwsError, type CallContext, type LocalCloud, type LocalService, type ServiceFactory, type ServiceRequest, type ServiceResponse } from '../../types.js';
import { Route53Model, type DnsLookup } from './model.js';
import { RECORD_TYPES } from './records.js';
import { RequestRate } from './throttle.js';
import {
  XMLNS,
  changeInfoXml,
  child,
  delegationSetXml,
  el,
  hostedZoneXml,
  readChangeBatch,
  readDocument,
  recordSetXml,
  requiredText,
  text,
  xmlResponse,
} from './xml.js';

export type { DnsLookup } from './model.js';
export type { RecordSet } from './records.js';

/** The Route 53 module as the DNS server sees it (`cloud.service<Route53Service>('route53')`). */
export interface Route53Service extends LocalService {
  /** Resolves once the zones are loaded from the data directory. */
  ready(): Promise<void>;
  /**
   * What the authoritative DNS server shows for `name` (any case, with or without
   * the trailing dot) at `now`: changes show only insync delay + DNS lag after
   * submission, TXT records of `dnsHiddenNames` never. Serves every account's public
   * zones; of two zones with the same name, the most recently created one answers.
   */
  lookup(name: string, now: Date): DnsLookup;
}

const API = '/2013-04-01';

interface Route {
  readonly operation: string;
  /** Hosted zone or change id from the path. */
  readonly id?: string;
}

function route(req: ServiceRequest): Route | undefined {
  const path = req.path.replace(/\/+$/, '');
  if (!path.startsWith(`${API}/`)) return undefined;
  const parts = path.slice(API.length + 1).split('/').map((p) => decodeURIComponent(p));
  const [resource, id, sub] = parts;
  const method = req.method.toUpperCase();
  if (resource === 'hostedzone') {
    if (parts.length === 1) return { operation: method === 'POST' ? 'CreateHostedZone' : 'ListHostedZones' };
    if (parts.length === 2 && method === 'GET') return { operation: 'GetHostedZone', id: id! };
    if (parts.length === 2 && method === 'DELETE') return { operation: 'DeleteHostedZone', id: id! };
    if (parts.length === 3 && sub === 'rrset') {
      return { operation: method === 'POST' ? 'ChangeResourceRecordSets' : 'ListResourceRecordSets', id: id! };
    }
  }
  if (resource === 'hostedzonesbyname' && parts.length === 1) return { operation: 'ListHostedZonesByName' };
  if (resource === 'change' && parts.length === 2) return { operation: 'GetChange', id: id! };
  return undefined;
}

/** `maxitems` as Route 53 reads it: a positive integer, capped at the operation's maximum. */
function maxItems(query: URLSearchParams, fallback: number, cap: number): number {
  const raw = query.get('maxitems');
  if (raw === null || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) {
    throw new AwsError('InvalidInput', `1 validation error detected: Value '${raw}' at 'maxItems' failed to satisfy constraint: Member must be a positive integer`);
  }
  return Math.min(Number(raw), cap);
}

const bareId = (id: string) => id.replace(/^\/?(hostedzone|change)\//, '');

function createRoute53(cloud: LocalCloud): Route53Service {
  let model: Route53Model | undefined;
  const rate = new RequestRate(() => cloud.settings.route53RequestsPerSecond);
  const opening = Route53Model.open(cloud).then((m) => {
    model = m;
    return m;
  });
  opening.catch(() => undefined); // surfaced by ready() and by every call

  type Operation = (req: ServiceRequest, ctx: CallContext, m: Route53Model, id: string) => Promise<ServiceResponse>;

  const operations: Record<string, Operation> = {
    async CreateHostedZone(req, ctx, m) {
      const doc = readDocument(req.body, 'CreateHostedZoneRequest');
      const name = requiredText(doc, 'Name', 'name');
      const callerReference = requiredText(doc, 'CallerReference', 'callerReference');
      if (callerReference.length > 128) {
        throw new AwsError('InvalidInput', "1 validation error detected: Value at 'callerReference' failed to satisfy constraint: Member must have length less than or equal to 128");
      }
      if (text(doc, 'DelegationSetId')) {
        throw new AwsError('NoSuchDelegationSet', 'The local Route 53 has no reusable delegation sets', 400);
      }
      const config = child(doc, 'HostedZoneConfig');
      const comment = text(config, 'Comment');
      const privateZone = doc.VPC !== undefined || text(config, 'PrivateZone') === 'true';
      const { zone, change } = await m.createHostedZone(ctx.accountId, {
        name,
        callerReference,
        ...(comment !== undefined ? { comment } : {}),
        privateZone,
      });
      const inner = hostedZoneXml(zone, m.recordSetCount(zone.id)) + changeInfoXml(change, m.changeStatus(change)) + delegationSetXml(zone);
      return xmlResponse('CreateHostedZoneResponse', inner, 201, {
        location: `https://route53.amazonaws.com${API}/hostedzone/${zone.id}`,
      });
    },

    async GetHostedZone(_req, ctx, m, id) {
      const zone = m.zone(ctx.accountId, id);
      return xmlResponse('GetHostedZoneResponse', hostedZoneXml(zone, m.recordSetCount(zone.id)) + delegationSetXml(zone));
    },

    async DeleteHostedZone(_req, ctx, m, id) {
      const change = await m.deleteHostedZone(ctx.accountId, id);
      return xmlResponse('DeleteHostedZoneResponse', changeInfoXml(change, m.changeStatus(change)));
    },

    async ListHostedZones(req, ctx, m) {
      const max = maxItems(req.query, 100, 100);
      const marker = req.query.get('marker') || undefined;
      const page = m.listZones(ctx.accountId, marker, max);
      const inner =
        `<HostedZones>${page.zones.map((z) => hostedZoneXml(z, m.recordSetCount(z.id))).join('')}</HostedZones>` +
        el('Marker', marker ?? '') +
        el('IsTruncated', page.nextMarker !== undefined) +
        el('NextMarker', page.nextMarker) +
        el('MaxItems', max);
      return xmlResponse('ListHostedZonesResponse', inner);
    },

    async ListHostedZonesByName(req, ctx, m) {
      const max = maxItems(req.query, 100, 100);
      const dnsName = req.query.get('dnsname') || undefined;
      const zoneId = req.query.get('hostedzoneid') || undefined;
      if (zoneId !== undefined && dnsName === undefined) {
        throw new AwsError('InvalidInput', 'Invalid request: a hosted zone id can only be given with a DNS name');
      }
      const page = m.listZonesByName(ctx.accountId, dnsName, zoneId && bareId(zoneId), max);
      const inner =
        `<HostedZones>${page.zones.map((z) => hostedZoneXml(z, m.recordSetCount(z.id))).join('')}</HostedZones>` +
        el('DNSName', dnsName) +
        el('HostedZoneId', zoneId) +
        el('IsTruncated', page.next !== undefined) +
        el('NextDNSName', page.next?.dnsName) +
        el('NextHostedZoneId', page.next?.zoneId) +
        el('MaxItems', max);
      return xmlResponse('ListHostedZonesByNameResponse', inner);
    },

    async ChangeResourceRecordSets(req, ctx, m, id) {
      m.zone(ctx.accountId, id);
      const { changes, comment } = readChangeBatch(req.body);
      const change = await m.changeRecordSets(ctx.accountId, id, changes, comment);
      return xmlResponse('ChangeResourceRecordSetsResponse', changeInfoXml(change, m.changeStatus(change)));
    },

    async ListResourceRecordSets(req, ctx, m, id) {
      m.zone(ctx.accountId, id);
      const max = maxItems(req.query, 300, 300);
      const name = req.query.get('name') || undefined;
      const type = req.query.get('type') || undefined;
      if (type !== undefined && name === undefined) {
        throw new AwsError('InvalidInput', 'Invalid request: the record type can only be given with a record name');
      }
      if (type !== undefined && !(RECORD_TYPES as readonly string[]).includes(type)) {
        throw new AwsError('InvalidInput', `1 validation error detected: Value '${type}' at 'startRecordType' failed to satisfy constraint: Member must satisfy enum value set: [${RECORD_TYPES.join(', ')}]`);
      }
      const page = m.listRecordSets(id, name, type, max);
      const inner =
        `<ResourceRecordSets>${page.rrsets.map(recordSetXml).join('')}</ResourceRecordSets>` +
        el('IsTruncated', page.next !== undefined) +
        el('NextRecordName', page.next?.name) +
        el('NextRecordType', page.next?.type) +
        el('MaxItems', max);
      return xmlResponse('ListResourceRecordSetsResponse', inner);
    },

    async GetChange(_req, ctx, m, id) {
      const change = m.change(ctx.accountId, id);
      return xmlResponse('GetChangeResponse', changeInfoXml(change, m.changeStatus(change)));
    },
  };

  return {
    signingName: 'route53',

    operationOf(req) {
      return route(req)?.operation;
    },

    async handle(req, ctx) {
      const m = await opening;
      const found = route(req);
      const operation = found && operations[found.operation];
      if (!found || !operation) {
        throw new AwsError('InvalidAction', `The local Route 53 does not support ${req.method} ${req.path}`, 400);
      }
      rate.take(ctx.accountId, cloud.now().getTime());
      return operation(req, ctx, m, bareId(found.id ?? ''));
    },

    renderError(err, ctx) {
      // Route 53 answers every error, InvalidChangeBatch included, as <ErrorResponse>
      // (the messages of a batch joined in one bracketed Message); the SDK reads the
      // error class from <Code>.
      return xmlErrorResponse(err, ctx, XMLNS);
    },

    async close() {
      (await opening.catch(() => undefined))?.close();
    },

    async ready() {
      await opening;
    },

    lookup(name, now) {
      return model ? model.lookup(name, now) : { rrsets: [], nxdomain: false };
    },
  };
}

const factory: ServiceFactory = createRoute53;
export default factory;
