// The steps' writes to the rate-limit budget's ledger (budget/ledger.ts). The ledger is an
// estimate the CA's own 429 overrules, so a failed write is logged, never allowed to fail
// a renewal or hide the error it records.
import type { CertificateSpec } from '../inventory.js';
import { logger } from '../observability.js';

export async function recordInLedger(spec: CertificateSpec, what: string, write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (err) {
    logger.warn('could not record in the rate-limit ledger', { certificate: spec.name, entry: what, error: (err as Error).message });
  }
}
