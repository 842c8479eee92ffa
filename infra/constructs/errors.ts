// Synth-time errors: every message names the prop (or config field) that is wrong
// and says how to fix it, so `cdk synth` output is enough to correct the input.

export class InfraPropsError extends Error {
  constructor(
    /** The construct that rejected its props, e.g. `CertificateRenewalPipeline`. */
    readonly construct: string,
    /** Dotted path of the offending prop, e.g. `maxConcurrency` or `inventory.certificates[web].dnsNames`. */
    readonly prop: string,
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`${construct}: ${prop}: ${problem}. Fix: ${fix}`);
    this.name = 'InfraPropsError';
  }
}
