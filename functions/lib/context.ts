// What every step works with: the environment, read once per process, and the
// ports (ports/types.ts) a step talks through. A handler names the ports its step
// needs, so its bundle holds only those (CleanupChallenges never loads ACME).
import { AwsClients, awsClients } from './aws.js';
import { loadInventory, type Inventory } from './inventory.js';
import type { Acme, CertificateEvents, RenewalInformation, CertificateRecords, Certificates, ChallengeDns, ChallengeHolds, PublishTargets } from './ports/types.js';
import { includeAdopted } from './selfService/adoption.js';
import { requestSecrets } from './selfService/requestSecrets.js';
import { S3Client } from '@aws-sdk/client-s3';
import { s3RunObjects, type RunObjects } from './ports/runObjects.js';
import { CertificateStore } from './store/certificateStore.js';
import { holderLeaseMs } from './store/pendingOrder.js';
import { PendingOrderTags } from './store/pendingOrder.js';

/** The functions' settings (infra/functions.ts sets them); nothing else reads process.env. */
export interface StepEnvironment {
  readonly inventory: Inventory;
  /** How long an execution may hold its challenge values (the state machine's timeout). */
  readonly holderLeaseMs: number;
  /** KMS key for the secrets the functions create. */
  readonly kmsKeyId?: string;
  /** The run bucket: the due list for RenewEach, its results for Summarize. */
  readonly runBucket?: string;
  /** Where S3 is when not AWS's (the SDK's AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, read by hand: no S3 client here). */
  readonly s3Endpoint?: string;
}

export function readEnvironment(env: NodeJS.ProcessEnv = process.env): StepEnvironment {
  return {
    inventory: loadInventory(env.CERTPIPE_INVENTORY),
    holderLeaseMs: holderLeaseMs(env),
    ...(env.CERTPIPE_KMS_KEY_ID ? { kmsKeyId: env.CERTPIPE_KMS_KEY_ID } : {}),
    ...(env.CERTPIPE_RUN_BUCKET ? { runBucket: env.CERTPIPE_RUN_BUCKET } : {}),
    ...((env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL) ? { s3Endpoint: env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL } : {}),
  };
}

export interface StepContext {
  readonly env: StepEnvironment;
  readonly inventory: Inventory;
  /** The primary certificate secrets, in the pipeline's account and region. */
  readonly store: CertificateRecords;
  readonly holds: ChallengeHolds;
  readonly acme: Acme;
  /** The CA's renewal windows (ARI), for CheckExpiry. */
  readonly ari: RenewalInformation;
  readonly dns: ChallengeDns;
  readonly certificates: Certificates;
  readonly targets: PublishTargets;
  readonly events: CertificateEvents;
  readonly runObjects: RunObjects;
  readonly now: () => Date;
}

/** A step's context: the ports it uses, and always the environment, the inventory and the clock. */
export type ContextFor<K extends keyof StepContext> = Pick<StepContext, K | 'env' | 'inventory' | 'now'>;

/** What a handler builds its ports from. */
export interface ContextBase {
  readonly env: StepEnvironment;
  readonly inventory: Inventory;
  readonly aws: AwsClients;
  readonly store: CertificateStore;
  readonly holds: ChallengeHolds;
  readonly now: () => Date;
}

/** Before a step on `name`: a self-service certificate's spec, read again from its request secret. */
export const includeRequest = (name: string): Promise<void> =>
  includeAdopted(contextBase().inventory, name, () => requestSecrets(contextBase().aws.secretsManager()));

let base: ContextBase | undefined;
function contextBase(): ContextBase {
  if (!base) {
    const env = readEnvironment();
    const aws = awsClients();
    const sm = aws.secretsManager();
    base = {
      env,
      inventory: env.inventory,
      aws,
      store: new CertificateStore(sm, { ...(env.kmsKeyId ? { kmsKeyId: env.kmsKeyId } : {}) }),
      holds: new PendingOrderTags(sm),
      now: () => new Date(),
    };
  }
  return base;
}

/**
 * The handler's context, built on first use and kept for the warm process:
 * `ports` adds what the step needs beyond the store and the challenge holds.
 */
export function stepContext<P extends object>(ports: (base: ContextBase) => P = () => ({}) as P): () => ContextBase & P {
  let built: (ContextBase & P) | undefined;
  return () => (built ??= { ...contextBase(), ...ports(contextBase()) });
}

/** The run bucket's objects, signed with the same credentials as the functions' SDK clients. */
export function runObjectsOf(base: ContextBase): RunObjects {
  if (!base.env.runBucket) throw new Error('CERTPIPE_RUN_BUCKET is not set: the stack gives it to CheckExpiry and Summarize');
  // A local endpoint serves path-style only; in AWS the SDK picks the bucket's virtual host.
  const s3 = base.aws.client(S3Client, base.aws.defaultRegion, base.env.s3Endpoint ? { endpoint: base.env.s3Endpoint, forcePathStyle: true } : {});
  return s3RunObjects(base.env.runBucket, s3);
}
