// ACM's rules for ImportCertificate: what it accepts as certificate, key and chain,
// and what a re-import may not change. Throws the AwsError ACM would send; messages
// never echo the submitted material.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { AwsError } from '../../types.js';
import { certificateFacts, keyAlgorithmOf, readTbs, type CertificateFacts, type KeyAlgorithm, type TbsFields } from './certificate-facts.js';
import { constraint, hidden, validation } from './errors.js';
import { onlyPem, pemBlocks } from './pem.js';

/** Sizes from the ACM API model (CertificateBody, PrivateKeyBlob, CertificateChainBlob). */
const MAX_BYTES = { certificate: 32_768, privateKey: 5_124, certificateChain: 2_097_152 } as const;

export interface ImportedMaterial {
  /** Normalised PEM of the leaf. */
  readonly certificatePem: string;
  /** Normalised PEM of each chain certificate, nearest issuer first. */
  readonly chainPems: string[];
  readonly privateKeyPem: string;
  readonly facts: CertificateFacts;
}

export interface ImportBlobs {
  readonly Certificate?: unknown;
  readonly PrivateKey?: unknown;
  readonly CertificateChain?: unknown;
}

const CANNOT_PARSE_CERTIFICATE = 'Unable to parse certificate. Please ensure the certificate is in PEM format.';
const CANNOT_PARSE_KEY = 'Unable to parse the private key. Please ensure the private key is in PEM format.';
const CANNOT_PARSE_CHAIN = 'The certificate chain provided is not in a valid PEM format.';
const CHAIN_DOES_NOT_LINK = 'Could not validate the certificate with the certificate chain.';
const KEY_LABELS = new Set(['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY']);

/** A JSON 1.1 blob member (base64) as text; undefined when absent and optional. */
function blobText(value: unknown, member: keyof typeof MAX_BYTES, required: boolean): string | undefined {
  if (value === undefined || value === null) {
    if (required) throw constraint(member, 'Member must not be null', null);
    return undefined;
  }
  if (typeof value !== 'string') throw new AwsError('SerializationException', `Unable to parse '${member}': a blob must be a base64 string`);
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length < 1) throw constraint(member, 'Member must have length greater than or equal to 1', hidden);
  if (bytes.length > MAX_BYTES[member]) {
    throw constraint(member, `Member must have length less than or equal to ${MAX_BYTES[member]}`, hidden);
  }
  return bytes.toString('utf8');
}

function parseCertificate(text: string): { cert: X509Certificate; tbs: TbsFields } {
  const blocks = pemBlocks(text);
  if (!blocks.length || !onlyPem(text) || blocks.some((b) => b.label !== 'CERTIFICATE')) throw validation(CANNOT_PARSE_CERTIFICATE);
  if (blocks.length > 1) {
    throw validation('The certificate field contains more than one certificate. You can specify only one certificate in this field.');
  }
  try {
    const cert = new X509Certificate(blocks[0]!.text);
    return { cert, tbs: readTbs(cert.raw) };
  } catch {
    throw validation(CANNOT_PARSE_CERTIFICATE);
  }
}

function parsePrivateKey(text: string): KeyObject {
  if (/ENCRYPTED/.test(text)) throw validation('Your private key should not be encrypted.');
  // `openssl ecparam -genkey` writes an EC PARAMETERS block before the key; ACM accepts that file.
  const blocks = pemBlocks(text).filter((b) => b.label !== 'EC PARAMETERS');
  if (blocks.length !== 1 || !onlyPem(text) || !KEY_LABELS.has(blocks[0]!.label)) throw validation(CANNOT_PARSE_KEY);
  try {
    return createPrivateKey(blocks[0]!.text);
  } catch {
    throw validation(CANNOT_PARSE_KEY);
  }
}

function parseChain(text: string): X509Certificate[] {
  const blocks = pemBlocks(text);
  if (!blocks.length || !onlyPem(text) || blocks.some((b) => b.label !== 'CERTIFICATE')) throw validation(CANNOT_PARSE_CHAIN);
  try {
    return blocks.map((b) => new X509Certificate(b.text));
  } catch {
    throw validation(CANNOT_PARSE_CHAIN);
  }
}

/** Each certificate must be issued and signed by the next one (the leaf by the first of the chain). */
function chainLinks(leaf: X509Certificate, chain: X509Certificate[]): boolean {
  let child = leaf;
  for (const parent of chain) {
    if (parent.raw.equals(leaf.raw)) return false;
    if (!child.checkIssued(parent) || !child.verify(parent.publicKey)) return false;
    child = parent;
  }
  return true;
}

function supportedAlgorithm(key: KeyObject): KeyAlgorithm {
  const result = keyAlgorithmOf(key);
  if (result.ok) return result.algorithm;
  if (result.reason === 'unsupported-length' && result.bits) {
    throw validation(`The private key length ${result.bits} is not supported for key algorithm ${result.family}.`);
  }
  throw validation('The private key is not supported.');
}

/** Applies ACM's import rules at `now`; returns what to store. */
export function validateImport(input: ImportBlobs, now: Date): ImportedMaterial {
  const certificateText = blobText(input.Certificate, 'certificate', true)!;
  const privateKeyText = blobText(input.PrivateKey, 'privateKey', true)!;
  const chainText = blobText(input.CertificateChain, 'certificateChain', false);

  const { cert, tbs } = parseCertificate(certificateText);
  const key = parsePrivateKey(privateKeyText);
  const keyAlgorithm = supportedAlgorithm(key);
  let matches = false;
  try {
    matches = cert.checkPrivateKey(key);
  } catch {
    matches = false;
  }
  if (!matches) throw validation('The private key does not match the public key in the certificate.');

  if (tbs.version !== 3) throw validation('The certificate must be an X.509 version 3 certificate.');
  if (!cert.issuer.trim()) throw validation('The certificate Issuer field must not be empty.');
  if (now < tbs.notBefore) {
    throw validation(`The certificate is not yet valid: it is valid from ${tbs.notBefore.toISOString()}. The current time must be between the Not Before and Not After certificate fields.`);
  }
  if (now > tbs.notAfter) {
    throw validation(`The certificate expired on ${tbs.notAfter.toISOString()}. The current time must be between the Not Before and Not After certificate fields.`);
  }

  const chain = chainText === undefined ? [] : parseChain(chainText);
  if (!chainLinks(cert, chain)) throw validation(CHAIN_DOES_NOT_LINK);

  return {
    certificatePem: cert.toString(),
    chainPems: chain.map((c) => c.toString()),
    privateKeyPem: privateKeyText.trim() + '\n',
    facts: certificateFacts(cert, keyAlgorithm, tbs),
  };
}

const familyOf = (algorithm: KeyAlgorithm) => (algorithm.startsWith('RSA_') ? 'RSA' : 'EC');

/** ACM keeps the key type and size of a certificate for its whole life: a re-import may not change them. */
export function checkReimport(existing: KeyAlgorithm, incoming: KeyAlgorithm): void {
  if (existing === incoming) return;
  const what = familyOf(existing) === familyOf(incoming) ? 'key size' : 'key type';
  throw validation(
    `The certificate cannot be re-imported: its ${what} has changed. The key algorithm of the new certificate (${incoming}) ` +
      `must be the same as that of the certificate being replaced (${existing}).`,
  );
}
