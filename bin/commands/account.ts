// `certpipe account rollover <issuer>`: a new key for the issuer's ACME account,
// same account URL (functions/lib/accountRollover.ts). Re-running it after an
// interruption finishes the rollover it finds instead of starting another.
import { rollOverAccountKey } from '../../functions/lib/accountRollover.js';
import { colors, notFound, printJson, println, type CliIO, type GlobalOptions, type Target } from './context.js';

export async function accountRolloverCommand(issuerName: string, target: Target, opts: GlobalOptions, io: CliIO): Promise<number> {
  const issuer = target.inventory.issuers.find((i) => i.name === issuerName);
  if (!issuer) {
    const known = target.inventory.issuers.map((i) => i.name).join(', ') || 'none';
    throw notFound(`no issuer named "${issuerName}" in the inventory (known: ${known})`);
  }
  const outcome = await rollOverAccountKey(
    target.aws.secretsManager(),
    issuer,
    target.acmeCaBundlePath ? { caBundlePath: target.acmeCaBundlePath } : {},
  );
  if (opts.json) {
    printJson(io, outcome);
    return 0;
  }
  for (const step of outcome.steps) println(io, `  ${step.action}: ${step.message}`);
  println(io, colors(io).green(`${issuer.name}: account ${outcome.accountUrl} now signs with a new key; the old key is kept as AWSPREVIOUS of ${issuer.accountSecretName}`));
  return 0;
}
