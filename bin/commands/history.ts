// `certpipe history [name]`: recent executions with outcome, duration and the
// step that failed; with a name, only the runs that did something with it.
import Table from 'cli-table3';
import { colors, findSpec, printJson, println, type CliIO, type GlobalOptions, type Target } from './context.js';
import { recentExecutions } from './executions.js';

export interface HistoryOptions extends GlobalOptions {
  limit?: number;
}

export async function historyCommand(name: string | undefined, target: Target, opts: HistoryOptions, io: CliIO): Promise<number> {
  if (name) findSpec(target, name);
  const limit = opts.limit ?? 10;
  let executions = await recentExecutions(target, name ? Math.max(limit, 50) : limit);
  if (name) {
    executions = executions
      .filter((e) => e.certificates.some((r) => r.name === name) || e.status !== 'SUCCEEDED')
      .map((e) => ({ ...e, certificates: e.certificates.filter((r) => r.name === name) }))
      .slice(0, limit);
  }
  if (opts.json) {
    printJson(io, { target: target.description, executions });
    return 0;
  }
  const c = colors(io);
  const table = new Table({
    head: ['started', 'execution', 'status', 'duration', 'certificates', 'failed step'],
    style: io.isTTY ? { head: ['cyan'] } : { head: [], border: [] },
  });
  for (const e of executions) {
    const certs = e.certificates.map((r) => `${r.name} ${r.outcome === 'skipped' ? 'skipped' : r.outcome}`).join('\n');
    const failed = [
      ...(e.failedStep ? [e.failedStep] : []),
      ...e.certificates.filter((r) => r.failedStep).map((r) => `${r.name}: ${r.failedStep} (${r.error ?? 'error'})`),
    ].join('\n');
    const status = e.status === 'SUCCEEDED' ? c.green(e.status) : e.status === 'RUNNING' ? c.yellow(e.status) : c.red(e.status);
    table.push([
      e.startDate?.toISOString().replace(/\.\d{3}Z$/, 'Z') ?? '',
      e.name,
      status,
      e.durationSeconds === undefined ? '' : `${e.durationSeconds.toFixed(1)}s`,
      certs,
      failed,
    ]);
  }
  println(io, executions.length ? table.toString() : `no executions${name ? ` for ${name}` : ''} in ${target.description}`);
  return 0;
}
