// `certpipe iam report --local`: per role, the actions its calls used with the
// statement that allowed each, what it was refused, and the statements no
// recorded call used (least-privilege candidates), from the local cloud's
// decision log. Only the local cloud records decisions; AWS has no such log.
import Table from 'cli-table3';
import { localDataDir, readCloudInfo } from '../local-cloud.js';
import { CliError, colors, EXIT, printJson, println, usageError, type CliIO, type GlobalOptions } from './context.js';

/** The body of `GET /_certpipe/iam/report` (local/aws/iam/decisions.ts RoleReport). */
export interface IamReport {
  readonly mode: string;
  readonly roles: ReadonlyArray<{
    readonly roleArn: string;
    readonly used: ReadonlyArray<{ action: string; statement: string; calls: number }>;
    readonly denied: ReadonlyArray<{ action: string; resource: string; calls: number }>;
    readonly unusedStatements: readonly string[];
  }>;
}

function localEndpoint(opts: GlobalOptions, io: CliIO): string {
  if (opts.stack) throw usageError('iam report reads the local cloud\'s decision log: use --local (AWS keeps no such log; see IAM Access Analyzer)');
  const dataDir = localDataDir(io.env);
  const endpoint = io.env.AWS_ENDPOINT_URL || readCloudInfo(dataDir)?.endpoint;
  if (!endpoint) throw usageError(`no local cloud runs in ${dataDir}: run npm start`);
  return endpoint;
}

/** The report as lines of text, one block per role. */
export function iamReportText(report: IamReport, io: CliIO): string[] {
  const c = colors(io);
  const lines = [`IAM decisions of the local cloud (mode: ${report.mode})`];
  if (report.roles.length === 0) lines.push('', 'No roles are registered: deploy the pipeline (npm start).');
  for (const role of report.roles) {
    lines.push('', c.bold(role.roleArn));
    if (role.used.length) {
      const table = new Table({ head: ['action used', 'allowed by', 'calls'], style: { head: [], border: [] } });
      for (const u of role.used) table.push([u.action, u.statement, String(u.calls)]);
      lines.push(...table.toString().split('\n'));
    } else {
      lines.push('  no recorded call');
    }
    for (const d of role.denied) lines.push(c.red(`  denied: ${d.action} on ${d.resource} (${d.calls} call${d.calls === 1 ? '' : 's'})`));
    for (const s of role.unusedStatements) lines.push(c.yellow(`  unused: ${s} (least-privilege candidate)`));
  }
  return lines;
}

export async function iamReportCommand(opts: GlobalOptions, io: CliIO): Promise<number> {
  const endpoint = localEndpoint(opts, io);
  let res: Response;
  try {
    res = await fetch(new URL('/_certpipe/iam/report', endpoint));
  } catch (err) {
    throw new CliError(`the local cloud at ${endpoint} does not answer (${(err as Error).message}): run npm start`, EXIT.failed);
  }
  if (!res.ok) throw new CliError(`the local cloud at ${endpoint} answered ${res.status} for its IAM report`, EXIT.failed);
  const report = (await res.json()) as IamReport;
  if (opts.json) printJson(io, report);
  else for (const line of iamReportText(report, io)) println(io, line);
  return EXIT.ok;
}
