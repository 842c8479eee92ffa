// Turns one execution's history into a row per certificate: what happened, where
// it was published, and the seconds each step took.
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import Table from 'cli-table3';
import { fittedTable, MIN_COLUMNS } from './layout.js';
import type { CheckExpiryOutput, ItemResult } from '../functions/lib/workflow/states.js';
import type { Inventory } from '../functions/lib/inventory.js';
import { rehearsalName } from '../functions/lib/gate/rehearsal.js';

/** Steps shown as columns, each the sum of the states that make it up. */
export const STEP_COLUMNS = {
  place: ['PlaceChallenges', 'WaitBeforePlacing'],
  dns: ['WaitForPropagation', 'CheckPropagation'],
  finalize: ['FinalizeOrder', 'WaitForOrder'],
  publish: ['PublishCertificate'],
  cleanup: ['CleanupChallenges', 'CleanupAfterFailure', 'CleanupBeforeDeferral'],
} as const;
type Step = keyof typeof STEP_COLUMNS;

export interface CertificateRow {
  name: string;
  dnsNames: string[];
  outcome: 'renewed' | 'skipped' | 'failed' | 'deferred' | 'not run';
  reason: string;
  notAfter?: string;
  /** When the certificate is (or was) due, for skipped ones. */
  renewalTime?: string;
  publishedTo: string[];
  error?: string;
  /** For `deferred`: when the CA lets it ask again (its Retry-After lay past the execution's end). */
  retryAfter?: string;
  /** The staging gate in this run: staged first and passed (then production), or failed there (production blocked). */
  staging?: 'passed' | 'failed';
  seconds: Partial<Record<Step, number>>;
}

function parse(json: string | undefined): any {
  if (!json) return undefined;
  try {
    return JSON.parse(json);
  } catch {
    return undefined;
  }
}

/** Seconds per step per certificate, pairing each state's entry and exit by the certificate name in its input. */
function stepSeconds(history: HistoryEvent[]): Map<string, Partial<Record<Step, number>>> {
  const stepOf = new Map<string, Step>();
  for (const [step, states] of Object.entries(STEP_COLUMNS) as [Step, readonly string[]][]) {
    for (const state of states) stepOf.set(state, step);
  }
  const open = new Map<string, number>();
  const totals = new Map<string, Partial<Record<Step, number>>>();
  for (const event of history) {
    const entered = event.stateEnteredEventDetails;
    const exited = event.stateExitedEventDetails;
    const details = entered ?? exited;
    if (!details?.name || !stepOf.has(details.name)) continue;
    const payload = parse(entered ? entered.input : exited?.output);
    const cert = payload?.name;
    if (typeof cert !== 'string') continue;
    const key = `${cert}\u0000${details.name}`;
    const at = new Date(event.timestamp ?? 0).getTime();
    if (entered) {
      open.set(key, at);
    } else if (open.has(key)) {
      const step = stepOf.get(details.name)!;
      const row = totals.get(cert) ?? {};
      row[step] = (row[step] ?? 0) + (at - open.get(key)!) / 1000;
      totals.set(cert, row);
      open.delete(key);
    }
  }
  return totals;
}

function exitedOutput(history: HistoryEvent[], state: string): any {
  const event = history.find((e) => e.stateExitedEventDetails?.name === state);
  return parse(event?.stateExitedEventDetails?.output);
}

/**
 * Each certificate's result: what its child execution of RenewEach ended with
 * (complete however many ran), then Summarize's list for a child that itself failed.
 */
function itemResults(history: HistoryEvent[]): ItemResult[] {
  const byName = new Map<string, ItemResult>();
  for (const event of history) {
    const output = parse(event.executionSucceededEventDetails?.output);
    if (typeof output?.name === 'string' && typeof output?.outcome === 'string') byName.set(output.name, output as ItemResult);
  }
  for (const result of (exitedOutput(history, 'Summarize')?.results ?? []) as ItemResult[]) {
    if (!byName.has(result.name)) byName.set(result.name, result);
  }
  return [...byName.values()];
}

export function certificateRows(history: HistoryEvent[], inventory: Inventory): CertificateRow[] {
  const check: CheckExpiryOutput | undefined = exitedOutput(history, 'CheckExpiry')?.check;
  const results = itemResults(history);
  const seconds = stepSeconds(history);
  const byName = new Map(results.map((r) => [r.name, r]));
  const skipped = new Map((check?.skipped ?? []).map((d) => [d.name, d]));
  const due = new Map((check?.due ?? []).map((d) => [d.name, d]));

  return inventory.certificates.map((spec): CertificateRow => {
    // A rehearsal that failed ends under its own name (web@staging); one that passed goes on as the certificate.
    const rehearsal = rehearsalName(spec.name);
    const stagingFailed = !byName.has(spec.name) && byName.get(rehearsal)?.outcome === 'failed';
    const result = stagingFailed ? byName.get(rehearsal) : byName.get(spec.name);
    const staging = stagingFailed ? ('failed' as const) : due.has(rehearsal) && result ? ('passed' as const) : undefined;
    const base = {
      name: spec.name,
      dnsNames: spec.dnsNames,
      seconds: addSeconds(seconds.get(spec.name), seconds.get(rehearsal)),
      ...(staging ? { staging } : {}),
    };
    if (result?.outcome === 'renewed') {
      return {
        ...base,
        outcome: 'renewed',
        reason: result.reason ?? due.get(spec.name)?.reason ?? due.get(rehearsal)?.reason ?? '',
        notAfter: result.published?.notAfter,
        publishedTo: result.published?.targets ?? [],
      };
    }
    if (result?.outcome === 'failed') {
      return { ...base, outcome: 'failed', reason: result.reason ?? '', publishedTo: [], error: result.error };
    }
    if (result?.outcome === 'deferred') {
      return { ...base, outcome: 'deferred', reason: result.reason ?? '', publishedTo: [], error: result.error, ...(result.retryAfter ? { retryAfter: result.retryAfter } : {}) };
    }
    const skip = skipped.get(spec.name);
    if (skip) {
      return { ...base, outcome: 'skipped', reason: skip.reason, notAfter: skip.notAfter, renewalTime: skip.renewalTime, publishedTo: [] };
    }
    return { ...base, outcome: 'not run', reason: due.get(spec.name)?.reason ?? due.get(rehearsal)?.reason ?? '', publishedTo: [] };
  });
}

/** Seconds per step of the certificate and of its staging rehearsal, together. */
function addSeconds(...parts: (Partial<Record<Step, number>> | undefined)[]): Partial<Record<Step, number>> {
  const total: Partial<Record<Step, number>> = {};
  for (const part of parts) for (const [step, s] of Object.entries(part ?? {}) as [Step, number][]) total[step] = (total[step] ?? 0) + s;
  return total;
}

/** `acm:<account>:<region>:<arn>` → `acm <account>/<region>`; `secretsmanager:<account>:<region>:<name>` → `secret <name> <account>/<region>`. */
export function shortTarget(id: string): string {
  const [type, account, region, ...rest] = id.split(':');
  return type === 'acm' ? `acm ${account}/${region}` : `secret ${rest.join(':')} ${account}/${region}`;
}

/** Where a certificate went, in the fewest characters: `secret us-east-1, acm eu-west-1` (accounts and ARNs behind --wide). */
export function publishedShort(ids: readonly string[]): string {
  return ids
    .map((id) => {
      const [type, , region] = id.split(':');
      return `${type === 'acm' ? 'acm' : 'secret'} ${region}`;
    })
    .join(', ');
}

const shortDate = (iso?: string) => (iso ? iso.replace(/:\d\d\.\d{3}Z$/, 'Z').replace('T', ' ') : '');

function detailOf(row: CertificateRow): string {
  if (row.staging === 'failed') return `staging failed (${row.error ?? ''}): production blocked`;
  if (row.outcome === 'failed') return row.error ?? '';
  if (row.outcome === 'deferred') return `${row.error ?? 'RateLimited'}: retry after ${shortDate(row.retryAfter)}`;
  if (row.outcome === 'skipped') return `${row.reason}, renews ${shortDate(row.renewalTime)}`;
  return row.reason;
}

export interface RenderOptions {
  color?: boolean;
  /** Columns to fit (default 80). */
  width?: number;
  /** Every column: names, full targets, seconds per step; not fitted. */
  wide?: boolean;
}

/** The summary: fits `width` with certificate, outcome, not-after or reason, and where it went; `wide` has everything. */
export function renderRows(rows: CertificateRow[], options: RenderOptions = {}): string {
  if (!options.wide) {
    return fittedTable(
      ['certificate', 'outcome', 'not after / reason', 'published to'],
      rows.map((row) => [
        row.name,
        row.outcome,
        row.outcome === 'renewed' ? `${shortDate(row.notAfter)} (${row.reason}${row.staging === 'passed' ? ', staging first' : ''})` : detailOf(row),
        publishedShort(row.publishedTo),
      ]),
      { width: options.width ?? MIN_COLUMNS, color: Boolean(options.color) },
      [0, 1],
    );
  }
  const steps = Object.keys(STEP_COLUMNS) as Step[];
  const table = new Table({
    head: ['certificate', 'names', 'not after', 'published to', 'outcome', 'reason / renews at', ...steps.map((s) => `${s} s`)],
    style: options.color ? undefined : { head: [], border: [] },
  });
  for (const row of rows) {
    table.push([
      row.name,
      row.dnsNames.join('\n'),
      shortDate(row.notAfter),
      row.publishedTo.map(shortTarget).join('\n'),
      row.outcome,
      detailOf(row),
      ...steps.map((s) => (row.seconds[s] !== undefined ? row.seconds[s]!.toFixed(1) : '')),
    ]);
  }
  return table.toString();
}
