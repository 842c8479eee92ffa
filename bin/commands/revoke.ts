// `certpipe revoke <name> --reason R [--reissue [--wait]] [--yes] [--why T]`: revoke the
// certificate in use (functions/lib/revocation.ts does it and records it) and,
// with --reissue, start a forced renewal of it at once: a new key (a revoked
// certificate's key is never reused), published to the secret and every target.
// The revocation and the reissue carry the same audit fields: the caller and why.
import { AcmeSession, revokeWithCertificateKey } from '../../functions/lib/acme.js';
import type { RevocationReason } from '../../functions/lib/acme/revocation.js';
import { findIssuer } from '../../functions/lib/inventory.js';
import { eventBridge } from '../../functions/lib/ports/eventBridge.js';
import { NothingToRevoke, revokeCurrentCertificate, type RevocationPorts } from '../../functions/lib/revocation.js';
import { CertificateStore } from '../../functions/lib/store/certificateStore.js';
import { startExecution } from '../run.js';
import { cliAuditFor } from './caller.js';
import { colors, EXIT, findSpec, notFound, printJson, println, usageError, type CliIO, type GlobalOptions, type Target } from './context.js';
import { followExecution, outcomeLines } from './renew.js';

export interface RevokeOptions extends GlobalOptions {
  reason: RevocationReason;
  reissue?: boolean;
  wait?: boolean;
  yes?: boolean;
  /** Why, for the audit trail; default: the command as given. */
  why?: string;
  pollMs?: number;
}

export async function revokeCommand(name: string, target: Target, opts: RevokeOptions, io: CliIO): Promise<number> {
  const spec = await findSpec(target, name);
  if (opts.wait && !opts.reissue) throw usageError('--wait follows the reissue: pass --reissue too');
  if (!opts.yes) {
    if (!io.isTTY || !io.confirm) throw usageError('revoke cannot be undone: pass --yes (not asking, stdin is not a terminal)');
    const then = opts.reissue ? ' and issue a new one' : ' (it stays in use until renewed: see --reissue)';
    if (!(await io.confirm(`Revoke the current certificate of ${name} (${opts.reason})${then}? [y/N] `))) {
      println(io, 'revoke cancelled');
      return EXIT.ok;
    }
  }
  const asked = `certpipe revoke ${name} --reason ${opts.reason}${opts.reissue ? ' --reissue' : ''}`;
  const audit = await cliAuditFor(target, opts.why ?? asked);
  const sm = target.aws.secretsManager();
  const caBundle = target.acmeCaBundlePath ? { caBundlePath: target.acmeCaBundlePath } : {};
  const ports: RevocationPorts = {
    store: new CertificateStore(sm),
    ca: {
      withAccountKey: async (issuer, pem, code) => (await AcmeSession.open(issuer, sm, caBundle)).revokeCertificate(pem, code),
      withCertificateKey: (issuer, pem, key, code) => revokeWithCertificateKey(issuer, pem, key, code, caBundle),
    },
    events: eventBridge(target.aws, target.inventory.eventBusName),
  };
  let revoked;
  try {
    revoked = await revokeCurrentCertificate(ports, spec, findIssuer(target.inventory, spec.issuer), opts.reason, audit, new Date());
  } catch (err) {
    if (err instanceof NothingToRevoke) throw notFound(err.message);
    throw err;
  }
  const c = colors(io);
  if (!opts.json) {
    const signer = revoked.signedWith === 'certificateKey' ? "the certificate's own key" : 'the account key';
    const already = revoked.alreadyRevoked ? ' (the CA had revoked it already)' : '';
    println(io, c.yellow(`${name}: serial ${revoked.serial} revoked (${revoked.reason}, signed with ${signer})${already}`));
  }
  if (!opts.reissue) {
    if (opts.json) printJson(io, { revocation: revoked });
    else println(io, `  it stays in use until replaced: certpipe renew ${name} --force`);
    return EXIT.ok;
  }

  const executionArn = await startExecution(target.sfn, target.stateMachineArn, { only: [name], force: true, ...audit });
  if (!opts.wait) {
    if (opts.json) printJson(io, { revocation: revoked, reissue: { executionArn, status: 'RUNNING' } });
    else println(io, `reissue started: ${executionArn}`);
    return EXIT.ok;
  }
  const { finished, summary } = await followExecution(executionArn, target, opts, io);
  const wanted = summary.certificates.filter((r) => r.name === name);
  const failed = finished.status !== 'SUCCEEDED' || !wanted.some((r) => r.outcome === 'renewed');
  if (opts.json) printJson(io, { revocation: revoked, reissue: summary });
  else println(io, outcomeLines(wanted, finished.status, summary.error, opts, io));
  return failed ? EXIT.failed : EXIT.ok;
}
