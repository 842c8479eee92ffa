// The certificates port for a step that only checks what it publishes: verification
// alone, imported from x509/verify.ts so no key generation or CSR code (and no ACME
// client behind the CSR) comes with it.
import { verifyIssued } from '../x509/verify.js';
import type { CertificateChecks } from './types.js';

export const x509Checks: CertificateChecks = { verify: verifyIssued };
