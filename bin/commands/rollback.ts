// `certpipe rollback <name>`: make AWSPREVIOUS current again and publish it as a
// renewal would (functions/lib/publish.ts): ACM re-imports at the same ARNs, the
// secret copies, and a `Certificate Rolled Back` event for consumers to reload on.
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { awsErrorName } from '../../functions/lib/aws.js';
import { awsTargets } from '../../functions/lib/ports/awsTargets.js';
import { eventBridge } from '../../functions/lib/ports/eventBridge.js';
import { EVENT, publish } from '../../functions/lib/publish.js';
import { renewalTime } from '../../functions/lib/renewal.js';
import { CertificateStore } from '../../functions/lib/store/certificateStore.js';
import { describeTarget } from '../../functions/lib/targetIds.js';
import { cliAuditFor } from './caller.js';
import { colors, EXIT, findSpec, printJson, println, usageError, type CliIO, type GlobalOptions, type Target } from './context.js';

export interface RollbackOptions extends GlobalOptions {
  yes?: boolean;
  /** Why, for the audit trail; default: the command as given. */
  why?: string;
}

/** The `reason` of the rollback event (a renewal's is CheckExpiry's reason). */
const ROLLBACK_REASON = 'Rollback';

/** Dates of AWSPREVIOUS (public facts only), or undefined when there is none. */
async function previousDates(target: Target, secretName: string): Promise<{ notBefore: Date; notAfter: Date } | undefined> {
  try {
    const value = await target.aws
      .secretsManager()
      .send(new GetSecretValueCommand({ SecretId: secretName, VersionStage: 'AWSPREVIOUS' }));
    let parsed: { notBefore?: string; notAfter?: string };
    try {
      parsed = JSON.parse(value.SecretString ?? '{}') as { notBefore?: string; notAfter?: string };
    } catch {
      return undefined; // never echo a parser message: it quotes the secret's text
    }
    if (!parsed.notBefore || !parsed.notAfter) return undefined;
    return { notBefore: new Date(parsed.notBefore), notAfter: new Date(parsed.notAfter) };
  } catch (err) {
    if (awsErrorName(err) === 'ResourceNotFoundException') return undefined;
    throw err;
  }
}

export async function rollbackCommand(name: string, target: Target, opts: RollbackOptions, io: CliIO): Promise<number> {
  const spec = await findSpec(target, name);
  if (!opts.yes) {
    if (!io.isTTY || !io.confirm) throw usageError('rollback changes the certificate in use: pass --yes (not asking, stdin is not a terminal)');
    if (!(await io.confirm(`Make the previous certificate of ${name} current again and publish it to its targets? [y/N] `))) {
      println(io, 'rollback cancelled');
      return 0;
    }
  }
  const store = new CertificateStore(target.aws.secretsManager());
  const before = await store.readCurrent(spec);
  const previous = await previousDates(target, spec.secretName);
  // The tags will describe the restored certificate, its renewal time included.
  const at = previous ? renewalTime(previous, spec.renewal) : undefined;
  const restored = await store.rollback(spec, { now: new Date(), ...(at ? { renewalTime: at } : {}) });
  const ports = { store, targets: awsTargets(target.aws, store), events: eventBridge(target.aws, target.inventory.eventBusName) };
  const outcome = await publish(ports, spec, restored, { event: EVENT.rolledBack, reason: ROLLBACK_REASON, audit: await cliAuditFor(target, opts.why ?? `certpipe rollback ${name}`) });

  const reimported = outcome.delivered
    .filter((d) => d.target.type === 'acm')
    .map((d) => ({ target: describeTarget(d.target), certificateArn: d.id.split(':').slice(3).join(':') }));
  const copied = outcome.delivered.filter((d) => d.target.type === 'secretsmanager').map((d) => describeTarget(d.target));
  const result = {
    name,
    fromSerial: before?.issued.serial,
    serial: restored.serial,
    notAfter: restored.notAfter,
    ...(at ? { renewalTime: at.toISOString() } : {}),
    reimported,
    copied,
    failedTargets: outcome.failures.map((f) => f.target),
    event: EVENT.rolledBack,
  };
  const code = outcome.failures.length ? EXIT.failed : EXIT.ok;
  if (opts.json) {
    printJson(io, result);
    return code;
  }
  const c = colors(io);
  println(io, c.green(`${name}: serial ${restored.serial} (valid until ${restored.notAfter}) is current again, replacing ${result.fromSerial ?? '?'}`));
  for (const r of reimported) println(io, `  re-imported into ${r.target}: ${r.certificateArn}`);
  for (const copy of copied) println(io, `  copied to ${copy}`);
  for (const f of outcome.failures) io.stderr.write(`  not published to ${f.target} (${f.name}: ${f.error}); the next run publishes it\n`);
  return code;
}
