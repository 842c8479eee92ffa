// The CA's "not before" for a certificate (Retry-After past the end of an execution),
// kept as a tag on its primary secret so `certpipe status` shows it and CheckExpiry
// does not ask the CA again before then. A secret that does not exist yet (first
// issuance) has nowhere to keep it: the next scheduled run then asks again.
import { ResourceNotFoundException, TagResourceCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { asAwsError } from '../aws.js';
import type { CertificateSpec } from '../inventory.js';
import { TAG } from './model.js';

export const DEFERRED_UNTIL_TAG = TAG.deferredUntil;

/** Record that the CA asked this certificate to wait until `until`; false when its secret does not exist yet. */
export async function recordDeferral(sm: SecretsManagerClient, spec: CertificateSpec, until: Date): Promise<boolean> {
  try {
    await sm.send(new TagResourceCommand({ SecretId: spec.secretName, Tags: [{ Key: DEFERRED_UNTIL_TAG, Value: until.toISOString() }] }));
    return true;
  } catch (err) {
    if (err instanceof ResourceNotFoundException) return false;
    throw asAwsError(err, `Recording the deferral on secret ${spec.secretName}`);
  }
}
