// A throwaway PKI for tests: root and intermediate CAs and leaf certificates made at
// run time with @peculiar/x509 over node's WebCrypto. No key is ever written to disk
// or committed; each test run makes its own.
// @peculiar/x509 2.x resolves its services through tsyringe, which needs the Reflect
// metadata polyfill loaded first.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto);

export type KeySpec = 'ec-p256' | 'ec-p384' | 'ec-p521' | 'rsa-1024' | 'rsa-2048' | 'rsa-3072' | 'rsa-4096';

type KeyPair = webcrypto.CryptoKeyPair;

export interface Issued {
  readonly certificate: x509.X509Certificate;
  readonly certificatePem: string;
  /** PKCS#8 PEM; tests hand it to the API under test and nowhere else. */
  readonly privateKeyPem: string;
  readonly keys: KeyPair;
  readonly keySpec: KeySpec;
}

export interface CertificateOptions {
  /** Distinguished name, e.g. `CN=example.com, O=certpipe`. */
  readonly name?: string;
  readonly key?: KeySpec;
  /** Reuse an existing key pair instead of generating one (its spec must be given in `key`). */
  readonly keys?: KeyPair;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  /** Hex serial; random when absent. */
  readonly serialNumber?: string;
}

export interface LeafOptions extends CertificateOptions {
  readonly dnsNames: string[];
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function keyAlgorithm(spec: KeySpec): webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams {
  const [family, size] = spec.split('-') as ['ec' | 'rsa', string];
  if (family === 'rsa') {
    return { name: 'RSASSA-PKCS1-v1_5', modulusLength: Number(size), publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
  }
  return { name: 'ECDSA', namedCurve: `P-${size.slice(1)}` };
}

/** The signature algorithm a key of `spec` signs with. */
function signingAlgorithm(spec: KeySpec): webcrypto.Algorithm | webcrypto.EcdsaParams {
  if (spec.startsWith('rsa')) return { name: 'RSASSA-PKCS1-v1_5' };
  return { name: 'ECDSA', hash: spec === 'ec-p256' ? 'SHA-256' : 'SHA-384' };
}

export async function generateKeys(spec: KeySpec): Promise<KeyPair> {
  const usages: webcrypto.KeyUsage[] = ['sign', 'verify'];
  return (await webcrypto.subtle.generateKey(keyAlgorithm(spec), true, usages)) as KeyPair;
}

async function privateKeyPem(keys: KeyPair): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function finish(certificate: x509.X509Certificate, keys: KeyPair, keySpec: KeySpec): Promise<Issued> {
  return { certificate, certificatePem: certificate.toString('pem'), privateKeyPem: await privateKeyPem(keys), keys, keySpec };
}

function validity(opts: CertificateOptions) {
  return {
    notBefore: opts.notBefore ?? new Date(Date.now() - HOUR),
    notAfter: opts.notAfter ?? new Date(Date.now() + 90 * DAY),
  };
}

const caUsages = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature;

export async function createRootCa(opts: CertificateOptions = {}): Promise<Issued> {
  const keySpec = opts.key ?? 'ec-p256';
  const keys = opts.keys ?? (await generateKeys(keySpec));
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    name: opts.name ?? 'CN=certpipe test root, O=certpipe tests',
    keys: keys,
    signingAlgorithm: signingAlgorithm(keySpec),
    ...validity({ notAfter: new Date(Date.now() + 3650 * DAY), ...opts }),
    ...(opts.serialNumber ? { serialNumber: opts.serialNumber } : {}),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(caUsages, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return finish(certificate, keys, keySpec);
}

async function issue(issuer: Issued, opts: CertificateOptions, extensions: x509.Extension[], defaultName: string): Promise<Issued> {
  const keySpec = opts.key ?? 'ec-p256';
  const keys = opts.keys ?? (await generateKeys(keySpec));
  const certificate = await x509.X509CertificateGenerator.create({
    subject: opts.name ?? defaultName,
    issuer: issuer.certificate.subject,
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: signingAlgorithm(issuer.keySpec),
    ...validity(opts),
    ...(opts.serialNumber ? { serialNumber: opts.serialNumber } : {}),
    extensions: [
      ...extensions,
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey),
    ],
  });
  return finish(certificate, keys, keySpec);
}

export async function createIntermediateCa(issuer: Issued, opts: CertificateOptions = {}): Promise<Issued> {
  return issue(
    issuer,
    { notAfter: new Date(Date.now() + 1825 * DAY), ...opts },
    [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(caUsages, true)],
    'CN=certpipe test intermediate, O=certpipe tests',
  );
}

/** A TLS server certificate for `dnsNames` (the first is also the common name). */
export async function issueLeaf(issuer: Issued, opts: LeafOptions): Promise<Issued> {
  const rsa = (opts.key ?? 'ec-p256').startsWith('rsa');
  const usages = x509.KeyUsageFlags.digitalSignature | (rsa ? x509.KeyUsageFlags.keyEncipherment : 0);
  return issue(
    issuer,
    opts,
    [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(usages, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(opts.dnsNames.map((value) => ({ type: 'dns' as const, value }))),
    ],
    `CN=${opts.dnsNames[0] ?? 'certpipe test leaf'}`,
  );
}

/** Certificates as one PEM text, in the order given (for a chain: nearest issuer first). */
export function pemBundle(...certs: Issued[]): string {
  return certs.map((c) => c.certificatePem.trimEnd() + '\n').join('');
}

/** Root → intermediate → leaf, all with `key` (default ECDSA P-256). */
export async function createChain(dnsNames: string[], key: KeySpec = 'ec-p256', leaf: Partial<LeafOptions> = {}) {
  const root = await createRootCa({ key });
  const intermediate = await createIntermediateCa(root, { key });
  const issued = await issueLeaf(intermediate, { key, ...leaf, dnsNames });
  return { root, intermediate, leaf: issued, chainPem: pemBundle(intermediate, root) };
}
