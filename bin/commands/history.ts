// `certpipe history [name]`: recent executions with outcome, duration and the
// step that failed; with a name, only the runs that did something with it.
import { ListSecretsCommand } from '@aws-sdk/client-secrets-manager';
import pc from 'picocolors';
import { parseRevocationTag, type RevocationRecord } from '../../functions/lib/acme/revocation.js';
import { UNSPECIFIED } from '../../functions/lib/audit/audit.js';
import { TAG } from '../../functions/lib/tagNames.js';
import { fittedTable, type Layout } from '../layout.js';
import { findSpec, layoutOf, printJson, println, type CliIO, type GlobalOptions, type Target } from './context.js';
import { recentExecutions, type ExecutionSummary } from './executions.js';

export interface HistoryOptions extends GlobalOptions {
  limit?: number;
}

export async function historyCommand(name: string | undefined, target: Target, opts: HistoryOptions, io: CliIO): Promise<number> {
  if (name) await findSpec(target, name);
  const limit = opts.limit ?? 10;
  let executions = await recentExecutions(target, name ? Math.max(limit, 50) : limit);
  if (name) {
    executions = executions
      .filter((e) => e.certificates.some((r) => r.name === name) || e.status !== 'SUCCEEDED')
      .map((e) => ({ ...e, certificates: e.certificates.filter((r) => r.name === name) }))
      .slice(0, limit);
  }
  // Revocations are no executions: the CLI made them, and the secrets' tags remember them (and who).
  const revocations = (await listRevocations(target)).filter((r) => !name || r.certificate === name);
  if (opts.json) {
    printJson(io, { target: target.description, executions, revocations });
    return 0;
  }
  println(
    io,
    executions.length || revocations.length
      ? renderHistory(executions, layoutOf(io, opts), revocations)
      : `no executions${name ? ` for ${name}` : ''} in ${target.description}`,
  );
  return 0;
}

/** One history entry per certificate whose secret records a revocation (the latest one each). */
export interface RevocationEntry extends RevocationRecord {
  certificate: string;
}

/** One paginated ListSecrets over the secrets tagged revoked, whatever the inventory's size. */
async function listRevocations(target: Target): Promise<RevocationEntry[]> {
  const entries: RevocationEntry[] = [];
  let NextToken: string | undefined;
  do {
    const page = await target.aws
      .secretsManager()
      .send(new ListSecretsCommand({ Filters: [{ Key: 'tag-key', Values: [TAG.revoked] }], ...(NextToken ? { NextToken } : {}) }));
    for (const secret of page.SecretList ?? []) {
      const tag = (key: string) => secret.Tags?.find((t) => t.Key === key)?.Value;
      const record = parseRevocationTag(tag(TAG.revoked));
      const certificate = tag(TAG.certificate);
      if (record && certificate && !tag(TAG.copyOf)) entries.push({ certificate, ...record });
    }
    NextToken = page.NextToken;
  } while (NextToken);
  return entries;
}

const outcomeCounts = (certs: readonly { outcome: string }[]) => {
  const counts = new Map<string, number>();
  for (const r of certs) counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
  return [...counts].map(([outcome, n]) => `${n} ${outcome}`).join(', ');
};

/** An ARN's last name (the session of an assumed role, the user, the secret), whole with --wide; other words as they are. */
const shortCaller = (startedBy: string) => (startedBy.startsWith('arn:') ? (startedBy.split(/[:/]/).pop() ?? startedBy) : startedBy);

/** The history table: fitted, with counts per outcome and the failed steps; `--wide` names the execution and every certificate. */
export function renderHistory(executions: readonly ExecutionSummary[], layout: Layout, revocations: readonly RevocationEntry[] = []): string {
  const c = pc.createColors(layout.color);
  const wide = layout.width === undefined;
  const revoked = revocations.map((r) => {
    const at = r.at.replace(/\.\d{3}Z$/, 'Z');
    const what = `${r.certificate} revoked (${r.reason}${wide ? `, serial ${r.serial}` : ''})`;
    const by = r.startedBy ?? UNSPECIFIED;
    return {
      at: Date.parse(r.at),
      row: wide
        ? [at, 'certpipe revoke', c.yellow('REVOKED'), '', by, what, '']
        : [at.replace('T', ' ').replace(/:\d\dZ$/, 'Z'), c.yellow('REVOKED'), '', shortCaller(by), what, ''],
    };
  });
  const rows = executions.map((e) => {
    const failed = [
      ...(e.failedStep ? [e.failedStep] : []),
      ...e.certificates.filter((r) => r.failedStep).map((r) => `${r.name}: ${r.failedStep}${wide ? ` (${r.error ?? 'error'})` : ''}`),
    ].join(wide ? '\n' : ', ');
    const status = e.status === 'SUCCEEDED' ? c.green(e.status) : e.status === 'RUNNING' ? c.yellow(e.status) : c.red(e.status);
    const started = e.startDate?.toISOString().replace(/\.\d{3}Z$/, 'Z') ?? '';
    const duration = e.durationSeconds === undefined ? '' : `${e.durationSeconds.toFixed(1)}s`;
    return wide
      ? [started, e.name, status, duration, `${e.startedBy}${e.why ? `\n${e.why}` : ''}`, e.certificates.map((r) => `${r.name} ${r.outcome}`).join('\n'), failed]
      : [started.replace('T', ' ').replace(/:\d\dZ$/, 'Z'), status, duration, shortCaller(e.startedBy), outcomeCounts(e.certificates), failed];
  });
  // Newest first, revocations among the executions by time.
  const timed = [
    ...rows.map((row, i) => ({ at: executions[i]!.startDate?.getTime() ?? 0, row })),
    ...revoked,
  ].sort((a, b) => b.at - a.at);
  const head = wide
    ? ['started', 'execution', 'status', 'duration', 'started by', 'certificates', 'failed step']
    : ['started', 'status', 'duration', 'started by', 'certificates', 'failed step'];
  return fittedTable(head, timed.map((t) => t.row), layout, wide ? [0] : [0, 1, 2]);
}
