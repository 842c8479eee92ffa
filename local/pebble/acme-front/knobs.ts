// The ACME front's knobs, served by the local AWS endpoint next to its other
// /_certpipe routes (one place for every knob of the local cloud):
//   POST /_certpipe/acme/ari     {"serial":"<hex>","start":"<ISO>","end":"<ISO>","explanationURL"?}
//   POST|GET|DELETE /_certpipe/acme/faults   {"request":"newOrder","status":429,"retryAfter":30,"count":1}
//   GET  /_certpipe/acme/orders  → {"orders":[{time,identifiers,profile,replaces}]}
import { jsonResponse } from '../../aws/protocol.js';
import type { ServiceRequest, ServiceResponse } from '../../aws/types.js';
import type { AcmeFault } from './faults.js';
import type { AcmeFront } from './front.js';

type Route = (req: ServiceRequest) => Promise<ServiceResponse>;

function jsonBody(req: ServiceRequest): unknown {
  return JSON.parse(req.body.toString('utf8') || 'null');
}

/** A window from the ari knob's body, or an error naming the field. */
export function parseWindowKnob(body: unknown): { serial: string; start: Date; end: Date; explanationURL?: string } {
  const b = body as { serial?: unknown; start?: unknown; end?: unknown; explanationURL?: unknown } | null;
  if (!b || typeof b !== 'object') throw new Error('body: expected {"serial":"<hex>","start":"<ISO time>","end":"<ISO time>"}');
  if (typeof b.serial !== 'string' || !/^(0x)?[0-9a-fA-F]+$/.test(b.serial)) throw new Error('serial: expected the certificate serial in hex');
  const start = typeof b.start === 'string' ? new Date(b.start) : undefined;
  const end = typeof b.end === 'string' ? new Date(b.end) : undefined;
  if (!start || Number.isNaN(start.getTime())) throw new Error('start: expected an ISO 8601 time');
  if (!end || Number.isNaN(end.getTime())) throw new Error('end: expected an ISO 8601 time');
  if (end.getTime() < start.getTime()) throw new Error('end: must not be before start');
  if (b.explanationURL !== undefined && typeof b.explanationURL !== 'string') throw new Error('explanationURL: expected a URL');
  return { serial: b.serial.replace(/^0x/, ''), start, end, ...(b.explanationURL ? { explanationURL: b.explanationURL as string } : {}) };
}

export function acmeFrontRoutes(front: AcmeFront): Record<string, Route> {
  const guarded = (route: (req: ServiceRequest) => ServiceResponse): Route => async (req) => {
    try {
      return route(req);
    } catch (err) {
      return jsonResponse(400, { error: (err as Error).message });
    }
  };
  return {
    'POST /_certpipe/acme/ari': guarded((req) => {
      const { serial, ...window } = parseWindowKnob(jsonBody(req));
      if (!front.setWindow(serial, window)) return jsonResponse(404, { error: `serial: no certificate ${serial} was downloaded through the ACME front` });
      return jsonResponse(200, { serial, start: window.start.toISOString(), end: window.end.toISOString() });
    }),
    'GET /_certpipe/acme/faults': guarded(() => jsonResponse(200, { faults: front.faults, requests: front.requests })),
    'POST /_certpipe/acme/faults': guarded((req) => {
      const body = jsonBody(req);
      for (const f of Array.isArray(body) ? body : [body]) front.addFault(f as AcmeFault);
      return jsonResponse(200, { faults: front.faults });
    }),
    'DELETE /_certpipe/acme/faults': guarded(() => {
      const cleared = front.faults.map((f) => ({ ...f }));
      front.clearFaults();
      return jsonResponse(200, { faults: [], cleared });
    }),
    'GET /_certpipe/acme/orders': guarded(() => jsonResponse(200, { orders: front.orders })),
  };
}
