// Local EventBridge (AWS JSON 1.1): PutEvents validates each entry as AWS does
// and stores accepted events in the envelope a rule target would receive, so
// tests and the CLI can read them back at `GET /_certpipe/events`.
import { randomUUID } from 'node:crypto';
import { jsonService, jsonResponse } from '../../protocol.js';
import {
  AwsError,
  type CallContext,
  type Collection,
  type LocalCloud,
  type ServiceFactory,
  type ServiceRequest,
  type ServiceResponse,
} from '../../types.js';

/** An event as EventBridge delivers it to targets, plus the bus it was put on. */
export interface StoredEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: string[];
  readonly detail: Record<string, unknown>;
  readonly eventBusName: string;
}

type EntryResult = { EventId: string } | { ErrorCode: string; ErrorMessage: string };
/** A valid entry before the endpoint stamps it with id, account, region and time. */
type Draft = Omit<StoredEvent, 'id' | 'account' | 'region' | 'time'> & { readonly when?: Date };

const MAX_ENTRIES = 10;
const MAX_REQUEST_BYTES = 256 * 1024;

const entryError = (ErrorCode: string, ErrorMessage: string): EntryResult => ({ ErrorCode, ErrorMessage });
const required = (member: string) =>
  entryError('InvalidArgument', `Parameter ${member} is not valid. Reason: ${member} is a required argument.`);

/** AWS's own formula for the size an entry counts against the request limit. */
function entrySize(entry: Record<string, unknown>): number {
  const bytes = (v: unknown) => (typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : 0);
  const resources = Array.isArray(entry.Resources) ? entry.Resources.reduce<number>((n, r) => n + bytes(r), 0) : 0;
  return (entry.Time !== undefined ? 14 : 0) + bytes(entry.Source) + bytes(entry.DetailType) + bytes(entry.Detail) + resources;
}

/** Bus name from a name or an ARN (`arn:aws:events:region:account:event-bus/name`). */
function busName(value: unknown): string {
  if (typeof value !== 'string' || value === '') return 'default';
  const arn = /^arn:aws[a-z-]*:events:[^:]*:\d{12}:event-bus\/(.+)$/.exec(value);
  return arn ? arn[1]! : value;
}

function toIsoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

class EventStore {
  private readonly events: Promise<Collection<StoredEvent>>;
  private sequence = 0;

  constructor(cloud: LocalCloud) {
    this.events = cloud.store.collection<StoredEvent>('events/events');
    this.events.catch(() => undefined);
  }

  private validate(entry: Record<string, unknown>): EntryResult | Draft {
    const { Source, DetailType, Detail, Resources, Time, EventBusName } = entry;
    if (typeof Source !== 'string' || Source === '') return required('Source');
    if (typeof DetailType !== 'string' || DetailType === '') return required('DetailType');
    if (typeof Detail !== 'string' || Detail === '') return required('Detail');
    if (Source.startsWith('aws.')) return entryError('NotAuthorizedForSourceException', 'Not authorized for the source.');
    let detail: unknown;
    try {
      detail = JSON.parse(Detail);
    } catch {
      return entryError('MalformedDetail', 'Detail is malformed.');
    }
    if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
      return entryError('MalformedDetail', 'Detail is malformed.');
    }
    if (Resources !== undefined && (!Array.isArray(Resources) || Resources.some((r) => typeof r !== 'string'))) {
      return entryError('InvalidArgument', 'Parameter Resources is not valid. Reason: Resources must be a list of ARNs.');
    }
    const when = typeof Time === 'number' ? new Date(Time * 1000) : undefined;
    return {
      version: '0',
      'detail-type': DetailType,
      source: Source,
      resources: (Resources as string[] | undefined) ?? [],
      detail: detail as Record<string, unknown>,
      eventBusName: busName(EventBusName),
      when,
    };
  }

  async putEvents(input: Record<string, any>, ctx: CallContext) {
    const entries = input.Entries;
    if (!Array.isArray(entries) || entries.length < 1 || entries.length > MAX_ENTRIES) {
      const shown = Array.isArray(entries) ? `${entries.length} entries` : 'null';
      throw new AwsError(
        'ValidationException',
        `1 validation error detected: Value ${shown} at 'entries' failed to satisfy constraint: Member must have length between 1 and ${MAX_ENTRIES}`,
      );
    }
    const total = entries.reduce<number>((n, e) => n + entrySize(e ?? {}), 0);
    if (total > MAX_REQUEST_BYTES) {
      throw new AwsError('ValidationException', 'Total size of the entries in the request is over the limit.');
    }

    const events = await this.events;
    const results: EntryResult[] = [];
    const writes: Promise<void>[] = [];
    for (const entry of entries as Record<string, unknown>[]) {
      const checked = this.validate(entry ?? {});
      if ('ErrorCode' in checked) {
        results.push(checked);
        continue;
      }
      const { when, ...rest } = checked as Draft;
      const event: StoredEvent = {
        ...rest,
        id: randomUUID(),
        account: ctx.accountId,
        region: ctx.region,
        time: toIsoSeconds(when ?? ctx.now),
      };
      // Keys sort by arrival, so reading back returns events in the order they were put.
      const key = `${ctx.now.toISOString()}#${String(this.sequence++).padStart(10, '0')}#${event.id}`;
      writes.push(events.put(key, event));
      results.push({ EventId: event.id });
    }
    await Promise.all(writes);
    return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
  }

  /** `GET /_certpipe/events?source=&detailType=&account=&region=&eventBusName=`, oldest first. */
  async list(req: ServiceRequest): Promise<ServiceResponse> {
    const events = await this.events;
    const want = {
      source: req.query.get('source'),
      'detail-type': req.query.get('detailType'),
      account: req.query.get('account'),
      region: req.query.get('region'),
      eventBusName: req.query.get('eventBusName'),
    } as const;
    const matches = (event: StoredEvent) =>
      Object.entries(want).every(([field, value]) => !value || event[field as keyof typeof want] === value);
    const found = events.keys().map((key) => events.get(key)!).filter((e) => e && matches(e));
    return jsonResponse(200, { events: found });
  }

  /** `DELETE /_certpipe/events`: forget every stored event (tests start from a clean slate). */
  async clear(): Promise<ServiceResponse> {
    return jsonResponse(200, { deleted: await (await this.events).clear() });
  }
}

const eventBridge: ServiceFactory = (cloud) => {
  const store = new EventStore(cloud);
  return {
    ...jsonService({
      signingName: 'events',
      targetPrefix: 'AWSEvents',
      jsonVersion: '1.1',
      operations: { PutEvents: (input, ctx) => store.putEvents(input, ctx) },
    }),
    internalRoutes: {
      'GET /_certpipe/events': (req) => store.list(req),
      'DELETE /_certpipe/events': () => store.clear(),
    },
  };
};

export default eventBridge;
