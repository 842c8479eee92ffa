// The staging rehearsal of a certificate: the same names and key algorithm,
// ordered from the production issuer's staging twin, into a secret of its own
// (`stagingGate.secretName`) that no target copies and no event announces.
// Every step finds it by its qualified name (`web@staging`), so the rehearsal
// runs through the very same states and code as the production order.
import type { CertificateSpec } from '../inventory.js';

const REHEARSAL_SUFFIX = '@staging';

/** The name the rehearsal of `name` goes by in the workflow (config names cannot hold `@`). */
export function rehearsalName(name: string): string {
  return `${name}${REHEARSAL_SUFFIX}`;
}

/** The certificate a rehearsal name proves, or undefined for an ordinary name. */
export function rehearsedName(name: string): string | undefined {
  return name.endsWith(REHEARSAL_SUFFIX) ? name.slice(0, -REHEARSAL_SUFFIX.length) : undefined;
}

/** The spec the steps work on for the rehearsal: the staging issuer, the staging secret, no targets. */
export function stagingRehearsal(spec: CertificateSpec): CertificateSpec {
  if (!spec.stagingGate) throw new Error(`Certificate "${spec.name}" has no staging gate, so it has no rehearsal`);
  const { stagingGate, storeFullchain: _fullchain, canary: _canary, ...rest } = spec;
  return {
    ...rest,
    name: rehearsalName(spec.name),
    issuer: stagingGate.issuer,
    secretName: stagingGate.secretName,
    targets: [],
    rehearsalOf: spec.name,
  };
}
