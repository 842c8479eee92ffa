import { generateKeyPairSync } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  KeyMaterialLeak,
  REDACTED,
  assertNoKeyMaterial,
  findKeyMaterial,
  logger,
  publishMetrics,
  recordAcmeRequest,
  recordExpiry,
  recordRenewal,
  redact,
  redactText,
} from '../../functions/lib/observability.js';

// Keys are made at run time: nothing secret is committed.
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString().trim();
const sec1 = privateKey.export({ type: 'sec1', format: 'pem' }).toString();
const rsaPkcs1 = generateKeyPairSync('rsa', { modulusLength: 1024 })
  .privateKey.export({ type: 'pkcs1', format: 'pem' })
  .toString();
const jwk = privateKey.export({ format: 'jwk' });
const keyBody = pkcs8.split('\n')[1]!;

/** Everything written to stdout while `fn` runs, one entry per line. */
function captureStdout(fn: () => void): string[] {
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
    return true;
  });
  try {
    fn();
  } finally {
    spy.mockRestore();
  }
  return chunks.join('').split('\n').filter(Boolean);
}

describe('redactText', () => {
  it.each([
    ['PKCS#8', pkcs8],
    ['SEC1 EC', sec1],
    ['PKCS#1 RSA', rsaPkcs1],
    ['JSON-escaped', JSON.stringify(pkcs8).slice(1, -1)],
    ['cut off before END', pkcs8.slice(0, 80)],
  ])('removes a %s private key block', (_name, key) => {
    const out = redactText(`before ${key} after`);
    expect(out).toMatch(/^before \[REDACTED\]/);
    expect(out).not.toContain('PRIVATE KEY');
    expect(out).not.toContain(keyBody.slice(0, 16));
  });
  it.each([
    ['a PEM block under a label of its own', pkcs8.replace(/PRIVATE KEY/g, 'CERTPIPE SECRET')],
    ['an OpenSSH-style label', pkcs8.replace(/PRIVATE KEY/g, 'OPENSSH PRIVATE KEY')],
    ['PEM escaped twice (JSON inside JSON)', JSON.stringify(JSON.stringify(pkcs8)).slice(1, -1)],
    ['PEM with CRLF line ends', pkcs8.replace(/\n/g, '\r\n')],
    ['the base64 DER of a PKCS#8 key, one line', privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64')],
    ['the base64 DER of a SEC1 key', privateKey.export({ type: 'sec1', format: 'der' }).toString('base64')],
    ['the base64 DER of an RSA key', generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'der' }).toString('base64')],
    ['a PEM body without its armour', pkcs8.split('\n').slice(1, -2).join('\n')],
  ])('removes %s', (_name, key) => {
    const out = redactText(`before ${key} after`);
    expect(out).toContain('[REDACTED]');
    expect(out).toMatch(/^before /);
    expect(out).toMatch(/ after$/);
    const der = key.replace(/-----[^-]+-----|\\[rn]|\s/g, '');
    expect(out).not.toContain(der.slice(8, 40));
  });
  it('removes the private members of a JWK written as JSON text', () => {
    const out = redactText(`account key: ${JSON.stringify(jwk)}`);
    expect(out).not.toContain(String(jwk.d));
    expect(out).toContain(String(jwk.x)); // the public part stays readable
    expect(findKeyMaterial({ message: `key ${JSON.stringify(jwk)}` })).toBe('$.message');
  });
  it('finds key material in every form it redacts', () => {
    const der = privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64');
    expect(findKeyMaterial({ cause: `ValidationException: ${der}` })).toBe('$.cause');
    expect(findKeyMaterial({ cause: pkcs8.replace(/PRIVATE KEY/g, 'WHATEVER') })).toBe('$.cause');
  });
  it('keeps certificates, public keys, CSRs and long base64 that is no key', () => {
    const cert = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const spki = privateKey.export === undefined ? '' : generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const blob = Buffer.alloc(200, 7).toString('base64');
    const text = `${cert}${spki}-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n${blob} ok`;
    expect(redactText(text)).toBe(text);
  });
  it('keeps certificates and ordinary text', () => {
    const text = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\nok';
    expect(redactText(text)).toBe(text);
  });
});

describe('redact', () => {
  it('deep-copies, replacing keys in strings, sensitive fields and private JWK members', () => {
    const input = {
      name: 'web',
      secret: { certificate: 'CERT', privateKey: 'anything at all', privateKeyRotation: 'always' },
      list: [`key: ${pkcs8}`],
      account: { jwk, accountKey: Buffer.from('raw key bytes') },
      when: new Date(0),
    };
    const out = redact(input);
    expect(out.name).toBe('web');
    expect(out.secret).toEqual({ certificate: 'CERT', privateKey: REDACTED, privateKeyRotation: 'always' });
    expect(out.list[0]).toBe(`key: ${REDACTED}`);
    expect(out.account.jwk.d).toBe(REDACTED);
    expect(out.account.jwk.x).toBe(jwk.x);
    expect(out.account.accountKey).toBe(REDACTED);
    expect(out.when).toBe(input.when);
    expect(input.secret.privateKey).toBe('anything at all');
    expect(findKeyMaterial(out)).toBeUndefined();
  });
  it('redacts error messages', () => {
    const out = redact({ error: new Error(`bad key ${pkcs8}`) });
    expect(out.error.message).toBe(`bad key ${REDACTED}`);
    expect(out.error.stack).not.toContain(keyBody);
  });
});

describe('findKeyMaterial / assertNoKeyMaterial', () => {
  it('names where the key is, never the key', () => {
    const value = { output: { items: [{ ok: 1 }, { blob: Buffer.from(sec1) }] } };
    expect(findKeyMaterial(value)).toBe('$.output.items[1].blob');
    let message = '';
    try {
      assertNoKeyMaterial(value, 'PlaceChallenges output');
    } catch (error) {
      expect(error).toBeInstanceOf(KeyMaterialLeak);
      message = (error as Error).message;
    }
    expect(message).toBe('PlaceChallenges output contains private key material at $.output.items[1].blob');
  });
  it('finds a private JWK', () => {
    expect(findKeyMaterial({ accountKey: jwk })).toBe('$.accountKey');
    expect(findKeyMaterial({ publicJwk: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y } })).toBeUndefined();
  });
  it('passes public data', () => {
    expect(() => assertNoKeyMaterial({ name: 'web', arn: 'arn:aws:acm:…', serial: '0a' })).not.toThrow();
  });
});

describe('logger', () => {
  it('never prints a private key, whether in the message, a field or an error', () => {
    const lines = captureStdout(() => {
      logger.info(`stored ${pkcs8}`, { secret: { privateKey: pkcs8, certificate: 'CERT' }, jwk });
      logger.error('failed', new Error(`could not parse ${rsaPkcs1}`));
    });
    expect(lines.length).toBeGreaterThanOrEqual(1);
    const all = lines.join('\n');
    expect(all).not.toContain('PRIVATE KEY');
    expect(all).not.toContain(keyBody.slice(0, 16));
    expect(all).not.toContain(String(jwk.d));
    const first = JSON.parse(lines[0]!);
    expect(first).toMatchObject({ level: 'INFO', service: 'certpipe', message: `stored ${REDACTED}` });
    expect(first.secret).toEqual({ privateKey: REDACTED, certificate: 'CERT' });
  });
});

describe('metrics (EMF)', () => {
  let lines: string[];
  beforeEach(() => {
    lines = [];
  });
  afterEach(() => {
    for (const line of lines) expect(line).not.toContain('PRIVATE KEY');
  });

  const emf = (line: string) => JSON.parse(line) as Record<string, unknown> & {
    _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string }> }> };
  };

  it('emits DaysToExpiry and ExpirationTimestamp per certificate, with a Certificate dimension', () => {
    lines = captureStdout(() => {
      recordExpiry('web', new Date('2025-04-01T00:00:00Z'), new Date('2025-03-01T12:00:00Z'));
      recordExpiry('api', new Date('2025-03-01T00:00:00Z'), new Date('2025-03-02T00:00:00Z'));
    });
    expect(lines).toHaveLength(2);
    const web = emf(lines[0]!);
    const directive = web._aws.CloudWatchMetrics[0]!;
    expect(directive.Namespace).toBe('Certpipe');
    expect(directive.Dimensions[0]).toEqual(expect.arrayContaining(['service', 'Certificate']));
    expect(directive.Metrics.map((m) => m.Name).sort()).toEqual(['DaysToExpiry', 'ExpirationTimestamp']);
    expect(web).toMatchObject({ Certificate: 'web', service: 'certpipe', DaysToExpiry: 30.5, ExpirationTimestamp: 1743465600 });
    expect(emf(lines[1]!)).toMatchObject({ Certificate: 'api', DaysToExpiry: -1 });
  });

  it('emits renewal counts without a dimension and ACME requests by Status', () => {
    lines = captureStdout(() => {
      recordRenewal('succeeded', 3);
      recordRenewal('failed', 0);
      recordAcmeRequest(200);
      recordAcmeRequest(200);
      recordAcmeRequest(429);
      recordAcmeRequest('error');
      publishMetrics();
    });
    const records = lines.map(emf);
    const acme = records.filter((r) => 'AcmeRequests' in r);
    expect(acme.map((r) => [r.Status, r.AcmeRequests])).toEqual([
      ['200', 2],
      ['429', 1],
      ['error', 1],
    ]);
    const renewals = records.find((r) => 'RenewalsSucceeded' in r)!;
    expect(renewals).toMatchObject({ RenewalsSucceeded: 3, RenewalsFailed: 0, service: 'certpipe' });
    expect(renewals).not.toHaveProperty('Status');
    expect(renewals).not.toHaveProperty('Certificate');
  });

  it('publishes nothing when nothing was recorded', () => {
    lines = captureStdout(() => publishMetrics());
    expect(lines.filter((l) => l.includes('CloudWatchMetrics'))).toEqual([]);
  });
});
