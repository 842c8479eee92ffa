// Local EventBridge (AWS JSON 1.1): PutEvents validates each entry as AWS does
// and stores accepted events in the envelope a rule target would receive, so
// tests and the CLI can read them back at `GET /_certpipe/events`. Rules
// (PutRule, PutTargets) route matching events to SNS topic targets; events
// AWS services emit themselves (CloudTrail's `aws.*` sources, which PutEvents
// refuses) come in at `POST /_certpipe/events/aws-service`.
import { randomUUID } from 'node:crypto';
import { jsonService, jsonResponse } from '../../protocol.js';
import type { SnsService } from '../sns/service.js';
import { matchesPattern, patternProblem } from './pattern.js';
import { targetPayload, type TargetInput } from './transform.js';
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

interface StoredRule {
  readonly name: string;
  readonly arn: string;
  readonly account: string;
  readonly region: string;
  readonly eventBusName: string;
  readonly pattern: Record<string, unknown>;
  readonly state: 'ENABLED' | 'DISABLED';
  readonly targets: ReadonlyArray<TargetInput & { readonly Id: string; readonly Arn: string }>;
}

const ruleKey = (account: string, region: string, bus: string, name: string) => `${account}/${region}/${bus}/${name}`;
const RULE_NAME = /^[.\-_A-Za-z0-9]{1,64}$/;
const SNS_TOPIC_ARN = /^arn:aws[\w-]*:sns:/;

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
  private readonly rules: Promise<Collection<StoredRule>>;
  private sequence = 0;

  constructor(private readonly cloud: LocalCloud) {
    this.events = cloud.store.collection<StoredEvent>('events/events');
    this.events.catch(() => undefined);
    this.rules = cloud.store.collection<StoredRule>('events/rules');
    this.rules.catch(() => undefined);
  }

  async putRule(input: Record<string, any>, ctx: CallContext) {
    const name = typeof input.Name === 'string' ? input.Name : '';
    if (!RULE_NAME.test(name)) throw new AwsError('ValidationException', `1 validation error detected: Value '${name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+`);
    if (typeof input.EventPattern !== 'string') throw new AwsError('ValidationException', 'Parameter(s) EventPattern or ScheduleExpression must be specified.');
    let pattern: unknown;
    try {
      pattern = JSON.parse(input.EventPattern);
    } catch {
      throw new AwsError('InvalidEventPatternException', 'Event pattern is not valid. Reason: it is not JSON');
    }
    const problem = patternProblem(pattern);
    if (problem) throw new AwsError('InvalidEventPatternException', `Event pattern is not valid. Reason: ${problem}`);
    const bus = busName(input.EventBusName);
    const arn = `arn:aws:events:${ctx.region}:${ctx.accountId}:rule/${bus === 'default' ? '' : `${bus}/`}${name}`;
    const rules = await this.rules;
    const key = ruleKey(ctx.accountId, ctx.region, bus, name);
    const state = input.State === 'DISABLED' ? 'DISABLED' : 'ENABLED';
    await rules.put(key, { name, arn, account: ctx.accountId, region: ctx.region, eventBusName: bus, pattern: pattern as Record<string, unknown>, state, targets: rules.get(key)?.targets ?? [] });
    return { RuleArn: arn };
  }

  async putTargets(input: Record<string, any>, ctx: CallContext) {
    const rules = await this.rules;
    const key = ruleKey(ctx.accountId, ctx.region, busName(input.EventBusName), String(input.Rule ?? ''));
    const rule = rules.get(key);
    if (!rule) throw new AwsError('ResourceNotFoundException', `Rule ${String(input.Rule)} does not exist on EventBus ${busName(input.EventBusName)}.`);
    const targets = Array.isArray(input.Targets) ? (input.Targets as Array<Record<string, any>>) : [];
    if (targets.length < 1 || targets.length > 10) throw new AwsError('ValidationException', "1 validation error detected: Value at 'targets' failed to satisfy constraint: Member must have length between 1 and 10");
    const failed: Array<{ TargetId: string; ErrorCode: string; ErrorMessage: string }> = [];
    const accepted = new Map(rule.targets.map((t) => [t.Id, t]));
    for (const t of targets) {
      // Only what the local cloud can deliver to is accepted, so a target it takes is one it honours.
      if (typeof t.Id !== 'string' || typeof t.Arn !== 'string' || !SNS_TOPIC_ARN.test(t.Arn)) {
        failed.push({ TargetId: String(t.Id), ErrorCode: 'ValidationException', ErrorMessage: `The local EventBridge delivers to SNS topics only, not ${String(t.Arn)}` });
        continue;
      }
      accepted.set(t.Id, { Id: t.Id, Arn: t.Arn, ...(t.Input !== undefined ? { Input: t.Input } : {}), ...(t.InputPath !== undefined ? { InputPath: t.InputPath } : {}), ...(t.InputTransformer ? { InputTransformer: t.InputTransformer } : {}) });
    }
    await rules.put(key, { ...rule, targets: [...accepted.values()] });
    return { FailedEntryCount: failed.length, FailedEntries: failed };
  }

  /** Each enabled rule of the event's bus that matches it hands the event to its targets. */
  private async route(event: StoredEvent): Promise<void> {
    const rules = await this.rules;
    const { eventBusName, ...delivered } = event;
    const prefix = `${event.account}/${event.region}/${eventBusName}/`;
    const sns = this.cloud.service<SnsService>('sns');
    for (const key of rules.keys()) {
      if (!key.startsWith(prefix)) continue;
      const rule = rules.get(key)!;
      if (rule.state !== 'ENABLED' || !matchesPattern(rule.pattern, delivered)) continue;
      for (const target of rule.targets) {
        // A failed delivery goes to the target's dead-letter queue in AWS; here it is dropped, never thrown at the sender.
        await sns.notify(target.Arn, '', targetPayload(target, delivered as unknown as Record<string, unknown>)).catch(() => undefined);
      }
    }
  }

  /** `POST /_certpipe/events/aws-service`: an event an AWS service emits itself (CloudTrail's management events). */
  async putServiceEvent(req: ServiceRequest): Promise<ServiceResponse> {
    const body = JSON.parse(req.body.toString('utf8') || '{}') as Record<string, any>;
    const { account, region, source, detailType, detail } = body;
    if (typeof source !== 'string' || !source.startsWith('aws.') || typeof detailType !== 'string' || typeof detail !== 'object' || !/^\d{12}$/.test(String(account)) || typeof region !== 'string') {
      return jsonResponse(400, { message: 'expected { account, region, source: "aws.*", detailType, detail: {...}, resources? }' });
    }
    const event: StoredEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': detailType,
      source,
      account,
      time: toIsoSeconds(this.cloud.now()),
      region,
      resources: Array.isArray(body.resources) ? body.resources.map(String) : [],
      detail,
      eventBusName: 'default',
    };
    await (await this.events).put(`${this.cloud.now().toISOString()}#${String(this.sequence++).padStart(10, '0')}#${event.id}`, event);
    await this.route(event);
    return jsonResponse(200, { id: event.id });
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
    const routed: StoredEvent[] = [];
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
      routed.push(event);
      results.push({ EventId: event.id });
    }
    await Promise.all(writes);
    await Promise.all(routed.map((e) => this.route(e)));
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
      operations: {
        PutEvents: (input, ctx) => store.putEvents(input, ctx),
        PutRule: (input, ctx) => store.putRule(input, ctx),
        PutTargets: (input, ctx) => store.putTargets(input, ctx),
      },
    }),
    internalRoutes: {
      'POST /_certpipe/events/aws-service': (req) => store.putServiceEvent(req),
      'GET /_certpipe/events': (req) => store.list(req),
      'DELETE /_certpipe/events': () => store.clear(),
    },
  };
};

export default eventBridge;
