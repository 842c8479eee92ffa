// stepHandler is the last gate before Step Functions: what it returns or throws
// lands in the execution history, readable by anyone with GetExecutionHistory.
import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AwsTransient, PublishFailed } from '../../functions/lib/workflow/errors.js';
import { stepHandler } from '../../functions/lib/handler.js';

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const keyBody = pkcs8.split('\n')[1]!;

/** What the Lambda runtime would serialise of a thrown error. */
async function thrown(handler: (event: unknown) => Promise<unknown>): Promise<Error> {
  try {
    await handler({ name: 'web', reason: 'Forced' });
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
    const err = await thrown(stepHandler('PublishCertificate', () => Promise.reject(original)));
    expect(err.name).toBe(original.name);
    expect(err.message).toContain('[REDACTED]');
    for (const text of [err.message, err.stack ?? '', JSON.stringify(err)]) {
      expect(text).not.toContain('PRIVATE KEY');
      expect(text).not.toContain(keyBody.slice(0, 20));
    }
  });

  it('refuses to return an output holding key material, naming where it was (never the key)', async () => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = await thrown(stepHandler('PublishCertificate', () => ({ serial: '0a', notAfter: 'x', targets: [], leaked: { pem: pkcs8 } })));
    expect(err.name).toBe('KeyMaterialLeak');
    expect(err.message).toBe('PublishCertificate output contains private key material at $.leaked.pem');
  });

  it('refuses an output outside its state\'s contract, naming the field', async () => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = await thrown(stepHandler('PublishCertificate', () => ({ serial: '0a', targets: [] })));
    expect(err.name).toBe('StateOutputInvalid');
    expect(err.message).toMatch(/^PublishCertificate returned output outside its contract at notAfter: /);
  });

  it('refuses an input outside its state\'s contract as InvalidInput', async () => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = await stepHandler('PublishCertificate', () => ({}))({ name: 'web' }).catch((e: Error) => e);
    expect(err).toMatchObject({ name: 'InvalidInput', message: expect.stringMatching(/^PublishCertificate received invalid input at reason/) });
  });

  it('returns a clean output unchanged', async () => {
    const published = { serial: '0a', notAfter: '2027-01-01T00:00:00.000Z', targets: ['secretsmanager:000000000000:us-east-1:certpipe/web'] };
    const out = await stepHandler('PublishCertificate', () => published)({ name: 'web', reason: 'Forced' });
    expect(out).toBe(published);
  });
});
