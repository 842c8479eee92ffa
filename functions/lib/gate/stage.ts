// CheckExpiry's one call into the gate: which name a due certificate enters the
// workflow under, its own (production) or its rehearsal's (staging first).
import { findIssuer, type CertificateSpec, type Inventory } from '../inventory.js';
import type { StoredCertificateFacts } from '../store/model.js';
import { gateDecision, type GateDecision } from './decision.js';
import { issuanceFingerprint, profileOf } from './fingerprint.js';
import { rehearsalName } from './rehearsal.js';

export function stageDueCertificate(
  inventory: Inventory,
  spec: CertificateSpec,
  stored: ReadonlyMap<string, StoredCertificateFacts>,
  now: Date,
): { name: string; gate: GateDecision } {
  const fingerprint = issuanceFingerprint({ ...spec, ...profileOf(spec, findIssuer(inventory, spec.issuer)) });
  const staged = stored.get(rehearsalName(spec.name));
  const gate = gateDecision({ spec, fingerprint, stored: stored.get(spec.name), staged, now });
  return { name: gate.stage === 'staging' ? rehearsalName(spec.name) : spec.name, gate };
}
