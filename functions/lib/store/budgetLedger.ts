// Writes the budget's ledger (budget/ledger.ts) onto a certificate's primary secret:
// read its tags, add the entry, write the one tag back. Two executions writing at the
// same instant may lose one entry; the CA's 429 still wins over the estimate.
import { DescribeSecretCommand, TagResourceCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { asAwsError } from '../aws.js';
import { appendFailures, appendOrder } from '../budget/ledger.js';
import type { CertificateSpec } from '../inventory.js';
import { TAG } from './model.js';

type Secret = Pick<CertificateSpec, 'secretName'>;

async function rewriteTag(sm: SecretsManagerClient, spec: Secret, key: string, next: (previous: string | undefined) => string): Promise<void> {
  try {
    const described = await sm.send(new DescribeSecretCommand({ SecretId: spec.secretName }));
    const previous = described.Tags?.find((t) => t.Key === key)?.Value;
    await sm.send(new TagResourceCommand({ SecretId: spec.secretName, Tags: [{ Key: key, Value: next(previous) }] }));
  } catch (err) {
    throw asAwsError(err, `Recording ${key} on secret ${spec.secretName}`);
  }
}

/** An order was placed at the CA for this certificate (counted by newOrdersPer3Hours, issued or not). */
export function recordOrderPlaced(sm: SecretsManagerClient, spec: Secret, at: Date): Promise<void> {
  return rewriteTag(sm, spec, TAG.orders, (previous) => appendOrder(previous, at));
}

/** The CA failed these identifiers' authorizations (counted by failedAuthorizationsPerIdentifierPerHour). */
export async function recordFailedAuthorizations(sm: SecretsManagerClient, spec: Secret, identifiers: readonly string[], at: Date): Promise<void> {
  if (identifiers.length === 0) return;
  await rewriteTag(sm, spec, TAG.failedAuthz, (previous) => appendFailures(previous, identifiers, at));
}
