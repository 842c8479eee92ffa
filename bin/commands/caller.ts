// Who runs the CLI, for the audit trail: the caller's ARN as STS reports it
// for the credentials the CLI uses on the target (a role session, a user, the
// local cloud's account root).
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { cliAudit, type Audit } from '../../functions/lib/audit/audit.js';
import type { Target } from './context.js';

export async function callerArn(target: Target): Promise<string> {
  const sts = target.aws.client(STSClient);
  const identity = await sts.send(new GetCallerIdentityCommand({}));
  if (!identity.Arn) throw new Error('STS GetCallerIdentity returned no Arn');
  return identity.Arn;
}

/** The audit fields for a change the CLI starts: the caller and what was asked (`certpipe renew web --force`). */
export async function cliAuditFor(target: Target, why: string): Promise<Audit> {
  return cliAudit(await callerArn(target), why);
}
