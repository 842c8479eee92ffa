// The ACME port over AcmeSession (acme.ts): one session per issuer, cached there.
import { AcmeSession } from '../acme.js';
import type { AwsClients } from '../aws.js';
import type { Acme } from './types.js';

export function acmeAccounts(aws: AwsClients): Acme {
  return { account: (issuer) => AcmeSession.open(issuer, aws.secretsManager()) };
}
