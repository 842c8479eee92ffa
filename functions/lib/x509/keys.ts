// Keys certpipe issues certificates for: which algorithm a key is, and making one.
import { generateKeyPair as generateKeyPairCb, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { KeyAlgorithm } from '../inventory.js';

const generateKeyPairAsync = promisify(generateKeyPairCb);

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
