// What a certificate was issued for, in one tag: the staging gate compares it
// with the config to tell "the same certificate again" from "a new one".
import { createHash } from 'node:crypto';
import { normaliseDnsName } from '../dnsName.js';
import type { KeyAlgorithm } from '../inventory.js';
import { profileFor } from '../acme/profiles.js';

export interface IssuanceShape {
  dnsNames: readonly string[];
  keyAlgorithm: KeyAlgorithm;
  /** The ACME profile asked for; absent = the CA's default. */
  profile?: string;
}

/** A short stable digest of names (order and case do not matter), key algorithm and profile. */
export function issuanceFingerprint(shape: IssuanceShape): string {
  const names = [...new Set(shape.dnsNames.map(normaliseDnsName))].sort().join(',');
  return createHash('sha256').update(`${names}|${shape.keyAlgorithm}|${shape.profile ?? ''}`).digest('hex').slice(0, 32);
}

/** The profile part of the shape: the certificate's, else its issuer's (acme/profiles.ts), when one is asked for. */
export function profileOf(spec: { profile?: string }, issuer: { profile?: string }): { profile?: string } {
  const profile = profileFor(spec, issuer);
  return profile !== undefined ? { profile } : {};
}
