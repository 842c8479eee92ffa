// X.509 work for the pipeline: parse the public facts of a certificate, make
// keys and CSRs, and check what the CA returned before anyone publishes it.
// Reading and verifying use node:crypto alone; only the CSR needs an X.509
// library (acme-client's), loaded when a CSR is made. One module per job:
export { splitPemChain, parseCertificate, type CertificateFacts } from './x509/certificate.js';
export { generateKeyPair, keyAlgorithmOf, type GeneratedKey } from './x509/keys.js';
export { createCsr } from './x509/csr.js';
export {
  nameCovers,
  rootCertificateProblem,
  verifyIssued,
  type VerifiedCertificate,
  type VerifyIssuedInput,
} from './x509/verify.js';
