// The staging gate: does this due certificate go to the staging twin first, or
// straight to production? An ordered chain of small pure checks, the first that
// speaks explains the decision (as renewal.ts does); the caller passes `now`.
import type { CertificateSpec, KeyAlgorithm } from '../inventory.js';
import { normaliseDnsName } from '../dnsName.js';

export type Stage = 'staging' | 'production';

export const GATE_REASONS = [
  'Ungated',
  'ProductionUnderway',
  'StagingPassed',
  'NeverIssued',
  'NewIssuer',
  'ShapeChanged',
  'AlreadyProven',
] as const;
export type GateReason = (typeof GATE_REASONS)[number];

export interface GateDecision {
  stage: Stage;
  reason: GateReason;
  message: string;
}

/**
 * A staging result proves a certificate for this long: a production order that
 * failed after staging passed is retried by the next runs without a new rehearsal.
 */
export const STAGING_PROOF_VALID_MS = 24 * 3_600_000;

export interface GateInput {
  spec: Pick<CertificateSpec, 'name' | 'issuer' | 'dnsNames' | 'keyAlgorithm' | 'stagingGate'>;
  /** issuanceFingerprint() of the spec as configured (names, key algorithm, the issuer's profile). */
  fingerprint: string;
  /** What the production secret's tags say, if anything was ever issued there. */
  stored?: {
    issuer: string;
    dnsNames: string[];
    keyAlgorithm?: KeyAlgorithm;
    /** Absent on certificates issued before the tag existed: names and key algorithm are compared instead. */
    gateFingerprint?: string;
    pendingOrder?: boolean;
    publishPending?: string[];
  };
  /** The last staging rehearsal's result (the staging secret's tags). */
  staged?: { gateFingerprint?: string; issuedAt?: Date; serial: string };
  now: Date;
}

type Need = { reason: GateReason; message: string } | undefined;

function stagingNeed({ spec, stored, fingerprint }: GateInput): Need {
  if (!stored) return { reason: 'NeverIssued', message: `never issued by ${spec.issuer}` };
  if (stored.issuer !== spec.issuer) return { reason: 'NewIssuer', message: `never issued by ${spec.issuer} (last by ${stored.issuer})` };
  const changed = stored.gateFingerprint
    ? stored.gateFingerprint !== fingerprint
    : !sameNames(stored.dnsNames, spec.dnsNames) || (stored.keyAlgorithm !== undefined && stored.keyAlgorithm !== spec.keyAlgorithm);
  return changed ? { reason: 'ShapeChanged', message: 'names, key algorithm or profile changed since the last issuance' } : undefined;
}

/** Staging first, or production: decided for a certificate that is already due. */
export function gateDecision(input: GateInput): GateDecision {
  const { spec, stored, staged, now } = input;
  const twin = spec.stagingGate?.issuer;
  if (!twin) return { stage: 'production', reason: 'Ungated', message: 'no staging gate (no staging twin, or gate: off)' };
  // An order already placed with production passed the gate when it was placed.
  if (stored?.pendingOrder || stored?.publishPending?.length) {
    return { stage: 'production', reason: 'ProductionUnderway', message: 'a production order or publish is already under way' };
  }
  const need = stagingNeed(input);
  if (!need) return { stage: 'production', reason: 'AlreadyProven', message: `issued by ${spec.issuer} before for the same names, key and profile` };
  const provenAt = staged?.gateFingerprint === input.fingerprint ? staged.issuedAt : undefined;
  if (provenAt && now.getTime() - provenAt.getTime() < STAGING_PROOF_VALID_MS && now.getTime() >= provenAt.getTime()) {
    return {
      stage: 'production',
      reason: 'StagingPassed',
      message: `${need.message}; proven on ${twin} at ${provenAt.toISOString()} (serial ${staged!.serial})`,
    };
  }
  return { stage: 'staging', reason: need.reason, message: `${need.message}: staging on ${twin} first` };
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  const x = new Set(a.map(normaliseDnsName));
  const y = new Set(b.map(normaliseDnsName));
  return x.size === y.size && [...x].every((n) => y.has(n));
}
