// `certpipe rollback <name>`: make AWSPREVIOUS current again and re-import it
// into every ACM target, so the ARN's users get the previous certificate back.
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { awsErrorName } from '../../functions/lib/aws.js';
import { publishToAcm } from '../../functions/lib/store/acm.js';
import { CertificateStore } from '../../functions/lib/store/certificateStore.js';
import { clientsFor } from '../../functions/lib/targets.js';
import { renewalTime } from '../../functions/lib/renewal.js';
import { colors, findSpec, printJson, println, usageError, type CliIO, type GlobalOptions, type Target } from './context.js';
import { describePublishTarget } from './status.js';

export interface RollbackOptions extends GlobalOptions {
  yes?: boolean;
}

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
  const spec = findSpec(target, name);
  if (!opts.yes) {
    if (!io.isTTY || !io.confirm) throw usageError('rollback changes the certificate in use: pass --yes (not asking, stdin is not a terminal)');
    if (!(await io.confirm(`Make the previous certificate of ${name} current again and re-import it to its ACM targets? [y/N] `))) {
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
  const reimported: { target: string; certificateArn: string }[] = [];
  for (const t of spec.targets) {
    if (t.type !== 'acm') continue;
    const clients = await clientsFor(target.aws, t);
    const result = await publishToAcm({ store, spec, acm: clients.acm, accountId: clients.accountId, region: t.region, issued: restored });
    reimported.push({ target: describePublishTarget(t), certificateArn: result.certificateArn });
  }
  const result = {
    name,
    fromSerial: before?.issued.serial,
    serial: restored.serial,
    notAfter: restored.notAfter,
    ...(at ? { renewalTime: at.toISOString() } : {}),
    reimported,
  };
  if (opts.json) {
    printJson(io, result);
    return 0;
  }
  const c = colors(io);
  println(io, c.green(`${name}: serial ${restored.serial} (valid until ${restored.notAfter}) is current again, replacing ${result.fromSerial ?? '?'}`));
  for (const r of reimported) println(io, `  re-imported into ${r.target}: ${r.certificateArn}`);
  if (spec.targets.some((t) => t.type === 'secretsmanager')) {
    println(io, '  secret copies in other accounts/regions are not rolled back; they follow at the next renewal');
  }
  return 0;
}
