// Checks what the CA returned before anyone publishes it, with node:crypto
// alone (X509Certificate: checkIssued, verify, checkPrivateKey, keyUsage, ca),
// so PublishCertificate re-verifies without bundling an X.509 library.
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { CertificateVerificationFailed } from '../workflow/errors.js';
import type { KeyAlgorithm } from '../inventory.js';
import { keyAlgorithmOf } from './keys.js';
import {
  distinguishedName,
  dnsNamesOf,
  factsOf,
  notAfter,
  notBefore,
  readCertificate,
  splitPemChain,
  type CertificateFacts,
} from './certificate.js';

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
const anchorCache = new Map<string, X509Certificate | null>();
function anchor(pem: string): X509Certificate | null {
  let cert = anchorCache.get(pem);
  if (cert === undefined) {
    try {
      cert = new X509Certificate(pem);
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
  if (privateKey && !leaf.checkPrivateKey(privateKey)) {
    problems.push("the certificate's public key does not match the private key");
  }
  const algorithm = keyAlgorithmOf(leaf.publicKey);
  if (input.keyAlgorithm && algorithm !== input.keyAlgorithm) {
    problems.push(`its key is ${algorithm ?? 'of an unsupported type'}, not ${input.keyAlgorithm} as configured`);
  }

  const sans = dnsNamesOf(leaf);
  const uncovered = input.dnsNames.filter((name) => !sans.some((san) => nameCovers(san, name)));
  if (uncovered.length) {
    problems.push(`the certificate does not cover ${uncovered.join(', ')} (its names: ${sans.join(', ') || 'none'})`);
  }
  problems.push(...leafUsageProblems(leaf));
  problems.push(...validityProblems(leaf, input.now, 'the certificate'));

  const leafFingerprint = leaf.fingerprint256;
  const candidates = splitPemChain(input.chainPem)
    .map((pem, i) => ({ pem, cert: readCertificate(pem, `chain certificate ${i + 1}`) }))
    .filter((c) => c.cert.fingerprint256 !== leafFingerprint);
  const anchors = input.trustedRoots.flatMap(splitPemChain).map(anchor).filter((a): a is X509Certificate => a !== null);
  const isAnchor = (cert: X509Certificate) => anchors.some((a) => a.fingerprint256 === cert.fingerprint256);
  const subjectOf = (cert: X509Certificate) => distinguishedName(cert.subject);

  // Build the path upwards from the leaf with whatever the CA sent, in any order.
  const path: typeof candidates = [];
  let current = leaf;
  for (let depth = 0; ; depth++) {
    if (isAnchor(current) || anchors.some((a) => signedBy(current, a))) break;
    const parent = depth < MAX_CHAIN_DEPTH ? candidates.find((c) => !path.includes(c) && signedBy(current, c.cert)) : undefined;
    if (!parent) {
      const namesake = candidates.find((c) => c.cert !== current && c.cert.subject === current.issuer);
      problems.push(
        namesake && !path.includes(namesake)
          ? `the chain does not link: "${subjectOf(current)}" is not signed by "${subjectOf(namesake.cert)}"`
          : `the chain does not lead to a trusted root ("${distinguishedName(current.issuer)}" is not trusted)`,
      );
      break;
    }
    path.push(parent);
    current = parent.cert;
  }
  for (const c of path) problems.push(...validityProblems(c.cert, input.now, `chain certificate "${subjectOf(c.cert)}"`));

  if (problems.length) throw new CertificateVerificationFailed(`${label} failed verification: ${problems.join('; ')}`);
  return {
    ...factsOf(leaf),
    chainPem: path.filter((c) => !isAnchor(c.cert)).map((c) => c.pem).join(''),
  };
}

/** A leaf must be for TLS servers and must not be able to sign other certificates. */
function leafUsageProblems(cert: X509Certificate): string[] {
  const problems: string[] = [];
  // Node's `keyUsage` is the extended key usage: the OIDs, or undefined without the extension.
  if (!(cert.keyUsage ?? []).includes(SERVER_AUTH)) {
    problems.push('it is not for TLS servers (no serverAuth extended key usage)');
  }
  if (cert.ca) problems.push('it is a CA certificate, not a leaf');
  return problems;
}

function signedBy(child: X509Certificate, parent: X509Certificate): boolean {
  try {
    return child.checkIssued(parent) && child.verify(parent.publicKey);
  } catch {
    return false;
  }
}

function validityProblems(cert: X509Certificate, now: Date, what: string): string[] {
  const from = notBefore(cert);
  const until = notAfter(cert);
  if (now.getTime() < from.getTime()) return [`${what} is not valid until ${from.toISOString()}`];
  if (now.getTime() > until.getTime()) return [`${what} expired at ${until.toISOString()}`];
  return [];
}

/** Why `pem` cannot serve as a trust anchor (not one PEM certificate, or not a CA), or undefined when it can. */
export function rootCertificateProblem(pem: string): string | undefined {
  const blocks = splitPemChain(pem);
  if (blocks.length !== 1) return blocks.length ? `holds ${blocks.length} certificates, not one` : 'is not a PEM certificate';
  try {
    const cert = new X509Certificate(blocks[0]!);
    return cert.ca ? undefined : `"${distinguishedName(cert.subject)}" is not a CA certificate`;
  } catch {
    return 'is not a readable X.509 certificate';
  }
}
