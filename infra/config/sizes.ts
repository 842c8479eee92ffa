// The worst-case size of what a certificate becomes, checked against the
// services' limits before a deploy rather than at the first renewal. An
// estimate from the config alone: the names are known, the CA's extensions and
// chain are not, so those are generous documented allowances.
import type { KeyAlgorithm } from '../../functions/lib/inventory.js';

/** Secrets Manager: a SecretString holds at most 65,536 bytes. */
export const SECRET_STRING_LIMIT = 65_536;
/** ACM ImportCertificate: the Certificate (leaf PEM) at most 32,768 bytes (the chain may be 2 MiB, the key 5,120 bytes). */
export const ACM_CERTIFICATE_LIMIT = 32_768;

/**
 * DER bytes of a leaf besides its names and public key: subject, issuer,
 * validity, key usages, AIA/CRL URLs, policies, up to five embedded SCTs and a
 * signature by an RSA-4096 issuer. Let's Encrypt leaves carry about 1,000.
 */
export const LEAF_OVERHEAD_DER = 2_048;
/** PEM of the chain after the leaf: Let's Encrypt's longest (intermediate + cross-signed root) is about 3,800 bytes. */
export const CHAIN_ALLOWANCE_PEM = 8_192;
/** The stored facts besides the names (dates, serial, issuer, key algorithm, order URL) and the JSON around them. */
export const FACTS_ALLOWANCE = 1_024;

/** DER of the SubjectPublicKeyInfo and PEM of the PKCS#8 private key per algorithm (measured, rounded up). */
const KEY_BYTES: Record<KeyAlgorithm, { spkiDer: number; privatePem: number }> = {
  'ecdsa-p256': { spkiDer: 91, privatePem: 250 },
  'ecdsa-p384': { spkiDer: 120, privatePem: 320 },
  'rsa-2048': { spkiDer: 294, privatePem: 1_710 },
  'rsa-3072': { spkiDer: 422, privatePem: 2_490 },
  'rsa-4096': { spkiDer: 550, privatePem: 3_280 },
};

/** PEM of `der` bytes: base64 in 64-character lines, BEGIN/END lines. */
const pemBytes = (der: number) => {
  const base64 = Math.ceil(der / 3) * 4;
  return base64 + Math.ceil(base64 / 64) + 60;
};

/** In a JSON string, each PEM line break is written as two characters. */
const inJson = (pem: number) => Math.ceil(pem * (65 / 64)) + 2;

export interface SizeEstimate {
  /** PEM of the leaf: what ACM's Certificate parameter receives. */
  readonly leafPem: number;
  /** The certificate secret's JSON with certificate, chain, fullchain and privateKey (fullchain stored, the worst case). */
  readonly secretJson: number;
}

/** Worst case for a certificate with these names and key algorithm. */
export function estimateSizes(dnsNames: readonly string[], keyAlgorithm: KeyAlgorithm): SizeEstimate {
  const names = dnsNames.reduce((sum, n) => sum + n.length, 0);
  // Each SAN costs its length + 4 bytes of DER framing; the CN repeats the first name.
  const leafDer = LEAF_OVERHEAD_DER + KEY_BYTES[keyAlgorithm].spkiDer + names + 4 * dnsNames.length + (dnsNames[0]?.length ?? 0) + 16;
  const leafPem = pemBytes(leafDer);
  const namesJson = names + 3 * dnsNames.length;
  const secretJson =
    inJson(leafPem) + inJson(CHAIN_ALLOWANCE_PEM) + inJson(leafPem + CHAIN_ALLOWANCE_PEM) + inJson(KEY_BYTES[keyAlgorithm].privatePem) + namesJson + FACTS_ALLOWANCE;
  return { leafPem, secretJson };
}

/** Why a certificate may not fit where it goes ("what — fix"), or nothing. */
export function sizeProblems(dnsNames: readonly string[], keyAlgorithm: KeyAlgorithm, importsIntoAcm: boolean): string[] {
  const { leafPem, secretJson } = estimateSizes(dnsNames, keyAlgorithm);
  const problems: string[] = [];
  const shrink = `fewer or shorter dnsNames (${dnsNames.length} names, ${dnsNames.reduce((s, n) => s + n.length, 0)} characters now)`;
  if (secretJson > SECRET_STRING_LIMIT) {
    problems.push(
      `the certificate secret could reach ${secretJson} bytes, over Secrets Manager's ${SECRET_STRING_LIMIT}-byte SecretString limit — split the names over two certificates, or use ${shrink}`,
    );
  }
  if (importsIntoAcm && leafPem > ACM_CERTIFICATE_LIMIT) {
    problems.push(
      `the certificate could reach ${leafPem} bytes of PEM, over ACM's ${ACM_CERTIFICATE_LIMIT}-byte import limit — split the names over two certificates, or use ${shrink}`,
    );
  }
  return problems;
}
