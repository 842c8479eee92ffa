// stepHandler is the last gate before Step Functions: what it returns or throws
// lands in the execution history, readable by anyone with GetExecutionHistory.
import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as z from 'zod/mini';
import { AwsTransient, PublishFailed } from '../../functions/lib/errors.js';
import { stepHandler } from '../../functions/lib/handler.js';

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const keyBody = pkcs8.split('\n')[1]!;
const input = z.object({ name: z.string() });

/** What the Lambda runtime would serialise of a thrown error. */
async function thrown(handler: (event: unknown) => Promise<unknown>): Promise<Error> {
  try {
    await handler({ name: 'web' });
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the handler to throw');
}

afterEach(() => vi.restoreAllMocks());

describe('stepHandler', () => {
  it.each([
    ['a typed retryable error', () => new AwsTransient(`Secrets Manager said: ${pkcs8}`)],
    ['a typed error with a downstream message', () => new PublishFailed(`acm:eu-west-1 (ValidationException: ${pkcs8})`, ['acm:eu-west-1'])],
    ['an SDK error', () => Object.assign(new Error(`bad ${pkcs8}`), { name: 'ValidationException' })],
  ])('redacts %s and keeps its name for the ASL', async (_case, make) => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const original = make();
    const err = await thrown(stepHandler('PublishCertificate', input, () => Promise.reject(original)));
    expect(err.name).toBe(original.name);
    expect(err.message).toContain('[REDACTED]');
    for (const text of [err.message, err.stack ?? '', JSON.stringify(err)]) {
      expect(text).not.toContain('PRIVATE KEY');
      expect(text).not.toContain(keyBody.slice(0, 20));
    }
  });

  it('refuses to return an output holding key material, naming where it was (never the key)', async () => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = await thrown(stepHandler('PlaceChallenges', input, () => ({ name: 'web', leaked: { pem: pkcs8 } })));
    expect(err.name).toBe('KeyMaterialLeak');
    expect(err.message).toBe('PlaceChallenges output contains private key material at $.leaked.pem');
  });

  it('returns a clean output unchanged', async () => {
    const out = await stepHandler('Summarize', input, () => ({ renewed: 1 }))({ name: 'web' });
    expect(out).toEqual({ renewed: 1 });
  });
});
