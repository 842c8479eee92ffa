// Copies of an issued certificate in secretsmanager targets (other accounts or
// regions): the issued JSON as AWSCURRENT, written once per serial.
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  PutSecretValueCommand,
  TagResourceCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
  type Tag,
} from '@aws-sdk/client-secrets-manager';
import { asAwsError, awsErrorName } from '../aws.js';
import { PublishFailed } from '../workflow/errors.js';
import type { SecretTarget } from '../inventory.js';
import { TAG, type IssuedCertificate } from './model.js';
import { copyToken } from './tokens.js';

/** Write the issued JSON to a secretsmanager target (created on first use); idempotent per serial. */
export async function publishSecretCopy(
  sm: SecretsManagerClient,
  target: Pick<SecretTarget, 'name' | 'region' | 'kmsKeyId'>,
  issued: IssuedCertificate,
): Promise<{ secretName: string; versionId: string }> {
  const token = copyToken(target.name, issued.serial);
  const SecretString = JSON.stringify(issued);
  const tags: Tag[] = [
    { Key: TAG.managed, Value: 'true' },
    { Key: TAG.certificate, Value: issued.certificateName },
    { Key: TAG.copyOf, Value: issued.certificateName },
    { Key: TAG.notAfter, Value: issued.notAfter },
    { Key: TAG.serial, Value: issued.serial },
  ];
  const where = `secret ${target.name} in ${target.region}`;
  const put = async () => {
    const written = await sm.send(new PutSecretValueCommand({ SecretId: target.name, ClientRequestToken: token, SecretString }));
    // A version written before (this serial, published again by a rollback) keeps its old
    // stages: the repeated PutSecretValue changes nothing, so move AWSCURRENT back to it.
    if (!written.VersionStages?.includes('AWSCURRENT')) await makeCurrent(sm, target.name, token);
  };
  try {
    try {
      await put();
    } catch (err) {
      if (awsErrorName(err) !== 'ResourceNotFoundException') throw err;
      try {
        await sm.send(
          new CreateSecretCommand({
            Name: target.name,
            ClientRequestToken: token,
            SecretString,
            Tags: tags,
            ...(target.kmsKeyId ? { KmsKeyId: target.kmsKeyId } : {}),
          }),
        );
        return { secretName: target.name, versionId: token };
      } catch (createErr) {
        // Another execution created it first: write our version on top.
        if (awsErrorName(createErr) !== 'ResourceExistsException') throw createErr;
        await put();
      }
    }
    await sm.send(new TagResourceCommand({ SecretId: target.name, Tags: tags }));
  } catch (err) {
    if (awsErrorName(err) === 'ResourceExistsException') {
      throw new PublishFailed(`${where}: version ${token} exists with other content`, [where], { cause: err });
    }
    throw asAwsError(err, `Copying ${issued.certificateName} to ${where}`);
  }
  return { secretName: target.name, versionId: token };
}

async function makeCurrent(sm: SecretsManagerClient, secretId: string, versionId: string): Promise<void> {
  const stages = (await sm.send(new DescribeSecretCommand({ SecretId: secretId }))).VersionIdsToStages ?? {};
  if (stages[versionId]?.includes('AWSCURRENT')) return;
  const currentId = Object.keys(stages).find((id) => stages[id]?.includes('AWSCURRENT'));
  await sm.send(
    new UpdateSecretVersionStageCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT', MoveToVersionId: versionId, ...(currentId ? { RemoveFromVersionId: currentId } : {}) }),
  );
}
