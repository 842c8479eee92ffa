// The ACME account of an issuer: its key and URL live in the issuer's own secret,
// `{ accountKey, accountUrl, directoryUrl }`, created on first use. Creation is
// race-safe: the key is stored before registering, so two first users agree on
// one key (a concurrent creator that loses CreateSecret re-reads the winner's),
// and registering an existing key at the CA just returns the existing account.
import { generateKeyPairSync } from 'node:crypto';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { asAwsError, awsErrorName } from '../aws.js';
import { InvalidInput } from '../workflow/errors.js';
import { TAG } from '../tagNames.js';
import type { Issuer } from '../inventory.js';
import { deterministicToken } from '../store/tokens.js';

export interface AcmeAccountSecret {
  /** PKCS#8 PEM. Never logged. */
  accountKey: string;
  /** Absent until the account is registered at the CA. */
  accountUrl?: string;
  directoryUrl: string;
}

/** A fresh ECDSA P-256 account key (PKCS#8 PEM). */
export function generateAccountKey(): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

export async function readAccountSecret(sm: SecretsManagerClient, name: string, stage = 'AWSCURRENT'): Promise<AcmeAccountSecret | undefined> {
  let text: string | undefined;
  try {
    text = (await sm.send(new GetSecretValueCommand({ SecretId: name, VersionStage: stage }))).SecretString;
  } catch (err) {
    if (awsErrorName(err) === 'ResourceNotFoundException') return undefined;
    throw asAwsError(err, `Reading ACME account secret ${name}`);
  }
  return parseAccountSecret(name, text);
}

export function parseAccountSecret(name: string, text: string | undefined): AcmeAccountSecret {
  let value: Partial<AcmeAccountSecret>;
  try {
    value = JSON.parse(text ?? '');
  } catch {
    throw new InvalidInput(`ACME account secret ${name} is not JSON { accountKey, accountUrl, directoryUrl }`);
  }
  if (typeof value.accountKey !== 'string' || typeof value.directoryUrl !== 'string') {
    throw new InvalidInput(`ACME account secret ${name} lacks accountKey or directoryUrl`);
  }
  return {
    accountKey: value.accountKey,
    directoryUrl: value.directoryUrl,
    ...(typeof value.accountUrl === 'string' ? { accountUrl: value.accountUrl } : {}),
  };
}

/**
 * The issuer's stored account, creating the secret with a new key when there is
 * none. The returned key is the one every concurrent caller will use.
 */
export async function loadOrCreateAccountSecret(
  sm: SecretsManagerClient,
  issuer: Issuer,
  options: { kmsKeyId?: string } = {},
): Promise<AcmeAccountSecret> {
  const name = issuer.accountSecretName;
  const existing = await readAccountSecret(sm, name);
  if (existing) return existing;

  const fresh: AcmeAccountSecret = { accountKey: generateAccountKey(), directoryUrl: issuer.directoryUrl };
  try {
    await sm.send(
      new CreateSecretCommand({
        Name: name,
        Description: `certpipe ACME account for issuer ${issuer.name}`,
        SecretString: JSON.stringify(fresh),
        ...(options.kmsKeyId ? { KmsKeyId: options.kmsKeyId } : {}),
        Tags: [
          { Key: TAG.acmeAccount, Value: issuer.name },
          { Key: TAG.directoryUrl, Value: issuer.directoryUrl.slice(0, 256) },
        ],
      }),
    );
    return fresh;
  } catch (err) {
    if (awsErrorName(err) !== 'ResourceExistsException') throw asAwsError(err, `Creating ACME account secret ${name}`);
  }
  const winner = await readAccountSecret(sm, name);
  if (!winner) throw new InvalidInput(`ACME account secret ${name} exists but has no current value`);
  return winner;
}

/** Record the account URL (and directory) once registered; idempotent for the same values. */
export async function saveAccountSecret(sm: SecretsManagerClient, name: string, value: AcmeAccountSecret): Promise<void> {
  const text = JSON.stringify({ accountKey: value.accountKey, accountUrl: value.accountUrl, directoryUrl: value.directoryUrl });
  try {
    await sm.send(
      new PutSecretValueCommand({
        SecretId: name,
        SecretString: text,
        ClientRequestToken: deterministicToken('acme-account', name, value.directoryUrl, value.accountUrl ?? ''),
      }),
    );
  } catch (err) {
    // Same token, other content: a concurrent caller stored this account first; theirs is as good.
    if (awsErrorName(err) === 'ResourceExistsException') return;
    throw asAwsError(err, `Updating ACME account secret ${name}`);
  }
}

// Key rollover (acme/rollover.ts decides): the new key waits as AWSPENDING
// until the CA accepted it; AWSCURRENT is what every function signs with.

/** The key a rollover stored and has not promoted yet, if any. */
export function readPendingAccountSecret(sm: SecretsManagerClient, name: string): Promise<AcmeAccountSecret | undefined> {
  return readAccountSecret(sm, name, PENDING);
}

const PENDING = 'AWSPENDING';
const CURRENT = 'AWSCURRENT';

/** Store `value` (the same account with a new key) as AWSPENDING, before the CA is told. */
export async function stagePendingAccountKey(sm: SecretsManagerClient, name: string, value: AcmeAccountSecret): Promise<void> {
  try {
    await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: JSON.stringify(value), VersionStages: [PENDING] }));
  } catch (err) {
    throw asAwsError(err, `Storing the pending key of ACME account secret ${name}`);
  }
}

/** AWSPENDING becomes AWSCURRENT (the old key stays as AWSPREVIOUS), then the pending label goes. */
export async function promotePendingAccountKey(sm: SecretsManagerClient, name: string): Promise<void> {
  const stages = await versionStages(sm, name);
  const pendingId = versionWith(stages, PENDING);
  if (!pendingId) return;
  const currentId = versionWith(stages, CURRENT);
  if (currentId !== pendingId) {
    await moveStage(sm, name, { VersionStage: CURRENT, MoveToVersionId: pendingId, ...(currentId ? { RemoveFromVersionId: currentId } : {}) });
  }
  await moveStage(sm, name, { VersionStage: PENDING, RemoveFromVersionId: pendingId });
}

/** Forget a pending key that belongs to no rollover of this account. */
export async function discardPendingAccountKey(sm: SecretsManagerClient, name: string): Promise<void> {
  const pendingId = versionWith(await versionStages(sm, name), PENDING);
  if (pendingId) await moveStage(sm, name, { VersionStage: PENDING, RemoveFromVersionId: pendingId });
}

async function versionStages(sm: SecretsManagerClient, name: string): Promise<Record<string, string[]>> {
  try {
    return (await sm.send(new DescribeSecretCommand({ SecretId: name }))).VersionIdsToStages ?? {};
  } catch (err) {
    throw asAwsError(err, `Describing ACME account secret ${name}`);
  }
}

function versionWith(stages: Record<string, string[]>, stage: string): string | undefined {
  return Object.entries(stages).find(([, s]) => s.includes(stage))?.[0];
}

async function moveStage(
  sm: SecretsManagerClient,
  name: string,
  input: { VersionStage: string; MoveToVersionId?: string; RemoveFromVersionId?: string },
): Promise<void> {
  try {
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: name, ...input }));
  } catch (err) {
    throw asAwsError(err, `Moving ${input.VersionStage} of ACME account secret ${name}`);
  }
}
