// A malformed EAB secret must fail with a message that names the secret and the fix,
// never with a parser message that quotes part of the HMAC key into the execution history.
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AcmeSession } from '../../functions/lib/acme.js';
import type { Issuer } from '../../functions/lib/inventory.js';
import { findKeyMaterial } from '../../functions/lib/observability.js';
import { startTestCloud, type TestCloud } from '../support/cloud.js';

const HMAC = 'zK3p9QvL0wXa7mN2bR5tY8uI1oE4sD6fG0hJ2kL5zX8c';

let tc: TestCloud;
let sm: SecretsManagerClient;

beforeAll(async () => {
  tc = await startTestCloud();
  sm = new SecretsManagerClient(tc.sdkConfig());
});
afterAll(() => tc?.close());

const issuer = (secret: string): Issuer => ({
  name: `eab-${secret}`,
  directoryUrl: 'https://127.0.0.1:1/dir', // never reached: the EAB secret is read first
  eab: { keyId: 'kid-1', hmacKeySecretId: `certpipe/eab/${secret}` },
  accountSecretName: `certpipe/acme-account/eab-${secret}`,
});

describe('a malformed EAB secret', () => {
  it.each([
    ['JSON cut off after the key', `{"hmacKey": "${HMAC}`],
    ['JSON with the key unquoted', `{"hmacKey": ${HMAC}}`],
    ['JSON without hmacKey', `{"key": "${HMAC}"}`],
  ])('%s: InvalidInput naming the secret, no part of the key', async (name, text) => {
    const id = name.replace(/\W+/g, '-');
    await sm.send(new CreateSecretCommand({ Name: `certpipe/eab/${id}`, SecretString: text }));
    const error = await AcmeSession.open(issuer(id), sm).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.name).toBe('InvalidInput');
    expect(error?.message).toContain(`certpipe/eab/${id}`);
    for (let i = 0; i + 8 <= HMAC.length; i += 4) expect(error?.message).not.toContain(HMAC.slice(i, i + 8));
    expect(findKeyMaterial(error)).toBeUndefined();
  });
});
