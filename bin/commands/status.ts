// `certpipe status`: every certificate, when it expires, when and why it renews,
// what the last run did with it and where it is published.
import { CloudWatchClient, DescribeAlarmsCommand, type MetricAlarm } from '@aws-sdk/client-cloudwatch';
import Table from 'cli-table3';
import { renewalDecision, type RenewalDecision } from '../../functions/lib/renewal.js';
import { scanInventory } from '../../functions/lib/store/certificateStore.js';
import { describeTarget } from '../../functions/lib/targetIds.js';
import { colors, printJson, println, type CliIO, type GlobalOptions, type Target } from './context.js';
import { lastRuns, recentExecutions, type LastRun } from './executions.js';

const DAY_MS = 86_400_000;
/** Executions looked at for "last run": enough to find every certificate's latest in a normal schedule. */
const RECENT_EXECUTIONS = 10;

export interface StatusRow {
  name: string;
  dnsNames: string[];
  serial?: string;
  notAfter?: string;
  daysLeft?: number;
  renewal: RenewalDecision;
  lastRun?: LastRun;
  publishedTo: string[];
}


export async function statusRows(target: Target, now: Date): Promise<StatusRow[]> {
  const specs = target.inventory.certificates;
  const stored = await scanInventory(target.aws.secretsManager(), specs);
  const runs = lastRuns(await recentExecutions(target, RECENT_EXECUTIONS));
  return specs.map((spec) => {
    const facts = stored.get(spec.name);
    const lastRun = runs.get(spec.name);
    return {
      name: spec.name,
      dnsNames: spec.dnsNames,
      ...(facts
        ? {
            serial: facts.serial,
            notAfter: facts.notAfter.toISOString(),
            daysLeft: Math.floor((facts.notAfter.getTime() - now.getTime()) / DAY_MS),
          }
        : {}),
      renewal: renewalDecision({ spec, stored: facts, now }),
      ...(lastRun ? { lastRun } : {}),
      publishedTo: [`secret ${spec.secretName}`, ...spec.targets.map(describeTarget)],
    };
  });
}

export interface AlarmStatus {
  name: string;
  state: string;
  reason: string;
  updatedAt?: string;
}

/**
 * The pipeline's alarms and their states: in the local cloud every alarm there is
 * (the deploy puts only the stack's), in AWS those named after the stack.
 * Undefined when they cannot be read (no cloudwatch:DescribeAlarms): the
 * certificate table still matters more.
 */
export async function alarmStatuses(target: Target): Promise<AlarmStatus[] | undefined> {
  const prefix = target.kind === 'stack' ? `${target.description.replace(/^stack /, '')}-` : undefined;
  const cloudwatch = target.aws.client(CloudWatchClient);
  const alarms: MetricAlarm[] = [];
  try {
    let NextToken: string | undefined;
    do {
      const page = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmTypes: ['MetricAlarm'], ...(prefix ? { AlarmNamePrefix: prefix } : {}), NextToken }));
      alarms.push(...(page.MetricAlarms ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
  } catch {
    return undefined;
  }
  return alarms.map((a) => ({
    name: a.AlarmName ?? '?',
    state: a.StateValue ?? 'INSUFFICIENT_DATA',
    reason: a.StateReason ?? '',
    ...(a.StateUpdatedTimestamp ? { updatedAt: a.StateUpdatedTimestamp.toISOString() } : {}),
  }));
}

export async function statusCommand(target: Target, opts: GlobalOptions, io: CliIO): Promise<number> {
  const [rows, alarms] = await Promise.all([statusRows(target, new Date()), alarmStatuses(target)]);
  if (opts.json) {
    printJson(io, { target: target.description, certificates: rows, ...(alarms ? { alarms } : {}) });
    return 0;
  }
  const c = colors(io);
  const table = new Table({
    head: ['certificate', 'names', 'not after', 'days left', 'renews at', 'reason', 'last run', 'published to'],
    style: io.isTTY ? { head: ['cyan'] } : { head: [], border: [] },
  });
  for (const row of rows) {
    const days =
      row.daysLeft === undefined ? '' : row.daysLeft < 7 ? c.red(String(row.daysLeft)) : row.daysLeft < 30 ? c.yellow(String(row.daysLeft)) : c.green(String(row.daysLeft));
    const run = row.lastRun;
    const outcome = !run
      ? 'never'
      : run.outcome === 'failed'
        ? c.red(`failed${run.failedStep ? ` in ${run.failedStep}` : ''}: ${run.error ?? ''}`)
        : run.outcome === 'renewed'
          ? c.green('renewed')
          : run.outcome === 'deferred'
            ? c.yellow(`deferred by the CA (${run.error ?? 'RateLimited'}) until ${run.retryAfter?.replace('.000Z', 'Z') ?? '?'}`)
            : run.outcome;
    table.push([
      row.name,
      row.dnsNames.join('\n'),
      row.notAfter?.replace('.000Z', 'Z') ?? 'not issued',
      days,
      row.renewal.renewalTime?.replace('.000Z', 'Z') ?? (row.renewal.due ? 'next run' : ''),
      row.renewal.due ? c.yellow(row.renewal.reason) : row.renewal.reason,
      outcome,
      row.publishedTo.join('\n'),
    ]);
  }
  println(io, `certificates in ${target.description}`);
  println(io, table.toString());
  if (alarms?.length) {
    println(io, '');
    println(io, 'alarms');
    const paint = (state: string) => {
      const cell = state.padEnd(17);
      return state === 'OK' ? c.green(cell) : state === 'ALARM' ? c.red(cell) : c.yellow(cell);
    };
    for (const alarm of alarms) println(io, `  ${paint(alarm.state)} ${alarm.name}${alarm.state === 'OK' ? '' : `: ${alarm.reason}`}`);
  }
  return 0;
}
