// A certificate's "not before": the CA's Retry-After past the end of an execution
// (`DeferredByCa`: CheckExpiry does not ask the CA again before then), or the next
// slot of the issuer's rate-limit budget (`RateLimitBudget`: recounted every run).
// Kept as tags on its primary secret so `certpipe status` shows it. A secret that
// does not exist yet (first issuance) has nowhere to keep it: the next scheduled
// run then decides again.
import { ResourceNotFoundException, TagResourceCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { asAwsError } from '../aws.js';
import type { CertificateSpec } from '../inventory.js';
import { TAG } from './model.js';

export const DEFERRED_UNTIL_TAG = TAG.deferredUntil;
export type DeferralReason = 'DeferredByCa' | 'RateLimitBudget';

/** Record that this certificate waits until `until`, and why; false when its secret does not exist yet. */
export async function recordDeferral(
  sm: SecretsManagerClient,
  spec: Pick<CertificateSpec, 'secretName'>,
  until: Date,
  reason: DeferralReason = 'DeferredByCa',
): Promise<boolean> {
  try {
    await sm.send(
      new TagResourceCommand({
        SecretId: spec.secretName,
        Tags: [
          { Key: DEFERRED_UNTIL_TAG, Value: until.toISOString() },
          { Key: TAG.deferredReason, Value: reason },
        ],
      }),
    );
    return true;
  } catch (err) {
    if (err instanceof ResourceNotFoundException) return false;
    throw asAwsError(err, `Recording the deferral on secret ${spec.secretName}`);
  }
}
