// The `certpipe` command line. `run(argv, io)` is the whole CLI with its
// terminal injected (tests call it in-process); `main` wires it to the process.
import { createInterface } from 'node:readline/promises';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ConfigError } from '../infra/config.js';
import { REVOCATION_REASONS } from '../functions/lib/acme/revocation.js';
import { CliError, EXIT, resolveTarget, type CliIO, type GlobalOptions } from './commands/context.js';
import { accountRolloverCommand } from './commands/account.js';
import { historyCommand } from './commands/history.js';
import { iamReportCommand } from './commands/iam.js';
import { inspectCommand } from './commands/inspect.js';
import { renewCommand } from './commands/renew.js';
import { revokeCommand } from './commands/revoke.js';
import { rollbackCommand } from './commands/rollback.js';
import { statusCommand } from './commands/status.js';
import { validateCommand } from './commands/validate.js';

export type { CliIO } from './commands/context.js';
export { EXIT } from './commands/context.js';

const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  the operation failed (a renewal failed, an AWS call was refused; validate: the config is invalid)
  2  usage or config error (bad arguments, a command given an invalid config, no target, rollback or revoke without --yes off a terminal)
  3  not found (unknown certificate, no issued certificate, unknown stack)

Target: --stack NAME (a deployed pipeline stack, default AWS credentials) or the
local cloud (--local, AWS_ENDPOINT_URL, or by default when CERTPIPE_DATA_DIR /
.certpipe-local holds a running cloud's cloud.json).`;

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of at least 1');
  return n;
}

function buildProgram(io: CliIO, setExit: (code: number) => void): Command {
  const program = new Command('certpipe')
    .description('Inspect and operate the certpipe certificate renewal pipeline')
    .option('--local', 'use the local cloud (npm start starts it and deploys the pipeline)')
    .option('--stack <name>', 'use a deployed pipeline stack, found by name')
    .option('--region <region>', 'AWS region of the stack (default: AWS_REGION)')
    .option('--config <path>', 'certpipe config file (default: CERTPIPE_CONFIG or certpipe.config.yaml)')
    .option('--json', 'machine-readable output, with everything')
    .option('--wide', 'every column (names, full targets, step timings), not fitted to the terminal')
    .option('--debug', 'print stack traces on errors')
    .addHelpText('after', EXIT_CODES_HELP)
    .showHelpAfterError('(run certpipe --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });

  const globals = (cmd: Command) => cmd.optsWithGlobals<GlobalOptions & Record<string, unknown>>();
  const withTarget =
    <A extends unknown[]>(fn: (target: Awaited<ReturnType<typeof resolveTarget>>, opts: any, ...args: A) => Promise<number>) =>
    async (...args: unknown[]) => {
      const cmd = args[args.length - 1] as Command;
      const opts = globals(cmd);
      const target = await resolveTarget(opts, io);
      setExit(await fn(target, opts, ...(args.slice(0, -2) as A)));
    };

  program
    .command('status')
    .description('every certificate: expiry, renewal time and reason, last run, where published')
    .action(withTarget((target, opts) => statusCommand(target, opts, io)));

  program
    .command('renew')
    .description('start a renewal of some certificates (or --all) and optionally follow it')
    .argument('[names...]', 'certificates to renew')
    .option('--all', 'every certificate')
    .option('--force', 'renew even when not due')
    .option('--wait', 'follow the execution to its end; exit 1 when a renewal fails')
    .option('--why <text>', 'the reason recorded in the audit trail (default: the command as given)')
    .addOption(new Option('--poll-ms <ms>', 'poll interval while following').argParser(positiveInt).hideHelp())
    .action(withTarget((target, opts, names: string[]) => renewCommand(names, target, opts, io)));

  program
    .command('inspect')
    .description('the certificate in use, its secret versions, targets and last error')
    .argument('<name>', 'certificate name')
    .action(withTarget((target, opts, name: string) => inspectCommand(name, target, opts, io)));

  program
    .command('history')
    .description('recent executions with outcome, duration and failed step')
    .argument('[name]', 'only executions that did something with this certificate')
    .option('--limit <n>', 'how many executions', positiveInt, 10)
    .action(withTarget((target, opts, name: string | undefined) => historyCommand(name, target, opts, io)));

  program
    .command('rollback')
    .description('make the previous certificate current again and re-import it to ACM')
    .argument('<name>', 'certificate name')
    .option('--yes', 'do not ask for confirmation')
    .option('--why <text>', 'the reason recorded in the audit trail (default: the command as given)')
    .action(withTarget((target, opts, name: string) => rollbackCommand(name, target, opts, io)));

  program
    .command('revoke')
    .description('revoke the current certificate at the CA (keyCompromise: signed with its own key); --reissue replaces it at once')
    .argument('<name>', 'certificate name')
    .addOption(new Option('--reason <reason>', 'why (RFC 5280)').choices(Object.keys(REVOCATION_REASONS)).makeOptionMandatory())
    .option('--reissue', 'start a forced renewal with a new key right after revoking')
    .option('--wait', 'with --reissue: follow the renewal to its end; exit 1 when it fails')
    .option('--yes', 'do not ask for confirmation')
    .option('--why <text>', 'the reason recorded in the audit trail (default: the command as given)')
    .addOption(new Option('--poll-ms <ms>', 'poll interval while following').argParser(positiveInt).hideHelp())
    .action(withTarget((target, opts, name: string) => revokeCommand(name, target, opts, io)));

  program
    .command('account')
    .description("the issuers' ACME accounts")
    .command('rollover')
    .description('give an issuer\'s ACME account a new key; the account URL stays (RFC 8555 §7.3.5)')
    .argument('<issuer>', 'issuer name from the config')
    .action(withTarget((target, opts, issuer: string) => accountRolloverCommand(issuer, target, opts, io)));

  program
    .command('iam')
    .description('IAM as the local cloud judged it')
    .command('report')
    .description('per role: actions used and the statement allowing each, denials, unused statements (--local only)')
    .action(async (...args: unknown[]) => {
      setExit(await iamReportCommand(globals(args[args.length - 1] as Command), io));
    });

  program
    .command('validate')
    .alias('validate-config')
    .description('check the config; every problem names the field and the fix')
    .action(async (...args: unknown[]) => {
      setExit(await validateCommand(globals(args[args.length - 1] as Command), io));
    });

  return program;
}

function exitCodeOf(err: unknown): number {
  if (err instanceof CliError) return err.exitCode;
  if (err instanceof ConfigError) return EXIT.usage;
  return EXIT.failed;
}

/** Runs the CLI with `argv` (arguments only, no node/script) and returns the exit code. */
export async function run(argv: string[], io: CliIO): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(io, (c) => (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version end through here too, with exit code 0.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const debug = argv.includes('--debug');
    const message = err instanceof Error ? err.message : String(err);
    // ConfigError messages are multi-line by design: the list of problems.
    io.stderr.write(`certpipe: ${message}\n`);
    if (debug && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
    return exitCodeOf(err);
  }
}

/** The process wiring: real terminal, a readline prompt for confirmations. */
export async function main(argv: string[]): Promise<number> {
  const isTTY = Boolean(process.stdout.isTTY && process.stdin.isTTY);
  return run(argv, {
    stdout: process.stdout,
    stderr: process.stderr,
    isTTY,
    ...(process.stdout.columns ? { columns: process.stdout.columns } : {}),
    env: process.env,
    confirm: async (question) => {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return /^y(es)?$/i.test((await rl.question(question)).trim());
      } finally {
        rl.close();
      }
    },
  });
}

const isMain = process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === import.meta.url;
// Before any AWS client is made: the tools support Node 20.19+ (Lambda runs nodejs22.x).
if (isMain) process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
if (isMain) process.exitCode = await main(process.argv.slice(2));
