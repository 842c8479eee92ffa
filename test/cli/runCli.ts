// The CLI run in-process with a captured, non-terminal IO: what the CLI tests call.
import { run, type CliIO } from '../../bin/cli.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(argv: string[], env: NodeJS.ProcessEnv, extra: Partial<CliIO> = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    isTTY: false,
    env,
    ...extra,
  });
  return { code, stdout, stderr };
}
