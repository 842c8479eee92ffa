// X.509 work for the pipeline: parse the public facts of a certificate, make
// keys and CSRs, and check what the CA returned before anyone publishes it.
// node:crypto does keys, signatures and chain links; @peculiar/x509 reads the
// structures node does not expose (dates as Date, SANs as a list) and builds CSRs.
import {
  X509Certificate as NodeCertificate,
  createPrivateKey,
  createPublicKey,
  generateKeyPair as generateKeyPairCb,
  webcrypto,
  type KeyObject,
} from 'node:crypto';
import { promisify } from 'node:util';
// @peculiar/x509 resolves its algorithms through tsyringe, which needs a Reflect polyfill loaded first.
import 'reflect-metadata';
import * as px509 from '@peculiar/x509';
import { CertificateVerificationFailed } from './workflow/errors.js';
import type { KeyAlgorithm } from './inventory.js';

const generateKeyPairAsync = promisify(generateKeyPairCb);
const crypto = webcrypto;


/** What anyone may know about a certificate: no key material. */
export interface CertificateFacts {
  subject: string;
  issuer: string;
  /** Lower-case hex, as the CA encoded it. */
  serial: string;
  notBefore: Date;
  notAfter: Date;
  /** dNSName SANs in certificate order. */
  dnsNames: string[];
  /** Undefined when the key is not one certpipe issues (e.g. Ed25519, RSA-1024). */
  keyAlgorithm?: KeyAlgorithm;
  /** SHA-256 of the DER, lower-case hex without separators. */
  fingerprintSha256: string;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** The certificates in a PEM bundle, in order, each normalised to LF line ends and a final newline. */
export function splitPemChain(pem: string): string[] {
  return (pem.match(PEM_CERTIFICATE) ?? []).map((block) => block.replace(/\r\n?/g, '\n') + '\n');
}

function readCertificate(pem: string, what: string): { node: NodeCertificate; peculiar: px509.X509Certificate } {
  const [first] = splitPemChain(pem);
  if (!first) throw new CertificateVerificationFailed(`${what} is not a PEM certificate`);
  try {
    return { node: new NodeCertificate(first), peculiar: new px509.X509Certificate(first) };
  } catch (error) {
    throw new CertificateVerificationFailed(`${what} could not be parsed as X.509`, { cause: error });
  }
}

/** Public facts of the first certificate in `pem`. */
export function parseCertificate(pem: string): CertificateFacts {
  const { node, peculiar } = readCertificate(pem, 'The certificate');
  return {
    subject: peculiar.subject,
    issuer: peculiar.issuer,
    serial: node.serialNumber.toLowerCase(),
    notBefore: peculiar.notBefore,
    notAfter: peculiar.notAfter,
    dnsNames: dnsNamesOf(peculiar),
    keyAlgorithm: keyAlgorithmOf(node.publicKey),
    fingerprintSha256: node.fingerprint256.replace(/:/g, '').toLowerCase(),
  };
}

function dnsNamesOf(cert: px509.X509Certificate): string[] {
  const san = cert.getExtension(px509.SubjectAlternativeNameExtension);
  return san ? san.names.items.filter((n) => n.type === 'dns').map((n) => n.value) : [];
}

/** The certpipe key algorithm of a public or private key, if it is one we issue. */
export function keyAlgorithmOf(key: KeyObject): KeyAlgorithm | undefined {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec') {
    if (details.namedCurve === 'prime256v1') return 'ecdsa-p256';
    if (details.namedCurve === 'secp384r1') return 'ecdsa-p384';
  }
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details.modulusLength;
    if (bits === 2048) return 'rsa-2048';
    if (bits === 3072) return 'rsa-3072';
    if (bits === 4096) return 'rsa-4096';
  }
  return undefined;
}

export interface GeneratedKey {
  /** PKCS#8 PEM: store it, never log it. */
  privateKeyPem: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** A new key pair; async so RSA-4096 does not block the event loop. */
export async function generateKeyPair(alg: KeyAlgorithm): Promise<GeneratedKey> {
  const { publicKey, privateKey } =
    alg === 'ecdsa-p256' || alg === 'ecdsa-p384'
      ? await generateKeyPairAsync('ec', { namedCurve: alg === 'ecdsa-p256' ? 'P-256' : 'P-384' })
      : await generateKeyPairAsync('rsa', { modulusLength: Number(alg.slice(4)) });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    privateKey,
    publicKey,
  };
}

/** WebCrypto parameters for a key: how to import it and how to sign with it. */
function webAlgorithms(alg: KeyAlgorithm): {
  importParams: webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams;
  sign: webcrypto.Algorithm | webcrypto.EcdsaParams;
} {
  switch (alg) {
    case 'ecdsa-p256':
      return { importParams: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } };
    case 'ecdsa-p384':
      return { importParams: { name: 'ECDSA', namedCurve: 'P-384' }, sign: { name: 'ECDSA', hash: 'SHA-384' } };
    default:
      return {
        importParams: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
        sign: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      };
  }
}

/** CSR for `dnsNames` (all as SANs; CN = the first name when it fits in 64 characters). */
export async function createCsr(privateKeyPem: string, dnsNames: string[]): Promise<{ der: Buffer; pem: string }> {
  if (dnsNames.length === 0) throw new Error('A CSR needs at least one DNS name');
  const privateKey = createPrivateKey(privateKeyPem);
  const alg = keyAlgorithmOf(privateKey);
  if (!alg) throw new Error(`Unsupported key for a CSR: ${privateKey.asymmetricKeyType ?? 'unknown'} key`);
  const { importParams, sign } = webAlgorithms(alg);
  const keys: webcrypto.CryptoKeyPair = {
    privateKey: await crypto.subtle.importKey(
      'pkcs8',
      privateKey.export({ type: 'pkcs8', format: 'der' }),
      importParams,
      false,
      ['sign'],
    ),
    publicKey: await crypto.subtle.importKey(
      'spki',
      createPublicKey(privateKey).export({ type: 'spki', format: 'der' }),
      importParams,
      true,
      ['verify'],
    ),
  };
  const first = dnsNames[0]!;
  const csr = await px509.Pkcs10CertificateRequestGenerator.create(
    {
      // RFC 5280 caps a CN at 64 characters; CAs take the names from the SANs anyway.
      name: first.length <= 64 ? [{ CN: [first] }] : [],
      keys,
      signingAlgorithm: sign,
      extensions: [new px509.SubjectAlternativeNameExtension(dnsNames.map((value) => ({ type: 'dns' as const, value })))],
    },
    crypto,
  );
  return { der: Buffer.from(csr.rawData), pem: csr.toString('pem') };
}

/** True when a certificate SAN covers the requested name (RFC 6125: a wildcard stands for exactly one label). */
export function nameCovers(san: string, requested: string): boolean {
  const s = san.toLowerCase().replace(/\.$/, '');
  const r = requested.toLowerCase().replace(/\.$/, '');
  if (s === r) return true;
  if (!s.startsWith('*.') || r.startsWith('*.')) return false;
  const dot = r.indexOf('.');
  return dot > 0 && r.slice(dot + 1) === s.slice(2);
}

export interface VerifyIssuedInput {
  certificatePem: string;
  /** What the CA sent after the leaf: intermediates in any order; extra or alternate certificates are ignored. */
  chainPem: string;
  privateKeyPem: string;
  dnsNames: string[];
  now: Date;
  /** Trust anchors (PEM): the chain must lead to one of them. Nothing is trusted by default. */
  trustedRoots: readonly string[];
  /** When given, the leaf's key must be of this algorithm (ACM re-import and CloudFront depend on it). */
  keyAlgorithm?: KeyAlgorithm;
  /** Used only in the error message. */
  certificateName?: string;
}

/** A verified certificate's facts and the chain that was verified (intermediates, leaf first order, no root). */
export interface VerifiedCertificate extends CertificateFacts {
  chainPem: string;
}

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
/** Intermediates between a leaf and its root; deeper paths are not what a public CA issues. */
const MAX_CHAIN_DEPTH = 8;

// Anchors are parsed once per process: the public store alone holds ~150 roots.
const anchorCache = new Map<string, NodeCertificate | null>();
function anchor(pem: string): NodeCertificate | null {
  let cert = anchorCache.get(pem);
  if (cert === undefined) {
    try {
      cert = new NodeCertificate(pem);
    } catch {
      cert = null;
    }
    anchorCache.set(pem, cert);
  }
  return cert;
}

/**
 * Check what the CA returned before it is stored as current: the key matches,
 * every requested name is covered, the leaf is a TLS server certificate and no
 * CA, it is valid now, and a path of valid certificates leads from it to one
 * of the trusted roots. Throws CertificateVerificationFailed listing every
 * problem found.
 */
export function verifyIssued(input: VerifyIssuedInput): VerifiedCertificate {
  const label = input.certificateName ? `Certificate "${input.certificateName}"` : 'The certificate';
  const leaf = readCertificate(input.certificatePem, `${label}'s PEM`);
  const problems: string[] = [];

  let privateKey: KeyObject | undefined;
  try {
    privateKey = createPrivateKey(input.privateKeyPem);
  } catch {
    // Never echo the input or the parser's message: either could quote key bytes.
    problems.push('the private key could not be read');
  }
  if (privateKey && !leaf.node.checkPrivateKey(privateKey)) {
    problems.push("the certificate's public key does not match the private key");
  }
  const algorithm = keyAlgorithmOf(leaf.node.publicKey);
  if (input.keyAlgorithm && algorithm !== input.keyAlgorithm) {
    problems.push(`its key is ${algorithm ?? 'of an unsupported type'}, not ${input.keyAlgorithm} as configured`);
  }

  const sans = dnsNamesOf(leaf.peculiar);
  const uncovered = input.dnsNames.filter((name) => !sans.some((san) => nameCovers(san, name)));
  if (uncovered.length) {
    problems.push(`the certificate does not cover ${uncovered.join(', ')} (its names: ${sans.join(', ') || 'none'})`);
  }
  problems.push(...leafUsageProblems(leaf.peculiar));
  problems.push(...validityProblems(leaf.peculiar, input.now, 'the certificate'));

  const leafFingerprint = leaf.node.fingerprint256;
  const candidates = splitPemChain(input.chainPem)
    .map((pem, i) => ({ pem, ...readCertificate(pem, `chain certificate ${i + 1}`) }))
    .filter((c) => c.node.fingerprint256 !== leafFingerprint);
  const anchors = input.trustedRoots.flatMap(splitPemChain).map(anchor).filter((a): a is NodeCertificate => a !== null);
  const isAnchor = (cert: NodeCertificate) => anchors.some((a) => a.fingerprint256 === cert.fingerprint256);

  // Build the path upwards from the leaf with whatever the CA sent, in any order.
  const path: typeof candidates = [];
  let current: { node: NodeCertificate; peculiar: px509.X509Certificate } = leaf;
  for (let depth = 0; ; depth++) {
    if (isAnchor(current.node) || anchors.some((a) => signedBy(current.node, a))) break;
    const parent = depth < MAX_CHAIN_DEPTH ? candidates.find((c) => !path.includes(c) && signedBy(current.node, c.node)) : undefined;
    if (!parent) {
      const namesake = candidates.find((c) => c.node !== current.node && c.peculiar.subject === current.peculiar.issuer);
      problems.push(
        namesake && !path.includes(namesake)
          ? `the chain does not link: "${current.peculiar.subject}" is not signed by "${namesake.peculiar.subject}"`
          : `the chain does not lead to a trusted root ("${current.peculiar.issuer}" is not trusted)`,
      );
      break;
    }
    path.push(parent);
    current = parent;
  }
  for (const c of path) problems.push(...validityProblems(c.peculiar, input.now, `chain certificate "${c.peculiar.subject}"`));

  if (problems.length) throw new CertificateVerificationFailed(`${label} failed verification: ${problems.join('; ')}`);
  return {
    ...parseCertificate(input.certificatePem),
    chainPem: path.filter((c) => !isAnchor(c.node)).map((c) => c.pem).join(''),
  };
}

/** A leaf must be for TLS servers and must not be able to sign other certificates. */
function leafUsageProblems(cert: px509.X509Certificate): string[] {
  const problems: string[] = [];
  const eku = cert.getExtension(px509.ExtendedKeyUsageExtension);
  if (!eku || !eku.usages.map(String).includes(SERVER_AUTH)) {
    problems.push('it is not for TLS servers (no serverAuth extended key usage)');
  }
  if (cert.getExtension(px509.BasicConstraintsExtension)?.ca) problems.push('it is a CA certificate, not a leaf');
  return problems;
}

function signedBy(child: NodeCertificate, parent: NodeCertificate): boolean {
  try {
    return child.checkIssued(parent) && child.verify(parent.publicKey);
  } catch {
    return false;
  }
}

function validityProblems(cert: px509.X509Certificate, now: Date, what: string): string[] {
  if (now.getTime() < cert.notBefore.getTime()) return [`${what} is not valid until ${cert.notBefore.toISOString()}`];
  if (now.getTime() > cert.notAfter.getTime()) return [`${what} expired at ${cert.notAfter.toISOString()}`];
  return [];
}

/** Why `pem` cannot serve as a trust anchor (not one PEM certificate, or not a CA), or undefined when it can. */
export function rootCertificateProblem(pem: string): string | undefined {
  const blocks = splitPemChain(pem);
  if (blocks.length !== 1) return blocks.length ? `holds ${blocks.length} certificates, not one` : 'is not a PEM certificate';
  try {
    const cert = new NodeCertificate(blocks[0]!);
    return cert.ca ? undefined : `"${cert.subject.split('\n').join(', ')}" is not a CA certificate`;
  } catch {
    return 'is not a readable X.509 certificate';
  }
}
