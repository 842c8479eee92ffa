// `certpipe status`: every certificate, when it expires, when and why it renews,
// what the last run did with it and where it is published.
import { CloudWatchClient, DescribeAlarmsCommand, type MetricAlarm } from '@aws-sdk/client-cloudwatch';
import pc from 'picocolors';
import { budgetDeferralDecision, runBudget } from '../../functions/lib/budget/runBudget.js';
import { keptWindow } from '../../functions/lib/acme/ariCache.js';
import { renewalDecision, type RenewalDecision } from '../../functions/lib/renewal.js';
import { scanInventory } from '../../functions/lib/store/certificateStore.js';
import { describeTarget } from '../../functions/lib/targetIds.js';
import type { CertificateSpec } from '../../functions/lib/inventory.js';
import type { StoredCertificateFacts } from '../../functions/lib/store/model.js';
import { rehearsalName } from '../../functions/lib/gate/rehearsal.js';
import { stageDueCertificate } from '../../functions/lib/gate/stage.js';
import { gateStatus, type GateStatus } from '../../functions/lib/gate/status.js';
import { fittedTable, type Layout } from '../layout.js';
import { timeLeft, urgency } from '../timeLeft.js';
import { layoutOf, printJson, println, type CliIO, type GlobalOptions, type Target } from './context.js';
import { lastRuns, recentExecutions, type LastRun } from './executions.js';
import { renderRequests, selfServiceView, type SelfServiceView } from './requests.js';

const DAY_MS = 86_400_000;
/** Executions looked at for "last run": enough to find every certificate's latest in a normal schedule. */
const RECENT_EXECUTIONS = 10;

export interface StatusRow {
  name: string;
  dnsNames: string[];
  serial?: string;
  notBefore?: string;
  notAfter?: string;
  daysLeft?: number;
  /** Exact seconds left at the time of the check (`--json`); the table shows days, or hours under two days. */
  secondsLeft?: number;
  renewal: RenewalDecision;
  /** Due, but the issuer's rate-limit budget keeps it for a later run (what the next run's CheckExpiry decides too). */
  deferred?: { reason: 'RateLimitBudget'; limit: string; nextSlot: string };
  lastRun?: LastRun;
  publishedTo: string[];
  /** The staging gate, for a certificate with a staging twin. */
  gate?: GateStatus;
}

export async function statusRows(target: Target, now: Date, selfService?: SelfServiceView): Promise<StatusRow[]> {
  const specs = [...target.inventory.certificates, ...(selfService?.adopted ?? [])];
  const stored = await scanInventory(target.aws.secretsManager(), specs);
  const runs = lastRuns(await recentExecutions(target, RECENT_EXECUTIONS));
  const decisions = new Map(
    specs.map((spec) => {
      // The CA's window as CheckExpiry last kept it (ARI), so status shows the time the pipeline acts on.
      const ari = keptWindow(stored.get(spec.name));
      return [spec.name, renewalDecision({ spec, stored: stored.get(spec.name), now, ...(ari ? { ari } : {}) })];
    }),
  );
  const due = specs.flatMap((spec) => (decisions.get(spec.name)!.due ? [{ name: spec.name, reason: decisions.get(spec.name)!.reason }] : []));
  const budget = runBudget({ due, specs, stored, issuers: target.inventory.issuers, now });
  const deferred = new Map(budget.deferred.map((d) => [d.name, d]));
  return specs.map((spec) => {
    const facts = stored.get(spec.name);
    const lastRun = runs.get(spec.name);
    const wait = deferred.get(spec.name);
    return {
      name: spec.name,
      dnsNames: spec.dnsNames,
      ...(facts
        ? {
            serial: facts.serial,
            notBefore: facts.notBefore.toISOString(),
            notAfter: facts.notAfter.toISOString(),
            daysLeft: Math.floor((facts.notAfter.getTime() - now.getTime()) / DAY_MS),
            secondsLeft: Math.floor((facts.notAfter.getTime() - now.getTime()) / 1000),
          }
        : {}),
      renewal: wait ? budgetDeferralDecision(wait, spec.issuer) : decisions.get(spec.name)!,
      ...(wait ? { deferred: { reason: 'RateLimitBudget' as const, limit: wait.limit, nextSlot: wait.nextSlot.toISOString() } } : {}),
      ...(lastRun ? { lastRun } : {}),
      publishedTo: [`secret ${spec.secretName}`, ...spec.targets.map(describeTarget)],
      ...(spec.stagingGate ? { gate: certificateGate(target, spec, stored, runs, now) } : {}),
    };
  });
}

function certificateGate(
  target: Target,
  spec: CertificateSpec,
  stored: ReadonlyMap<string, StoredCertificateFacts>,
  runs: ReadonlyMap<string, LastRun>,
  now: Date,
): GateStatus {
  const { gate } = stageDueCertificate(target.inventory, spec, stored, now);
  const staged = stored.get(rehearsalName(spec.name));
  const lastRun = runs.get(spec.name);
  return gateStatus({
    decision: gate,
    ...(staged ? { staged: { serial: staged.serial, ...(staged.issuedAt ? { issuedAt: staged.issuedAt } : {}) } } : {}),
    ...(lastRun ? { lastRun } : {}),
  });
}

/** The gate column: its state, and why when it holds production back. */
function gateCell(gate: GateStatus | undefined, wide: boolean): string {
  if (!gate) return '';
  return gate.state === 'blocked' || (wide && gate.state !== 'off') ? `${gate.state}: ${gate.reason}` : gate.state;
}

const day = (iso?: string) => iso?.slice(0, 10);
const minute = (iso?: string) => iso?.replace(/:\d\d(\.\d{3})?Z$/, 'Z').replace('T', ' ');

/** The status table: fitted, certificate / expires / renews / last run / published; `--wide` adds names and full times. */
export function renderStatus(rows: readonly StatusRow[], layout: Layout, now: Date = new Date()): string {
  const c = pc.createColors(layout.color);
  const paint = { ok: c.green, renewing: c.yellow, critical: c.red };
  const left = (row: StatusRow) => {
    if (!row.notAfter) return '';
    const end = Date.parse(row.notAfter);
    // Without notBefore (older callers), a 90-day lifetime is assumed for the colour.
    const start = row.notBefore ? Date.parse(row.notBefore) : end - 90 * DAY_MS;
    return paint[urgency(start, end, now.getTime())](timeLeft(end, now.getTime()));
  };
  // Under two days the hour matters: show it beside the date.
  const expires = (iso: string) => (Date.parse(iso) - now.getTime() < 2 * DAY_MS ? minute(iso) : day(iso));
  const reason = (row: StatusRow) => (row.renewal.due || row.deferred ? c.yellow(row.renewal.reason) : row.renewal.reason);
  const lastRun = (run: LastRun | undefined, wide: boolean) =>
    !run
      ? 'never'
      : run.outcome === 'failed'
        ? c.red(`failed${run.staging === 'failed' ? ' on staging' : ''}${run.failedStep ? ` in ${run.failedStep}` : ''}: ${run.error ?? ''}`)
        : run.outcome === 'renewed'
          ? c.green('renewed')
          : run.outcome === 'deferred'
            ? c.yellow(`deferred${wide ? ` by the CA (${run.error ?? 'RateLimited'})` : ''} until ${(wide ? run.retryAfter?.replace('.000Z', 'Z') : minute(run.retryAfter)) ?? '?'}`)
            : run.outcome;
  // The gate column only when some certificate has a staging twin.
  const gated = rows.some((row) => row.gate);
  const gate = <T,>(cell: T): T[] => (gated ? [cell] : []);
  if (layout.width === undefined) {
    return fittedTable(
      ['certificate', 'names', 'not after', 'left', 'renews at', 'reason', 'last run', ...gate('staging gate'), 'published to'],
      rows.map((row) => [
        row.name,
        row.dnsNames.join('\n'),
        row.notAfter?.replace('.000Z', 'Z') ?? 'not issued',
        left(row),
        row.renewal.renewalTime?.replace('.000Z', 'Z') ?? (row.renewal.due ? 'next run' : ''),
        reason(row),
        lastRun(row.lastRun, true),
        ...gate(gateCell(row.gate, true)),
        row.publishedTo.join('\n'),
      ]),
      layout,
    );
  }
  return fittedTable(
    ['certificate', 'expires', 'renews', 'last run', ...gate('gate'), 'published to'],
    rows.map((row) => [
      row.name,
      row.notAfter ? `${expires(row.notAfter)} (${left(row)})` : 'not issued',
      `${(row.renewal.renewalTime && expires(row.renewal.renewalTime)) ?? (row.renewal.due ? 'next run' : '')} ${reason(row)}`.trim(),
      lastRun(row.lastRun, false),
      ...gate(row.gate?.state === 'blocked' ? c.red(gateCell(row.gate, false)) : gateCell(row.gate, false)),
      row.publishedTo.join(', '),
    ]),
    layout,
    [0, 1],
  );
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

/** The alarm section under the table: one line per alarm, the reason only when not OK, cut to the width unless `--wide`. */
export function renderAlarms(alarms: readonly AlarmStatus[], layout: Layout): string[] {
  const c = pc.createColors(layout.color);
  const paint = (state: string) => (state === 'OK' ? c.green : state === 'ALARM' ? c.red : c.yellow);
  return alarms.map((alarm) => {
    const state = alarm.state.padEnd(17);
    let rest = ` ${alarm.name}${alarm.state === 'OK' ? '' : `: ${alarm.reason}`}`;
    const room = layout.width === undefined ? Infinity : layout.width - 2 - state.length;
    if (rest.length > room) rest = `${rest.slice(0, room - 1)}…`;
    return `  ${paint(alarm.state)(state)}${rest}`;
  });
}

export async function statusCommand(target: Target, opts: GlobalOptions, io: CliIO): Promise<number> {
  const now = new Date();
  const selfService = await selfServiceView(target);
  const [rows, alarms] = await Promise.all([statusRows(target, now, selfService), alarmStatuses(target)]);
  if (opts.json) {
    printJson(io, { target: target.description, certificates: rows, ...(alarms ? { alarms } : {}), ...(target.inventory.selfService ? { requests: selfService.requests } : {}) });
    return 0;
  }
  println(io, `certificates in ${target.description}`);
  const layout = layoutOf(io, opts);
  println(io, renderStatus(rows, layout, now));
  if (alarms?.length) {
    println(io, '');
    println(io, 'alarms');
    for (const line of renderAlarms(alarms, layout)) println(io, line);
  }
  if (selfService.requests.length) {
    println(io, '');
    println(io, 'self-service requests');
    for (const line of renderRequests(selfService.requests, layout)) println(io, line);
  }
  return 0;
}
