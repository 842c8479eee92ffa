// A request to the local endpoint as the operation table reads it: the JSON
// body, the Query parameters, or Route 53's resource id and change batch.
import { readChangeBatch } from '../services/route53/xml.js';
import { s3Route } from '../services/s3/service.js';
import type { ServiceRequest } from '../types.js';
import type { OperationInput, RecordChange } from './operations.js';

const QUERY_SERVICES = new Set(['sts', 'sns']);
const REST_XML_SERVICES = new Set(['route53']);

function jsonBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  try {
    const parsed = JSON.parse(body.toString('utf8')) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    // The service answers a malformed body itself; authorize what can be read.
    return {};
  }
}

function changesOf(body: Buffer): RecordChange[] {
  try {
    return readChangeBatch(body).changes.map(({ action, name, type }) => ({ action, name, type }));
  } catch {
    return [];
  }
}

export function operationInput(service: string, operation: string, req: ServiceRequest): OperationInput {
  if (QUERY_SERVICES.has(service)) {
    const params = new URLSearchParams(req.query);
    for (const [k, v] of new URLSearchParams(req.body.toString('utf8'))) params.append(k, v);
    return { protocol: 'query', params };
  }
  if (REST_XML_SERVICES.has(service)) {
    const id = /\/(?:hostedzone|change)\/([^/]+)/.exec(req.path)?.[1];
    return {
      protocol: 'rest-xml',
      ...(id ? { id: decodeURIComponent(id) } : {}),
      ...(operation === 'ChangeResourceRecordSets' ? { changes: changesOf(req.body) } : {}),
    };
  }
  if (service === 's3') {
    const route = s3Route(req);
    return { protocol: 'rest-xml', ...(route?.bucket ? { bucket: route.bucket } : {}), ...(route?.key ? { key: route.key } : {}) };
  }
  return { protocol: 'json', body: jsonBody(req.body) };
}
