// The local CloudWatch's metric alarms: PutMetricAlarm / DescribeAlarms /
// DeleteAlarms, evaluated on a tick (every minute, as CloudWatch does) and on
// demand (`POST /_certpipe/alarms/evaluate`, optionally `{"at": ISO}` to
// evaluate as of another time, for tests). A state change publishes the
// CloudWatch alarm notification to the SNS topics among the alarm's actions.
import { epochSeconds, jsonResponse } from '../../protocol.js';
import type { CallContext, Collection, LocalCloud, ServiceRequest, ServiceResponse } from '../../types.js';
import type { SnsService } from '../sns/service.js';
import { alarmPeriod, evaluateAlarm, type AlarmRule, type AlarmState } from './alarm-evaluation.js';
import { alarmError, alarmNameOf, alarmRuleOf } from './alarm-input.js';
import type { StoredDatapoint } from './datapoints.js';

const TICK_MS = 60_000;

interface StoredAlarm {
  readonly account: string;
  readonly region: string;
  readonly name: string;
  /** The PutMetricAlarm request as given (Tags aside). */
  readonly definition: Record<string, any>;
  readonly configuredAt: number;
  readonly state: AlarmState;
  readonly reason: string;
  readonly stateUpdatedAt: number;
}

/** Where alarms read their datapoints: every datum of an account and region. */
export type DatapointSource = (account: string, region: string) => Promise<StoredDatapoint[]>;

const alarmKey = (account: string, region: string, name: string) => `${account}/${region}/${name}`;
const alarmArn = (a: Pick<StoredAlarm, 'account' | 'region' | 'name'>) => `arn:aws:cloudwatch:${a.region}:${a.account}:alarm:${a.name}`;

const REGION_NAMES: Record<string, string> = {
  'us-east-1': 'US East (N. Virginia)',
  'us-east-2': 'US East (Ohio)',
  'us-west-2': 'US West (Oregon)',
  'eu-west-1': 'EU (Ireland)',
  'eu-central-1': 'EU (Frankfurt)',
};

/** CloudWatch's timestamp style in notifications: `2026-11-29T09:00:00.000+0000`. */
const notificationTime = (ms: number) => new Date(ms).toISOString().replace('Z', '+0000');

/** The JSON CloudWatch publishes to SNS when an alarm changes state. */
export function alarmNotification(alarm: StoredAlarm, oldState: AlarmState): Record<string, unknown> {
  const d = alarm.definition;
  const trigger: Record<string, unknown> = Array.isArray(d.Metrics)
    ? { Metrics: d.Metrics }
    : {
        MetricName: d.MetricName,
        Namespace: d.Namespace,
        StatisticType: 'Statistic',
        Statistic: String(d.Statistic).toUpperCase(),
        Unit: d.Unit ?? null,
        Dimensions: (d.Dimensions ?? []).map((x: { Name: string; Value: string }) => ({ value: x.Value, name: x.Name })),
        Period: d.Period,
      };
  return {
    AlarmName: alarm.name,
    AlarmDescription: d.AlarmDescription ?? null,
    AWSAccountId: alarm.account,
    AlarmConfigurationUpdatedTimestamp: notificationTime(alarm.configuredAt),
    NewStateValue: alarm.state,
    NewStateReason: alarm.reason,
    StateChangeTime: notificationTime(alarm.stateUpdatedAt),
    Region: REGION_NAMES[alarm.region] ?? alarm.region,
    AlarmArn: alarmArn(alarm),
    OldStateValue: oldState,
    OKActions: d.OKActions ?? [],
    AlarmActions: d.AlarmActions ?? [],
    InsufficientDataActions: d.InsufficientDataActions ?? [],
    Trigger: {
      ...trigger,
      EvaluationPeriods: d.EvaluationPeriods,
      DatapointsToAlarm: d.DatapointsToAlarm ?? d.EvaluationPeriods,
      ComparisonOperator: d.ComparisonOperator,
      Threshold: d.Threshold,
      TreatMissingData: d.TreatMissingData ?? 'missing',
      EvaluateLowSampleCountPercentile: '',
    },
  };
}

const ACTIONS: Record<AlarmState, string> = { ALARM: 'AlarmActions', OK: 'OKActions', INSUFFICIENT_DATA: 'InsufficientDataActions' };

export class Alarms {
  private readonly alarms: Promise<Collection<StoredAlarm>>;
  private readonly rules = new Map<string, AlarmRule>();
  /** Evaluations run one at a time: a tick and an on-demand call never interleave their writes. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly cloud: LocalCloud,
    private readonly datapoints: DatapointSource,
  ) {
    this.alarms = cloud.store.collection<StoredAlarm>('monitoring/alarms');
    this.alarms.catch(() => undefined);
    this.timer = setInterval(() => void this.evaluateAll(cloud.now()).catch(() => undefined), TICK_MS);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  private ruleOf(alarm: StoredAlarm): AlarmRule {
    const key = alarmKey(alarm.account, alarm.region, alarm.name);
    let rule = this.rules.get(key);
    if (!rule) this.rules.set(key, (rule = alarmRuleOf(alarm.definition)));
    return rule;
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  async putMetricAlarm(input: Record<string, any>, ctx: CallContext) {
    const name = alarmNameOf(input.AlarmName);
    const rule = alarmRuleOf(input);
    const { Tags: _tags, ...definition } = input;
    const key = alarmKey(ctx.accountId, ctx.region, name);
    await this.serial(async () => {
      const alarms = await this.alarms;
      const existing = alarms.get(key);
      const now = ctx.now.getTime();
      const alarm: StoredAlarm = {
        account: ctx.accountId,
        region: ctx.region,
        name,
        definition,
        configuredAt: now,
        state: existing?.state ?? 'INSUFFICIENT_DATA',
        reason: existing?.reason ?? 'Unchecked: Initial alarm creation',
        stateUpdatedAt: existing?.stateUpdatedAt ?? now,
      };
      this.rules.set(key, rule);
      await alarms.put(key, alarm);
      await this.evaluateOne(key, ctx.now);
    });
    return {};
  }

  async describeAlarms(input: Record<string, any>, ctx: CallContext) {
    const alarms = await this.alarms;
    const names = Array.isArray(input.AlarmNames) ? new Set<string>(input.AlarmNames) : undefined;
    const prefix = `${ctx.accountId}/${ctx.region}/`;
    const list = alarms
      .keysFrom(prefix, Number.MAX_SAFE_INTEGER)
      .filter((k) => k.startsWith(prefix))
      .map((k) => alarms.get(k)!)
      .filter(
        (a) =>
          (!names || names.has(a.name)) &&
          (!input.AlarmNamePrefix || a.name.startsWith(input.AlarmNamePrefix)) &&
          (!input.StateValue || a.state === input.StateValue),
      );
    return {
      MetricAlarms: list.map((a) => ({
        ...a.definition,
        AlarmArn: alarmArn(a),
        AlarmConfigurationUpdatedTimestamp: epochSeconds(a.configuredAt),
        ActionsEnabled: a.definition.ActionsEnabled ?? true,
        OKActions: a.definition.OKActions ?? [],
        AlarmActions: a.definition.AlarmActions ?? [],
        InsufficientDataActions: a.definition.InsufficientDataActions ?? [],
        StateValue: a.state,
        StateReason: a.reason,
        StateUpdatedTimestamp: epochSeconds(a.stateUpdatedAt),
        StateTransitionedTimestamp: epochSeconds(a.stateUpdatedAt),
        EvaluationState: undefined,
      })),
      CompositeAlarms: [],
    };
  }

  async deleteAlarms(input: Record<string, any>, ctx: CallContext) {
    if (!Array.isArray(input.AlarmNames) || input.AlarmNames.length === 0) throw alarmError('MissingParameter', 'The parameter AlarmNames is required.');
    const alarms = await this.alarms;
    const keys = input.AlarmNames.map((n: unknown) => alarmKey(ctx.accountId, ctx.region, String(n)));
    const absent = input.AlarmNames.filter((_n: unknown, i: number) => !alarms.has(keys[i]!));
    if (absent.length) throw alarmError('ResourceNotFound', `${absent.join(', ')} not found`);
    await this.serial(async () => {
      for (const key of keys) {
        this.rules.delete(key);
        await alarms.delete(key);
      }
    });
    return {};
  }

  /** Evaluates every alarm as of `at`; resolves to the alarms' states afterwards. */
  evaluateAll(at: Date): Promise<void> {
    return this.serial(async () => {
      const alarms = await this.alarms;
      // One read of the datapoints per account and region for the whole pass.
      const read = new Map<string, Promise<StoredDatapoint[]>>();
      const points: DatapointSource = (account, region) => {
        const key = `${account}/${region}`;
        if (!read.has(key)) read.set(key, this.datapoints(account, region));
        return read.get(key)!;
      };
      for (const key of alarms.keys()) await this.evaluateOne(key, at, points);
    });
  }

  private async evaluateOne(key: string, at: Date, source: DatapointSource = this.datapoints): Promise<void> {
    const alarms = await this.alarms;
    const alarm = alarms.get(key);
    if (!alarm) return;
    const rule = this.ruleOf(alarm);
    const points = await source(alarm.account, alarm.region);
    const evaluation = evaluateAlarm(rule, points, at, alarm.state);
    if (evaluation.state === alarm.state) return;
    const changed: StoredAlarm = { ...alarm, state: evaluation.state, reason: evaluation.reason, stateUpdatedAt: at.getTime() };
    await alarms.put(key, changed);
    await this.notify(changed, alarm.state);
  }

  private async notify(alarm: StoredAlarm, oldState: AlarmState): Promise<void> {
    if (alarm.definition.ActionsEnabled === false) return;
    const topics = ((alarm.definition[ACTIONS[alarm.state]] ?? []) as string[]).filter((arn) => arn.startsWith('arn:aws:sns:'));
    if (!topics.length) return;
    const subject = `${alarm.state}: "${alarm.name}" in ${REGION_NAMES[alarm.region] ?? alarm.region}`;
    const message = JSON.stringify(alarmNotification(alarm, oldState));
    const sns = this.cloud.service<SnsService>('sns');
    for (const topicArn of topics) {
      // CloudWatch records a failed action in the alarm's history and carries on.
      await sns.notify(topicArn, subject, message).catch((err: Error) => {
        console.error(`[certpipe-local] alarm ${alarm.name}: publishing to ${topicArn} failed: ${err.message}`);
      });
    }
  }

  /** `GET /_certpipe/alarms`: every alarm's state, all accounts. */
  async list(): Promise<ServiceResponse> {
    const alarms = await this.alarms;
    return jsonResponse(200, {
      alarms: alarms.keys().map((k) => {
        const a = alarms.get(k)!;
        return { name: a.name, state: a.state, reason: a.reason, updatedAt: new Date(a.stateUpdatedAt).toISOString(), account: a.account, region: a.region, periodSeconds: alarmPeriod(this.ruleOf(a)) };
      }),
    });
  }

  /** `POST /_certpipe/alarms/evaluate` with an optional `{"at": ISO 8601}`. */
  async evaluateRoute(req: ServiceRequest): Promise<ServiceResponse> {
    let at = this.cloud.now();
    if (req.body.length) {
      const body = JSON.parse(req.body.toString('utf8')) as { at?: unknown };
      if (body.at !== undefined) {
        at = new Date(String(body.at));
        if (Number.isNaN(at.getTime())) return jsonResponse(400, { message: `at: not a date: ${String(body.at)}` });
      }
    }
    await this.evaluateAll(at);
    return this.list();
  }
}
