// `certpipe validate`: the config checked as deploy would check it; every
// problem names its field and the fix. Needs no cloud.
import { resolve } from 'node:path';
import { ConfigError, DEFAULT_CONFIG_PATH, loadConfig, toInventory } from '../../infra/config.js';
import { configWarnings, scheduleWarnings } from '../../infra/config/warnings.js';
import { colors, EXIT, printJson, println, type CliIO, type GlobalOptions } from './context.js';

export async function validateCommand(opts: GlobalOptions, io: CliIO): Promise<number> {
  const file = resolve(opts.config ?? io.env.CERTPIPE_CONFIG ?? DEFAULT_CONFIG_PATH);
  const c = colors(io);
  try {
    const config = loadConfig(file);
    // Some problems only show once defaults are resolved for a deployment.
    const inventory = toInventory(config, { region: io.env.AWS_REGION ?? 'us-east-1' });
    const warnings = [...configWarnings(inventory), ...scheduleWarnings(config.pipeline.schedule, inventory)];
    const summary = { valid: true, file, certificates: config.certificates.length, issuers: config.issuers.length, problems: [], warnings };
    if (opts.json) printJson(io, summary);
    else {
      println(io, c.green(`${file} is valid: ${summary.certificates} certificates, ${summary.issuers} issuers`));
      for (const w of warnings) io.stderr.write(`${c.yellow('warning')}: ${w.path ? `${w.path}: ` : ''}${w.message}\n`);
    }
    return EXIT.ok;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    if (opts.json) {
      printJson(io, { valid: false, file, problems: err.problems });
    } else {
      io.stderr.write(`${c.red(`${file}: ${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}`)}\n`);
      for (const p of err.problems) io.stderr.write(`  ${p.path ? `${c.bold(p.path)}: ` : ''}${p.message}\n`);
    }
    // validate answers a yes/no question: 1 = the config is invalid (2 stays for usage errors).
    return EXIT.failed;
  }
}
