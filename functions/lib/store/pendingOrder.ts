// The challenge tags of a certificate's primary secret (see challengeHolders.ts):
// read with DescribeSecret, written with TagResource/UntagResource. Never reads a
// secret value, so CleanupChallenges holds no secretsmanager:GetSecretValue.
import {
  DescribeSecretCommand,
  TagResourceCommand,
  UntagResourceCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { asAwsError, awsErrorName } from '../aws.js';
import type { CertificateSpec } from '../inventory.js';
import { holderTagKey, readChallengeTags, valuesTags, type ChallengeTags } from './challengeHolders.js';
import { TAG } from './model.js';

// The state machine's default execution timeout (infra: executionTimeout): no
// execution holds the values longer, so a lease may not end sooner.
const DEFAULT_LEASE_SECONDS = 6 * 3600;

/** How long a holder may need its values: the execution timeout, from CERTPIPE_EXECUTION_TIMEOUT_SECONDS when set. */
export function holderLeaseMs(env: NodeJS.ProcessEnv = process.env): number {
  const seconds = Number(env.CERTPIPE_EXECUTION_TIMEOUT_SECONDS);
  return (Number.isFinite(seconds) && seconds > 0 ? seconds : DEFAULT_LEASE_SECONDS) * 1000;
}

export class PendingOrderTags {
  constructor(private readonly sm: SecretsManagerClient) {}

  /** The pending order URL, the recorded values and their holders; empty when the secret does not exist. */
  async read(spec: CertificateSpec): Promise<ChallengeTags> {
    let tags: Map<string, string>;
    try {
      const described = await this.sm.send(new DescribeSecretCommand({ SecretId: spec.secretName }));
      tags = new Map((described.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
    } catch (err) {
      if (awsErrorName(err) !== 'ResourceNotFoundException') throw asAwsError(err, `Describing secret ${spec.secretName}`);
      tags = new Map();
    }
    return readChallengeTags(tags, TAG.pendingOrder);
  }

  /**
   * Record, before writing them, the values of `orderUrl` and that `executionId`
   * works on them until `leaseEndsAt`. Each order and each execution has its own
   * tag keys, so concurrent writers never overwrite each other.
   */
  async hold(spec: CertificateSpec, input: { orderUrl: string; values: readonly string[]; executionId?: string; leaseEndsAt: Date }): Promise<void> {
    const tags = valuesTags(input.orderUrl, input.values);
    if (input.executionId) tags.push({ Key: holderTagKey(input.executionId), Value: input.leaseEndsAt.toISOString() });
    if (!tags.length) return;
    try {
      await this.sm.send(new TagResourceCommand({ SecretId: spec.secretName, Tags: tags }));
    } catch (err) {
      throw asAwsError(err, `Tagging secret ${spec.secretName} with its challenge values`);
    }
  }

  /** Drop this execution's holder tag (none: nothing to drop). */
  release(spec: CertificateSpec, executionId: string | undefined): Promise<void> {
    return executionId ? this.untag(spec, [holderTagKey(executionId)]) : Promise.resolve();
  }

  async untag(spec: CertificateSpec, keys: readonly string[]): Promise<void> {
    if (!keys.length) return;
    try {
      await this.sm.send(new UntagResourceCommand({ SecretId: spec.secretName, TagKeys: [...keys] }));
    } catch (err) {
      if (awsErrorName(err) === 'ResourceNotFoundException') return;
      throw asAwsError(err, `Untagging secret ${spec.secretName}`);
    }
  }
}
