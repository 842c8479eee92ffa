// The certificates port over x509.ts: new keys, CSRs, and the check of what the CA returned.
import { createCsr, generateKeyPair, verifyIssued } from '../x509.js';
import type { Certificates } from './types.js';

export const x509Certificates: Certificates = {
  newPrivateKey: async (alg) => (await generateKeyPair(alg)).privateKeyPem,
  csr: async (privateKeyPem, dnsNames) => (await createCsr(privateKeyPem, dnsNames)).pem,
  verify: verifyIssued,
};
