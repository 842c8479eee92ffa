// The local Secrets Manager through the real @aws-sdk/client-secrets-manager:
// versions and staging labels, request-token idempotency, filters and
// pagination, deletion, resource policies, account and region isolation, and
// persistence across a restart.
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidParameterException,
  ListSecretVersionIdsCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretVersionStageCommand,
  paginateListSecrets,
  type Filter,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalAws, type LocalAws } from '../../local/aws/server.js';

const ACCOUNT = '000000000000';
const OTHER_ACCOUNT = '111111111111';
const TOKEN_1 = 'aaaaaaaa-0000-4000-8000-000000000001';
const TOKEN_2 = 'aaaaaaaa-0000-4000-8000-000000000002';
const TOKEN_3 = 'aaaaaaaa-0000-4000-8000-000000000003';

const dataDir = fs.mkdtempSync(os.tmpdir() + '/certpipe-');
let server: LocalAws;

function client(accountId = ACCOUNT, region = 'us-east-1'): SecretsManagerClient {
  return new SecretsManagerClient({
    endpoint: server.url,
    region,
    credentials: { accessKeyId: accountId, secretAccessKey: 'test' },
    maxAttempts: 1,
  });
}

async function stagesOf(sm: SecretsManagerClient, secretId: string): Promise<Record<string, string[]>> {
  const described = await sm.send(new DescribeSecretCommand({ SecretId: secretId }));
  return described.VersionIdsToStages ?? {};
}

async function names(sm: SecretsManagerClient, filters: Filter[]): Promise<string[]> {
  const found: string[] = [];
  for await (const page of paginateListSecrets({ client: sm }, { Filters: filters })) {
    found.push(...(page.SecretList ?? []).map((s) => s.Name!));
  }
  return found;
}

beforeAll(async () => {
  server = await startLocalAws({ port: 0, dataDir });
});

afterAll(async () => {
  await server?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('CreateSecret, GetSecretValue and DescribeSecret', () => {
  it('creates a string secret whose first version is AWSCURRENT', async () => {
    const sm = client();
    const created = await sm.send(
      new CreateSecretCommand({
        Name: 'certpipe/example',
        SecretString: '{"cert":"PEM"}',
        Description: 'Example certificate',
        Tags: [{ Key: 'certpipe:not-after', Value: '2030-01-01T00:00:00Z' }],
        ClientRequestToken: TOKEN_1,
      }),
    );
    expect(created.ARN).toMatch(/^arn:aws:secretsmanager:us-east-1:000000000000:secret:certpipe\/example-[A-Za-z0-9]{6}$/);
    expect(created.VersionId).toBe(TOKEN_1);

    const value = await sm.send(new GetSecretValueCommand({ SecretId: 'certpipe/example' }));
    expect(value).toMatchObject({ Name: 'certpipe/example', ARN: created.ARN, SecretString: '{"cert":"PEM"}', VersionId: TOKEN_1 });
    expect(value.VersionStages).toEqual(['AWSCURRENT']);
    expect(value.CreatedDate).toBeInstanceOf(Date);

    const described = await sm.send(new DescribeSecretCommand({ SecretId: created.ARN }));
    expect(described).toMatchObject({
      ARN: created.ARN,
      Name: 'certpipe/example',
      Description: 'Example certificate',
      Tags: [{ Key: 'certpipe:not-after', Value: '2030-01-01T00:00:00Z' }],
      VersionIdsToStages: { [TOKEN_1]: ['AWSCURRENT'] },
    });
    expect(described.CreatedDate).toBeInstanceOf(Date);
    expect(described.LastChangedDate).toBeInstanceOf(Date);
    expect(described.LastAccessedDate).toBeInstanceOf(Date);
  });

  it('stores binary secrets byte for byte', async () => {
    const sm = client();
    const bytes = Uint8Array.from([0, 1, 2, 253, 254, 255]);
    await sm.send(new CreateSecretCommand({ Name: 'binary', SecretBinary: bytes }));
    const value = await sm.send(new GetSecretValueCommand({ SecretId: 'binary' }));
    expect(value.SecretString).toBeUndefined();
    expect(Array.from(value.SecretBinary!)).toEqual(Array.from(bytes));
  });

  it('finds a secret by name, full ARN and partial ARN', async () => {
    const sm = client();
    const { ARN } = await sm.send(new CreateSecretCommand({ Name: 'by-arn', SecretString: 'x' }));
    const partial = ARN!.replace(/-[A-Za-z0-9]{6}$/, '');
    for (const id of ['by-arn', ARN!, partial]) {
      expect((await sm.send(new GetSecretValueCommand({ SecretId: id }))).ARN).toBe(ARN);
    }
  });

  it('answers with the SDK exception classes and AWS messages', async () => {
    const sm = client();
    await expect(sm.send(new GetSecretValueCommand({ SecretId: 'nope' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(sm.send(new GetSecretValueCommand({ SecretId: 'nope' }))).rejects.toThrow(
      "Secrets Manager can't find the specified secret.",
    );
    await expect(sm.send(new CreateSecretCommand({ Name: 'certpipe/example', SecretString: 'again' }))).rejects.toBeInstanceOf(
      ResourceExistsException,
    );
    await expect(sm.send(new CreateSecretCommand({ Name: 'bad name!#', SecretString: 'x' }))).rejects.toBeInstanceOf(
      InvalidParameterException,
    );
    await expect(
      sm.send(new CreateSecretCommand({ Name: 'both', SecretString: 'x', SecretBinary: Uint8Array.from([1]) })),
    ).rejects.toBeInstanceOf(InvalidParameterException);

    await sm.send(new CreateSecretCommand({ Name: 'empty' }));
    await expect(sm.send(new GetSecretValueCommand({ SecretId: 'empty' }))).rejects.toThrow(
      "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
    );
    await expect(sm.send(new GetSecretValueCommand({ SecretId: 'certpipe/example', VersionStage: 'AWSPENDING' }))).rejects.toThrow(
      'staging label: AWSPENDING',
    );
  });
});

describe('errors never echo a secret value', () => {
  // AWS leaves the value of a sensitive member out of its validation messages; so does the local endpoint.
  const KEY_PEM = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const KEY_BODY = KEY_PEM.split('\n')[1]!;

  async function errorText(send: () => Promise<unknown>): Promise<string> {
    try {
      await send();
    } catch (err) {
      return `${(err as Error).name}: ${(err as Error).message} ${JSON.stringify(err)}`;
    }
    throw new Error('expected the call to fail');
  }

  async function rawCall(target: string, body: string): Promise<string> {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': `secretsmanager.${target}`,
        authorization: `AWS4-HMAC-SHA256 Credential=${ACCOUNT}/20250101/us-east-1/secretsmanager/aws4_request, Signature=x`,
      },
      body,
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    return res.text();
  }

  it('not in validation, conflict or parse errors', async () => {
    const sm = client();
    await sm.send(new CreateSecretCommand({ Name: 'no-echo', SecretString: 'first' }));
    const tooLong = `${KEY_PEM}${'x'.repeat(65_537 - KEY_PEM.length)}`;
    const texts = [
      await errorText(() => sm.send(new PutSecretValueCommand({ SecretId: 'no-echo', SecretString: tooLong }))),
      await errorText(() => sm.send(new CreateSecretCommand({ Name: 'no-echo-2', SecretString: tooLong }))),
      await errorText(() => sm.send(new CreateSecretCommand({ Name: 'no-echo-3', SecretString: KEY_PEM, SecretBinary: Buffer.from(KEY_PEM) }))),
      await errorText(() => sm.send(new PutSecretValueCommand({ SecretId: 'no-such-secret', SecretString: KEY_PEM }))),
      await rawCall('PutSecretValue', JSON.stringify({ SecretId: 'no-echo', SecretString: [KEY_PEM] })),
      await rawCall('PutSecretValue', JSON.stringify({ SecretId: 'no-echo', SecretString: { pem: KEY_PEM } })),
      await rawCall('CreateSecret', JSON.stringify({ Name: 'no-echo-4', SecretBinary: [KEY_PEM] })),
      await rawCall('PutSecretValue', `{"SecretId":"no-echo","SecretString":${JSON.stringify(KEY_PEM)},`),
    ];
    for (const text of texts) {
      expect(text).not.toContain('PRIVATE KEY');
      expect(text).not.toContain(KEY_BODY);
    }
    expect(texts[0]).toContain("at 'secretString' failed to satisfy constraint");
  });
});

describe('PutSecretValue and staging labels', () => {
  it('moves AWSCURRENT to the new version and labels the old one AWSPREVIOUS', async () => {
    const sm = client();
    await sm.send(new CreateSecretCommand({ Name: 'rotating', SecretString: 'v1', ClientRequestToken: TOKEN_1 }));
    const put = await sm.send(new PutSecretValueCommand({ SecretId: 'rotating', SecretString: 'v2', ClientRequestToken: TOKEN_2 }));
    expect(put).toMatchObject({ VersionId: TOKEN_2, VersionStages: ['AWSCURRENT'], Name: 'rotating' });
    expect(await stagesOf(sm, 'rotating')).toEqual({ [TOKEN_1]: ['AWSPREVIOUS'], [TOKEN_2]: ['AWSCURRENT'] });

    await sm.send(new PutSecretValueCommand({ SecretId: 'rotating', SecretString: 'v3', ClientRequestToken: TOKEN_3 }));
    // The oldest version has no label left, so it is deprecated and no longer listed.
    expect(await stagesOf(sm, 'rotating')).toEqual({ [TOKEN_2]: ['AWSPREVIOUS'], [TOKEN_3]: ['AWSCURRENT'] });
    const previous = await sm.send(new GetSecretValueCommand({ SecretId: 'rotating', VersionStage: 'AWSPREVIOUS' }));
    expect(previous.SecretString).toBe('v2');
    const old = await sm.send(new GetSecretValueCommand({ SecretId: 'rotating', VersionId: TOKEN_1 }));
    expect(old).toMatchObject({ SecretString: 'v1', VersionStages: [] });
  });

  it('attaches AWSCURRENT to the first version of a secret created empty, whatever VersionStages says (as AWS does)', async () => {
    const sm = client();
    await sm.send(new CreateSecretCommand({ Name: 'empty-first' }));
    const put = await sm.send(
      new PutSecretValueCommand({ SecretId: 'empty-first', SecretString: 'v1', ClientRequestToken: TOKEN_1, VersionStages: ['AWSPENDING'] }),
    );
    expect(put.VersionStages).toEqual(['AWSPENDING', 'AWSCURRENT']);
    expect(await stagesOf(sm, 'empty-first')).toEqual({ [TOKEN_1]: ['AWSPENDING', 'AWSCURRENT'] });
    // Only the first: a second version gets exactly the labels asked for.
    await sm.send(new PutSecretValueCommand({ SecretId: 'empty-first', SecretString: 'v2', ClientRequestToken: TOKEN_2, VersionStages: ['AWSPENDING'] }));
    expect(await stagesOf(sm, 'empty-first')).toEqual({ [TOKEN_1]: ['AWSCURRENT'], [TOKEN_2]: ['AWSPENDING'] });
  });

  it('is idempotent on ClientRequestToken: same data is a no-op, other data fails', async () => {
    const sm = client();
    await sm.send(new CreateSecretCommand({ Name: 'idempotent', SecretString: 'v1', ClientRequestToken: TOKEN_1 }));
    const first = await sm.send(new PutSecretValueCommand({ SecretId: 'idempotent', SecretString: 'v2', ClientRequestToken: TOKEN_2 }));
    const again = await sm.send(new PutSecretValueCommand({ SecretId: 'idempotent', SecretString: 'v2', ClientRequestToken: TOKEN_2 }));
    expect(again.VersionId).toBe(first.VersionId);
    expect(await stagesOf(sm, 'idempotent')).toEqual({ [TOKEN_1]: ['AWSPREVIOUS'], [TOKEN_2]: ['AWSCURRENT'] });

    const conflicting = sm.send(new PutSecretValueCommand({ SecretId: 'idempotent', SecretString: 'other', ClientRequestToken: TOKEN_2 }));
    await expect(conflicting).rejects.toBeInstanceOf(ResourceExistsException);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'idempotent' }))).SecretString).toBe('v2');

    // An SDK retry of a CreateSecret that already succeeded is answered, not refused.
    const retried = await sm.send(new CreateSecretCommand({ Name: 'idempotent', SecretString: 'v1', ClientRequestToken: TOKEN_1 }));
    expect(retried.VersionId).toBe(TOKEN_1);
  });

  it('promotes a pending version with UpdateSecretVersionStage as a rotation does', async () => {
    const sm = client();
    await sm.send(new CreateSecretCommand({ Name: 'promote', SecretString: 'old', ClientRequestToken: TOKEN_1 }));
    await sm.send(
      new PutSecretValueCommand({ SecretId: 'promote', SecretString: 'new', ClientRequestToken: TOKEN_2, VersionStages: ['AWSPENDING'] }),
    );
    expect(await stagesOf(sm, 'promote')).toEqual({ [TOKEN_1]: ['AWSCURRENT'], [TOKEN_2]: ['AWSPENDING'] });

    // AWSCURRENT is attached elsewhere, so AWS insists on naming the version it leaves.
    await expect(
      sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'promote', VersionStage: 'AWSCURRENT', MoveToVersionId: TOKEN_2 })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(
      sm.send(
        new UpdateSecretVersionStageCommand({
          SecretId: 'promote',
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: TOKEN_2,
          RemoveFromVersionId: TOKEN_2,
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidParameterException);

    await sm.send(
      new UpdateSecretVersionStageCommand({
        SecretId: 'promote',
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: TOKEN_2,
        RemoveFromVersionId: TOKEN_1,
      }),
    );
    expect(await stagesOf(sm, 'promote')).toEqual({ [TOKEN_1]: ['AWSPREVIOUS'], [TOKEN_2]: ['AWSPENDING', 'AWSCURRENT'] });

    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'promote', VersionStage: 'AWSPENDING', RemoveFromVersionId: TOKEN_2 }));
    expect(await stagesOf(sm, 'promote')).toEqual({ [TOKEN_1]: ['AWSPREVIOUS'], [TOKEN_2]: ['AWSCURRENT'] });

    await expect(
      sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'promote', VersionStage: 'AWSCURRENT', RemoveFromVersionId: TOKEN_2 })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(
      sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'promote', VersionStage: 'AWSCURRENT', MoveToVersionId: TOKEN_3 })),
    ).rejects.toBeInstanceOf(InvalidParameterException);

    // Rolling back moves AWSCURRENT to the previous version, which loses AWSPREVIOUS.
    await sm.send(
      new UpdateSecretVersionStageCommand({
        SecretId: 'promote',
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: TOKEN_1,
        RemoveFromVersionId: TOKEN_2,
      }),
    );
    expect(await stagesOf(sm, 'promote')).toEqual({ [TOKEN_1]: ['AWSCURRENT'], [TOKEN_2]: ['AWSPREVIOUS'] });
  });

  it('reads a version by VersionId and checks a VersionStage given with it', async () => {
    const sm = client();
    await sm.send(new CreateSecretCommand({ Name: 'by-version', SecretString: 'one', ClientRequestToken: TOKEN_1 }));
    const byId = await sm.send(new GetSecretValueCommand({ SecretId: 'by-version', VersionId: TOKEN_1, VersionStage: 'AWSCURRENT' }));
    expect(byId.SecretString).toBe('one');
    await expect(sm.send(new GetSecretValueCommand({ SecretId: 'by-version', VersionId: TOKEN_2 }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
    await expect(
      sm.send(new GetSecretValueCommand({ SecretId: 'by-version', VersionId: TOKEN_1, VersionStage: 'AWSPENDING' })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('loses no version when many writers put values at once', async () => {
    const sm = client();
    await sm.send(new CreateSecretCommand({ Name: 'contended', SecretString: 'v0' }));
    const puts = await Promise.all(
      Array.from({ length: 20 }, (_, i) => sm.send(new PutSecretValueCommand({ SecretId: 'contended', SecretString: `v${i + 1}` }))),
    );
    const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'contended', IncludeDeprecated: true }));
    expect(versions.Versions).toHaveLength(21);
    for (const put of puts) expect(versions.Versions!.map((v) => v.VersionId)).toContain(put.VersionId);
    const stages = Object.values(await stagesOf(sm, 'contended')).flat();
    expect(stages.filter((s) => s === 'AWSCURRENT')).toHaveLength(1);
    expect(stages.filter((s) => s === 'AWSPREVIOUS')).toHaveLength(1);
  });
});

describe('ListSecretVersionIds', () => {
  it('lists labelled versions newest first, deprecated ones on request, with pagination', async () => {
    const sm = client();
    await sm.send(new CreateSecretCommand({ Name: 'versions', SecretString: 'v1', ClientRequestToken: TOKEN_1 }));
    await sm.send(new PutSecretValueCommand({ SecretId: 'versions', SecretString: 'v2', ClientRequestToken: TOKEN_2 }));
    await sm.send(new PutSecretValueCommand({ SecretId: 'versions', SecretString: 'v3', ClientRequestToken: TOKEN_3 }));

    const labelled = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'versions' }));
    expect(labelled.Versions!.map((v) => [v.VersionId, v.VersionStages])).toEqual([
      [TOKEN_3, ['AWSCURRENT']],
      [TOKEN_2, ['AWSPREVIOUS']],
    ]);
    expect(labelled.Versions![0]!.CreatedDate).toBeInstanceOf(Date);

    const page1 = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'versions', IncludeDeprecated: true, MaxResults: 2 }));
    expect(page1.Versions!.map((v) => v.VersionId)).toEqual([TOKEN_3, TOKEN_2]);
    expect(page1.NextToken).toBeTruthy();
    const page2 = await sm.send(
      new ListSecretVersionIdsCommand({ SecretId: 'versions', IncludeDeprecated: true, MaxResults: 2, NextToken: page1.NextToken }),
    );
    expect(page2.Versions!.map((v) => v.VersionId)).toEqual([TOKEN_1]);
    expect(page2.NextToken).toBeUndefined();
  });
});

describe('tags', () => {
  it('adds, replaces and removes tags', async () => {
    const sm = client();
    await sm.send(new CreateSecretCommand({ Name: 'tagged', SecretString: 'x', Tags: [{ Key: 'a', Value: '1' }] }));
    await sm.send(new TagResourceCommand({ SecretId: 'tagged', Tags: [{ Key: 'a', Value: '2' }, { Key: 'b', Value: '3' }] }));
    expect((await sm.send(new DescribeSecretCommand({ SecretId: 'tagged' }))).Tags).toEqual([
      { Key: 'a', Value: '2' },
      { Key: 'b', Value: '3' },
    ]);
    await sm.send(new UntagResourceCommand({ SecretId: 'tagged', TagKeys: ['a'] }));
    expect((await sm.send(new DescribeSecretCommand({ SecretId: 'tagged' }))).Tags).toEqual([{ Key: 'b', Value: '3' }]);
    await expect(sm.send(new TagResourceCommand({ SecretId: 'nope', Tags: [{ Key: 'a', Value: '1' }] }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });
});

describe('ListSecrets', () => {
  const sm = () => client(ACCOUNT, 'eu-west-1');

  beforeAll(async () => {
    const writes = Array.from({ length: 250 }, (_, i) => {
      const n = String(i).padStart(3, '0');
      return sm().send(
        new CreateSecretCommand({
          Name: `${i % 2 === 0 ? 'certpipe' : 'other'}/cert-${n}`,
          SecretString: 'x',
          Description: i % 5 === 0 ? `Wildcard certificate ${n}` : undefined,
          Tags: [
            { Key: 'certpipe:issuer', Value: i % 3 === 0 ? 'letsencrypt' : 'pebble' },
            ...(i % 10 === 0 ? [{ Key: 'Team', Value: 'PaymentsGateway' }] : []),
          ],
        }),
      );
    });
    await Promise.all(writes);
  });

  it('pages through 250 secrets, 100 at a time, each once, with Tags in every entry', async () => {
    const first = await sm().send(new ListSecretsCommand({}));
    expect(first.SecretList).toHaveLength(100);
    expect(first.SecretList![0]!.Tags!.some((t) => t.Key === 'certpipe:issuer')).toBe(true);
    expect(first.SecretList![0]!.SecretVersionsToStages).toBeDefined();

    const seen: string[] = [];
    let pages = 0;
    for await (const page of paginateListSecrets({ client: sm(), pageSize: 100 }, {})) {
      pages += 1;
      expect(page.SecretList!.length).toBeLessThanOrEqual(100);
      seen.push(...page.SecretList!.map((s) => s.Name!));
    }
    expect(pages).toBe(3);
    expect(seen).toHaveLength(250);
    expect(new Set(seen).size).toBe(250);
  });

  it('filters by name prefix, tag key, tag value, description and all, with negation', async () => {
    expect(await names(sm(), [{ Key: 'name', Values: ['certpipe/'] }])).toHaveLength(125);
    expect(await names(sm(), [{ Key: 'name', Values: ['certpipe/cert-00', 'other/cert-01'] }])).toEqual([
      'certpipe/cert-000',
      'certpipe/cert-002',
      'certpipe/cert-004',
      'certpipe/cert-006',
      'certpipe/cert-008',
      'other/cert-011',
      'other/cert-013',
      'other/cert-015',
      'other/cert-017',
      'other/cert-019',
    ]);
    // Name prefixes are case-sensitive.
    expect(await names(sm(), [{ Key: 'name', Values: ['Certpipe/'] }])).toEqual([]);
    expect(await names(sm(), [{ Key: 'name', Values: ['!certpipe/'] }])).toHaveLength(125);

    expect(await names(sm(), [{ Key: 'tag-key', Values: ['Team'] }])).toHaveLength(25);
    expect(await names(sm(), [{ Key: 'tag-value', Values: ['letsen'] }])).toHaveLength(84);
    // Filters combine with AND.
    expect(
      await names(sm(), [
        { Key: 'tag-value', Values: ['letsencrypt'] },
        { Key: 'name', Values: ['certpipe/'] },
      ]),
    ).toHaveLength(42);

    // Descriptions match word prefixes regardless of case.
    expect(await names(sm(), [{ Key: 'description', Values: ['wildcard'] }])).toHaveLength(50);
    expect(await names(sm(), [{ Key: 'description', Values: ['CERTIFICATE'] }])).toHaveLength(50);

    // `all` splits camelCase and matches any attribute, without regard to case.
    expect(await names(sm(), [{ Key: 'all', Values: ['gateway'] }])).toHaveLength(25);
  });

  it('refuses an unknown filter key and out-of-range MaxResults', async () => {
    await expect(sm().send(new ListSecretsCommand({ Filters: [{ Key: 'colour' as never, Values: ['x'] }] }))).rejects.toBeInstanceOf(
      SecretsManagerServiceException,
    );
    await expect(sm().send(new ListSecretsCommand({ MaxResults: 101 }))).rejects.toBeInstanceOf(SecretsManagerServiceException);
  });
});

describe('accounts', () => {
  it('keeps accounts and regions apart; another account is refused even by ARN (no secret has a resource policy)', async () => {
    const owner = client();
    const { ARN } = await owner.send(new CreateSecretCommand({ Name: 'shared', SecretString: 'owner-value' }));
    const other = client(OTHER_ACCOUNT);

    await expect(other.send(new GetSecretValueCommand({ SecretId: 'shared' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(client(ACCOUNT, 'us-west-2').send(new GetSecretValueCommand({ SecretId: 'shared' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
    // The same name in the other account is a different secret.
    await other.send(new CreateSecretCommand({ Name: 'shared', SecretString: 'other-value' }));
    expect((await other.send(new GetSecretValueCommand({ SecretId: 'shared' }))).SecretString).toBe('other-value');
    expect((await owner.send(new GetSecretValueCommand({ SecretId: 'shared' }))).SecretString).toBe('owner-value');

    const denied = other.send(new GetSecretValueCommand({ SecretId: ARN }));
    await expect(denied).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await expect(other.send(new GetSecretValueCommand({ SecretId: ARN }))).rejects.toThrow(
      `is not authorized to perform: secretsmanager:GetSecretValue on resource: ${ARN}`,
    );
    await expect(other.send(new PutSecretValueCommand({ SecretId: ARN, SecretString: 'hijack' }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
  });
});

describe('persistence', () => {
  it('reads everything back after the endpoint restarts on the same data directory', async () => {
    const sm = client(OTHER_ACCOUNT, 'ap-southeast-2');
    await sm.send(
      new CreateSecretCommand({ Name: 'durable', SecretString: 'v1', ClientRequestToken: TOKEN_1, Tags: [{ Key: 'k', Value: 'v' }] }),
    );
    await sm.send(new PutSecretValueCommand({ SecretId: 'durable', SecretString: 'v2', ClientRequestToken: TOKEN_2 }));

    await server.close();
    server = await startLocalAws({ port: 0, dataDir });

    const reopened = client(OTHER_ACCOUNT, 'ap-southeast-2');
    expect((await reopened.send(new GetSecretValueCommand({ SecretId: 'durable' }))).SecretString).toBe('v2');
    expect((await reopened.send(new GetSecretValueCommand({ SecretId: 'durable', VersionStage: 'AWSPREVIOUS' }))).SecretString).toBe('v1');
    const described = await reopened.send(new DescribeSecretCommand({ SecretId: 'durable' }));
    expect(described.Tags).toEqual([{ Key: 'k', Value: 'v' }]);
    expect(described.VersionIdsToStages).toEqual({ [TOKEN_1]: ['AWSPREVIOUS'], [TOKEN_2]: ['AWSCURRENT'] });
    expect(await names(client(ACCOUNT, 'eu-west-1'), [{ Key: 'name', Values: ['certpipe/'] }])).toHaveLength(125);
  });
});
