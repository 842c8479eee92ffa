// Route 53's REST-XML documents: reading request bodies (with the InvalidInput
// answers Route 53 gives for malformed ones) and writing response elements.
import { XMLParser } from 'fast-xml-parser';
import { AwsError, type ServiceResponse } from '../../types.js';
import { xmlEscape } from '../../protocol.js';
import type { ChangeAction, ChangeInput } from './batch.js';
import type { StoredChange, StoredZone } from './model.js';
import { RECORD_TYPES, type RecordSet } from './records.js';

export const XMLNS = 'https://route53.amazonaws.com/doc/2013-04-01/';

type XmlNode = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: true,
  ignoreDeclaration: true,
  parseTagValue: false,
  // The SDK writes newlines as &#x0A; and may send any character reference.
  htmlEntities: true,
  isArray: (tag) => tag === 'Change' || tag === 'ResourceRecord',
});

/** The request document's root element, InvalidInput when the body is not that document. */
export function readDocument(body: Buffer, root: string): XmlNode {
  let parsed: XmlNode;
  try {
    parsed = parser.parse(body.toString('utf8')) as XmlNode;
  } catch (err) {
    throw new AwsError('InvalidInput', `Invalid XML ; ${(err as Error).message}`);
  }
  const doc = parsed[root];
  if (doc === undefined || typeof doc !== 'object' || doc === null) {
    throw new AwsError('InvalidInput', `Invalid XML ; the request body must be a ${root} document`);
  }
  return doc as XmlNode;
}

export function child(node: XmlNode | undefined, name: string): XmlNode | undefined {
  const value = node?.[name];
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as XmlNode) : undefined;
}

export function text(node: XmlNode | undefined, name: string): string | undefined {
  const value = node?.[name];
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : typeof value === 'object' ? '' : String(value);
}

export function requiredText(node: XmlNode | undefined, name: string, member: string): string {
  const value = text(node, name);
  if (value === undefined || value === '') {
    throw new AwsError('InvalidInput', `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`);
  }
  return value;
}

const ACTIONS: readonly ChangeAction[] = ['CREATE', 'DELETE', 'UPSERT'];
const MAX_TTL = 2_147_483_647;

/** The changes of a ChangeResourceRecordSetsRequest, checked for shape (not yet for meaning). */
export function readChangeBatch(body: Buffer): { changes: ChangeInput[]; comment?: string } {
  const batch = child(readDocument(body, 'ChangeResourceRecordSetsRequest'), 'ChangeBatch');
  if (!batch) throw new AwsError('InvalidInput', "1 validation error detected: Value null at 'changeBatch' failed to satisfy constraint: Member must not be null");
  const list = (child(batch, 'Changes')?.Change as XmlNode[] | undefined) ?? [];
  if (list.length === 0) {
    throw new AwsError('InvalidInput', "1 validation error detected: Value '[]' at 'changeBatch.changes' failed to satisfy constraint: Member must have length greater than or equal to 1");
  }
  const changes = list.map((change, i) => readChange(change, i + 1));
  const comment = text(batch, 'Comment');
  return comment === undefined ? { changes } : { changes, comment };
}

function readChange(change: XmlNode, position: number): ChangeInput {
  const at = `changeBatch.changes.${position}.member`;
  const action = requiredText(change, 'Action', `${at}.action`);
  if (!ACTIONS.includes(action as ChangeAction)) {
    throw new AwsError('InvalidInput', `1 validation error detected: Value '${action}' at '${at}.action' failed to satisfy constraint: Member must satisfy enum value set: [${ACTIONS.join(', ')}]`);
  }
  const rrset = child(change, 'ResourceRecordSet');
  if (!rrset) throw new AwsError('InvalidInput', `1 validation error detected: Value null at '${at}.resourceRecordSet' failed to satisfy constraint: Member must not be null`);
  const name = requiredText(rrset, 'Name', `${at}.resourceRecordSet.name`);
  const type = requiredText(rrset, 'Type', `${at}.resourceRecordSet.type`);
  if (!(RECORD_TYPES as readonly string[]).includes(type)) {
    throw new AwsError('InvalidInput', `1 validation error detected: Value '${type}' at '${at}.resourceRecordSet.type' failed to satisfy constraint: Member must satisfy enum value set: [${RECORD_TYPES.join(', ')}]`);
  }
  if (['AliasTarget', 'SetIdentifier', 'TrafficPolicyInstanceId'].some((k) => rrset[k] !== undefined)) {
    throw new AwsError('InvalidInput', 'Invalid request: the local Route 53 supports simple routing record sets only (no alias, set identifier or traffic policy)');
  }
  const ttlText = text(rrset, 'TTL');
  const records = (child(rrset, 'ResourceRecords')?.ResourceRecord as XmlNode[] | undefined) ?? [];
  if (ttlText === undefined || records.length === 0) {
    throw new AwsError(
      'InvalidInput',
      `Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none in Change with [Action=${action}, Name=${name}, Type=${type}, SetIdentifier=null]`,
    );
  }
  const ttl = Number(ttlText);
  if (!/^\d+$/.test(ttlText.trim()) || ttl > MAX_TTL) {
    throw new AwsError('InvalidInput', `1 validation error detected: Value '${ttlText}' at '${at}.resourceRecordSet.TTL' failed to satisfy constraint: Member must have value between 0 and ${MAX_TTL}`);
  }
  const values = records.map((r, j) => {
    const value = requiredText(r, 'Value', `${at}.resourceRecordSet.resourceRecords.${j + 1}.member.value`);
    if (value.length > 4000) {
      throw new AwsError('InvalidInput', `1 validation error detected: Value at '${at}.resourceRecordSet.resourceRecords.${j + 1}.member.value' failed to satisfy constraint: Member must have length less than or equal to 4000`);
    }
    return value;
  });
  return { action: action as ChangeAction, name, type, ttl, values };
}

// ---- responses ------------------------------------------------------------

export function xmlResponse(root: string, inner: string, status = 200, headers: Record<string, string> = {}): ServiceResponse {
  return {
    status,
    headers: { 'content-type': 'text/xml', ...headers },
    body: `<?xml version="1.0"?>\n<${root} xmlns="${XMLNS}">${inner}</${root}>`,
  };
}

export function el(name: string, value: string | number | boolean | undefined): string {
  return value === undefined ? '' : `<${name}>${xmlEscape(value)}</${name}>`;
}

export function hostedZoneXml(zone: StoredZone, recordSetCount: number): string {
  return (
    '<HostedZone>' +
    el('Id', `/hostedzone/${zone.id}`) +
    el('Name', zone.name) +
    el('CallerReference', zone.callerReference) +
    `<Config>${el('Comment', zone.comment)}${el('PrivateZone', zone.privateZone)}</Config>` +
    el('ResourceRecordSetCount', recordSetCount) +
    '</HostedZone>'
  );
}

export function delegationSetXml(zone: StoredZone): string {
  return `<DelegationSet><NameServers>${zone.nameServers.map((ns) => el('NameServer', ns)).join('')}</NameServers></DelegationSet>`;
}

export function changeInfoXml(change: StoredChange, status: 'PENDING' | 'INSYNC'): string {
  return (
    '<ChangeInfo>' +
    el('Id', `/change/${change.id}`) +
    el('Status', status) +
    el('SubmittedAt', change.submittedAt) +
    el('Comment', change.comment) +
    '</ChangeInfo>'
  );
}

export function recordSetXml(rs: RecordSet): string {
  const records = rs.values.map((v) => `<ResourceRecord>${el('Value', v)}</ResourceRecord>`).join('');
  return `<ResourceRecordSet>${el('Name', rs.name)}${el('Type', rs.type)}${el('TTL', rs.ttl)}<ResourceRecords>${records}</ResourceRecords></ResourceRecordSet>`;
}
