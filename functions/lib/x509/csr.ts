// Certificate signing requests, made by acme-client's crypto module: FinalizeOrder
// loads it anyway (acme-client's client needs it), so certpipe ships one X.509
// library, not two. Loaded on first use so that a function importing x509.ts for
// anything else neither bundles nor evaluates it.
import { createPrivateKey } from 'node:crypto';
import { keyAlgorithmOf } from './keys.js';

/** CSR for `dnsNames` (all as SANs; CN = the first name when it fits in 64 characters). */
export async function createCsr(privateKeyPem: string, dnsNames: string[]): Promise<{ der: Buffer; pem: string }> {
  if (dnsNames.length === 0) throw new Error('A CSR needs at least one DNS name');
  const privateKey = createPrivateKey(privateKeyPem);
  if (!keyAlgorithmOf(privateKey)) {
    throw new Error(`Unsupported key for a CSR: ${privateKey.asymmetricKeyType ?? 'unknown'} key`);
  }
  const { default: acmeCrypto } = await import('acme-client/src/crypto/index.js');
  const first = dnsNames[0]!;
  // acme-client reads the key as PKCS#8 only (a SEC1 "EC PRIVATE KEY" would fail there).
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const [, csr] = await acmeCrypto.createCsr(
    // RFC 5280 caps a CN at 64 characters; CAs take the names from the SANs anyway.
    { ...(first.length <= 64 ? { commonName: first } : {}), altNames: [...dnsNames] },
    pkcs8,
  );
  const pem = csr.toString();
  return { der: Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64'), pem };
}
