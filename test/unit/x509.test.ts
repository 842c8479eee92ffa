import { createPublicKey, webcrypto } from 'node:crypto';
import 'reflect-metadata';
import * as px509 from '@peculiar/x509';
import { beforeAll, describe, expect, it } from 'vitest';
import { CertificateVerificationFailed } from '../../functions/lib/workflow/errors.js';
import { KEY_ALGORITHMS } from '../../functions/lib/inventory.js';
import { LETSENCRYPT_ROOTS } from '../../functions/lib/trust.js';
import {
  createCsr,
  generateKeyPair,
  keyAlgorithmOf,
  nameCovers,
  parseCertificate,
  splitPemChain,
  verifyIssued,
  type GeneratedKey,
  type VerifyIssuedInput,
} from '../../functions/lib/x509.js';

const crypto = webcrypto;
const ecdsa = { name: 'ECDSA', hash: 'SHA-256' };
const NOW = new Date('2025-02-01T00:00:00Z');
const CA_VALIDITY = { notBefore: new Date('2024-01-01T00:00:00Z'), notAfter: new Date('2030-01-01T00:00:00Z') };
const LEAF_VALIDITY = { notBefore: new Date('2025-01-01T00:00:00Z'), notAfter: new Date('2025-04-01T00:00:00Z') };

interface Ca {
  cert: px509.X509Certificate;
  keys: webcrypto.CryptoKeyPair;
}

async function newEcKeys(): Promise<webcrypto.CryptoKeyPair> {
  return crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
}

async function caExtensions(keys: webcrypto.CryptoKeyPair, pathLength?: number) {
  return [
    new px509.BasicConstraintsExtension(true, pathLength, true),
    new px509.KeyUsagesExtension(px509.KeyUsageFlags.keyCertSign | px509.KeyUsageFlags.cRLSign, true),
    await px509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
  ];
}

async function makeRoot(cn: string): Promise<Ca> {
  const keys = await newEcKeys();
  const cert = await px509.X509CertificateGenerator.createSelfSigned(
    { serialNumber: '01', name: `CN=${cn}`, ...CA_VALIDITY, keys, signingAlgorithm: ecdsa, extensions: await caExtensions(keys) },
    crypto,
  );
  return { cert, keys };
}

async function makeIntermediate(cn: string, parent: Ca): Promise<Ca> {
  const keys = await newEcKeys();
  const cert = await px509.X509CertificateGenerator.create(
    {
      serialNumber: '02',
      subject: `CN=${cn}`,
      issuer: parent.cert.subject,
      ...CA_VALIDITY,
      publicKey: keys.publicKey,
      signingKey: parent.keys.privateKey,
      signingAlgorithm: ecdsa,
      extensions: [
        ...(await caExtensions(keys, 0)),
        await px509.AuthorityKeyIdentifierExtension.create(parent.cert, false, crypto),
      ],
    },
    crypto,
  );
  return { cert, keys };
}

interface LeafShape {
  /** Extended key usages; default serverAuth. */
  eku?: string[];
  /** Mark the leaf as a CA (basicConstraints cA=true). */
  ca?: boolean;
}

async function issueLeaf(
  issuer: Ca,
  key: GeneratedKey,
  dnsNames: string[],
  validity: { notBefore: Date; notAfter: Date } = LEAF_VALIDITY,
  shape: LeafShape = {},
): Promise<string> {
  const spki = createPublicKey(key.privateKey).export({ type: 'spki', format: 'der' });
  const alg = keyAlgorithmOf(key.privateKey)!;
  const importParams = alg.startsWith('ecdsa')
    ? { name: 'ECDSA', namedCurve: alg === 'ecdsa-p256' ? 'P-256' : 'P-384' }
    : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const publicKey = await crypto.subtle.importKey('spki', spki, importParams, true, ['verify']);
  const cert = await px509.X509CertificateGenerator.create(
    {
      serialNumber: '00c0ffee',
      subject: `CN=${dnsNames[0]}`,
      issuer: issuer.cert.subject,
      ...validity,
      publicKey,
      signingKey: issuer.keys.privateKey,
      signingAlgorithm: ecdsa,
      extensions: [
        new px509.SubjectAlternativeNameExtension(dnsNames.map((value) => ({ type: 'dns' as const, value }))),
        new px509.BasicConstraintsExtension(shape.ca ?? false, undefined, true),
        ...((shape.eku ?? [px509.ExtendedKeyUsage.serverAuth]).length
          ? [new px509.ExtendedKeyUsageExtension(shape.eku ?? [px509.ExtendedKeyUsage.serverAuth])]
          : []),
        await px509.AuthorityKeyIdentifierExtension.create(issuer.cert, false, crypto),
      ],
    },
    crypto,
  );
  return cert.toString('pem') + '\n';
}

function csrSans(csr: px509.Pkcs10CertificateRequest): string[] {
  const san = csr.extensions.find((e) => e instanceof px509.SubjectAlternativeNameExtension);
  return san ? san.names.items.map((n) => n.value) : [];
}

const pem = (c: Ca) => c.cert.toString('pem') + '\n';

let root: Ca;
let intermediate: Ca;
let otherRoot: Ca;
let otherIntermediate: Ca;
let key: GeneratedKey;
let otherKey: GeneratedKey;
let leafPem: string;
const NAMES = ['example.test', '*.example.test', 'www.example.org.test'];

beforeAll(async () => {
  root = await makeRoot('certpipe test root');
  intermediate = await makeIntermediate('certpipe test intermediate', root);
  otherRoot = await makeRoot('someone else root');
  otherIntermediate = await makeIntermediate('certpipe test intermediate', otherRoot);
  key = await generateKeyPair('ecdsa-p256');
  otherKey = await generateKeyPair('ecdsa-p256');
  leafPem = await issueLeaf(intermediate, key, NAMES);
});

describe('splitPemChain', () => {
  it('returns each certificate, in order, with LF line ends', () => {
    const bundle = `junk before\r\n${pem(intermediate).replace(/\n/g, '\r\n')}between\n${pem(root)}`;
    const parts = splitPemChain(bundle);
    expect(parts).toHaveLength(2);
    expect(parts[0]).not.toContain('\r');
    expect(parts[0]!.endsWith('-----END CERTIFICATE-----\n')).toBe(true);
    expect(parseCertificate(parts[1]!).subject).toBe('CN=certpipe test root');
  });
  it('ignores private key blocks and returns nothing for no certificate', () => {
    expect(splitPemChain(key.privateKeyPem)).toEqual([]);
    expect(splitPemChain('')).toEqual([]);
  });
});

describe('generateKeyPair', () => {
  it.each(KEY_ALGORITHMS)('%s gives a PKCS#8 key of that algorithm', async (alg) => {
    const generated = await generateKeyPair(alg);
    expect(generated.privateKeyPem).toMatch(/^-{5}BEGIN PRIVATE KEY-{5}\n/);
    expect(keyAlgorithmOf(generated.privateKey)).toBe(alg);
    expect(keyAlgorithmOf(generated.publicKey)).toBe(alg);
  });
});

describe('createCsr', () => {
  it.each(['ecdsa-p256', 'ecdsa-p384', 'rsa-2048'] as const)('%s: signed CSR with every name as a SAN', async (alg) => {
    const k = alg === 'ecdsa-p256' ? key : await generateKeyPair(alg);
    const { der, pem: csrPem } = await createCsr(k.privateKeyPem, NAMES);
    const csr = new px509.Pkcs10CertificateRequest(der);
    expect(csrPem).toContain('-----BEGIN CERTIFICATE REQUEST-----');
    expect(await csr.verify(crypto)).toBe(true);
    expect(csr.subject).toBe('CN=example.test');
    expect(csrSans(csr)).toEqual(NAMES);
    // The CSR carries the public half of exactly this key.
    const csrSpki = Buffer.from(csr.publicKey.rawData);
    expect(csrSpki.equals(k.publicKey.export({ type: 'spki', format: 'der' }))).toBe(true);
  });
  it('leaves out the CN when the first name is longer than 64 characters', async () => {
    const long = `${'a'.repeat(60)}.example.test`;
    const csr = new px509.Pkcs10CertificateRequest((await createCsr(key.privateKeyPem, [long])).der);
    expect(csr.subject).toBe('');
    expect(csrSans(csr)).toEqual([long]);
  });
  it('accepts a SEC1 "EC PRIVATE KEY" PEM too', async () => {
    const sec1 = key.privateKey.export({ type: 'sec1', format: 'pem' }).toString();
    const csr = new px509.Pkcs10CertificateRequest((await createCsr(sec1, ['a.example.test'])).der);
    expect(await csr.verify(crypto)).toBe(true);
  });
});

describe('parseCertificate', () => {
  it('returns the public facts', () => {
    const facts = parseCertificate(leafPem + pem(intermediate));
    expect(facts).toMatchObject({
      subject: 'CN=example.test',
      issuer: 'CN=certpipe test intermediate',
      serial: 'c0ffee',
      notBefore: LEAF_VALIDITY.notBefore,
      notAfter: LEAF_VALIDITY.notAfter,
      dnsNames: NAMES,
      keyAlgorithm: 'ecdsa-p256',
    });
    expect(facts.fingerprintSha256).toMatch(/^[0-9a-f]{64}$/);
  });
  it('throws a typed error for something that is not a certificate', () => {
    expect(() => parseCertificate('hello')).toThrow(CertificateVerificationFailed);
  });
  it('writes a multi-attribute name on one line, in certificate order, with the exact dates', () => {
    const isrgRootX1 = parseCertificate(LETSENCRYPT_ROOTS[0]!);
    expect(isrgRootX1).toMatchObject({
      subject: 'C=US, O=Internet Security Research Group, CN=ISRG Root X1',
      issuer: 'C=US, O=Internet Security Research Group, CN=ISRG Root X1',
      notBefore: new Date('2015-06-04T11:04:38Z'),
      notAfter: new Date('2035-06-04T11:04:38Z'),
      dnsNames: [],
    });
  });
  it('reads a SAN that node quotes (a comma in the name) as the name itself', async () => {
    const odd = ['a,b.example.test', 'c.example.test'];
    expect(parseCertificate(await issueLeaf(intermediate, key, odd)).dnsNames).toEqual(odd);
  });
});

describe('nameCovers', () => {
  it.each([
    ['www.example.test', 'www.example.test', true],
    ['WWW.Example.Test.', 'www.example.test', true],
    ['*.example.test', 'www.example.test', true],
    ['*.example.test', '*.example.test', true],
    ['*.example.test', 'example.test', false],
    ['*.example.test', 'a.b.example.test', false],
    ['*.example.test', 'wwwexample.test', false],
    ['www.example.test', '*.example.test', false],
    ['*.b.example.test', '*.example.test', false],
  ])('%s covers %s: %s', (san, requested, expected) => {
    expect(nameCovers(san, requested)).toBe(expected);
  });
});

describe('verifyIssued', () => {
  const base = (): VerifyIssuedInput => ({
    certificatePem: leafPem,
    chainPem: pem(intermediate),
    privateKeyPem: key.privateKeyPem,
    dnsNames: NAMES,
    now: NOW,
    trustedRoots: [pem(root)],
    certificateName: 'web',
  });

  function failure(input: VerifyIssuedInput): string {
    try {
      verifyIssued(input);
    } catch (error) {
      expect(error).toBeInstanceOf(CertificateVerificationFailed);
      expect((error as Error).name).toBe('CertificateVerificationFailed');
      return (error as Error).message;
    }
    throw new Error('expected verification to fail');
  }

  it('accepts a good certificate and returns its facts', () => {
    expect(verifyIssued(base()).dnsNames).toEqual(NAMES);
  });
  it('accepts a chain that also contains the root, and a leaf at the head of the chain', () => {
    expect(() => verifyIssued({ ...base(), chainPem: leafPem + pem(intermediate) + pem(root) })).not.toThrow();
  });
  it('accepts extra certificates and a chain out of order: only a path to a trusted root counts', () => {
    const stray = pem(otherIntermediate) + pem(otherRoot);
    const facts = verifyIssued({ ...base(), chainPem: pem(root) + stray + pem(intermediate) });
    // What is stored is the path that was verified: the intermediate, nothing stray.
    expect(facts.chainPem).toBe(pem(intermediate));
  });
  it('accepts an alternate chain when one of several roots is trusted', () => {
    expect(() => verifyIssued({ ...base(), trustedRoots: [pem(otherRoot), pem(root)] })).not.toThrow();
  });
  it('rejects a chain that links but ends at a root nobody trusts (trust is never implied)', () => {
    expect(failure({ ...base(), trustedRoots: [] })).toMatch(/does not lead to a trusted root/);
  });
  it('rejects a leaf without the serverAuth extended key usage', async () => {
    const clientOnly = await issueLeaf(intermediate, key, NAMES, LEAF_VALIDITY, { eku: [px509.ExtendedKeyUsage.clientAuth] });
    expect(failure({ ...base(), certificatePem: clientOnly })).toMatch(/not for TLS servers \(no serverAuth extended key usage\)/);
    const none = await issueLeaf(intermediate, key, NAMES, LEAF_VALIDITY, { eku: [] });
    expect(failure({ ...base(), certificatePem: none })).toMatch(/no serverAuth extended key usage/);
  });
  it('rejects a leaf that is itself a CA', async () => {
    const caLeaf = await issueLeaf(intermediate, key, NAMES, LEAF_VALIDITY, { ca: true });
    expect(failure({ ...base(), certificatePem: caLeaf })).toMatch(/is a CA certificate/);
  });
  it('accepts a wildcard covering a requested host name', async () => {
    const wildcardOnly = await issueLeaf(intermediate, key, ['*.example.test']);
    expect(() =>
      verifyIssued({ ...base(), certificatePem: wildcardOnly, dnsNames: ['www.example.test', '*.example.test'] }),
    ).not.toThrow();
  });

  it('rejects a certificate for another key', () => {
    expect(failure({ ...base(), privateKeyPem: otherKey.privateKeyPem })).toMatch(
      /Certificate "web" failed verification: the certificate's public key does not match the private key/,
    );
  });
  it('rejects an unreadable key without quoting it', () => {
    const garbled = key.privateKeyPem.replace(/[A-Za-z]{8}/, 'AAAAAAAA');
    const message = failure({ ...base(), privateKeyPem: garbled });
    expect(message).toMatch(/the private key could not be read/);
    expect(message).not.toMatch(/PRIVATE KEY|AAAAAAAA/);
  });
  it('rejects a certificate that does not cover a requested name, naming it', () => {
    expect(failure({ ...base(), dnsNames: [...NAMES, 'a.b.example.test', 'api.example.org.test'] })).toMatch(
      /does not cover a\.b\.example\.test, api\.example\.org\.test \(its names: example\.test, \*\.example\.test, www\.example\.org\.test\)/,
    );
  });
  it('rejects a chain whose intermediate did not sign the leaf (same name, other CA)', () => {
    expect(failure({ ...base(), chainPem: pem(otherIntermediate) })).toMatch(
      /the chain does not link: "CN=example.test" is not signed by "CN=certpipe test intermediate"/,
    );
  });
  it('rejects a chain that leads to an untrusted root', () => {
    expect(failure({ ...base(), trustedRoots: [pem(otherRoot)] })).toMatch(/does not lead to a trusted root/);
  });
  it('rejects an empty chain when the leaf is not signed by a root itself', () => {
    expect(failure({ ...base(), chainPem: '' })).toMatch(/does not lead to a trusted root/);
  });
  it('rejects an expired certificate', () => {
    expect(failure({ ...base(), now: new Date('2025-05-01T00:00:00Z') })).toMatch(
      /the certificate expired at 2025-04-01T00:00:00.000Z/,
    );
  });
  it('rejects a certificate that is not valid yet', () => {
    expect(failure({ ...base(), now: new Date('2024-12-01T00:00:00Z') })).toMatch(
      /the certificate is not valid until 2025-01-01T00:00:00.000Z/,
    );
  });
  it('lists every problem at once and never includes key material', () => {
    const message = failure({
      ...base(),
      privateKeyPem: otherKey.privateKeyPem,
      dnsNames: ['nope.test'],
      chainPem: pem(otherIntermediate),
    });
    expect(message).toMatch(/does not match.*does not cover nope\.test.*does not link/);
    expect(message).not.toContain('PRIVATE KEY');
    const body = otherKey.privateKeyPem.split('\n')[1]!;
    expect(message).not.toContain(body.slice(0, 20));
  });
});
