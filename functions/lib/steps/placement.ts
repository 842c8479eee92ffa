// What PlaceChallenges does with what AWSPENDING holds and with the outcome of its
// claim. Pure: plain public data in (no key), one action out, each with a reason,
// so every branch is a table row in test/unit/steps/placement.test.ts.
import { sameDnsNames } from '../dnsName.js';
import type { KeyAlgorithm } from '../inventory.js';
import type { PendingVersion } from '../store/model.js';

/** AWSPENDING without its key: what the decisions may look at. */
export type PendingView =
  | { kind: 'issued'; versionId: string; orderUrl: string }
  | { kind: 'claim'; versionId: string; orderUrl: string; dnsNames: readonly string[]; keyAlgorithm: KeyAlgorithm };

export function pendingView(pending: PendingVersion): PendingView {
  return pending.kind === 'issued'
    ? { kind: 'issued', versionId: pending.versionId, orderUrl: pending.issued.orderUrl }
    : {
        kind: 'claim',
        versionId: pending.versionId,
        orderUrl: pending.claim.orderUrl,
        dnsNames: pending.claim.dnsNames,
        keyAlgorithm: pending.claim.keyAlgorithm,
      };
}

export type Placement =
  /** A verified certificate waits in AWSPENDING: publish it, no second order. */
  | { action: 'publish-stored'; reason: 'IssuedPending' | 'IssuedByAnother'; orderUrl: string; message: string }
  /** AWSCURRENT is what should be published (targets missed it, or another execution renewed it). */
  | { action: 'publish-current'; reason: 'PublishIncomplete' | 'Superseded'; message: string }
  /** Continue the order in flight. */
  | { action: 'resume'; reason: 'ClaimInFlight' | 'ClaimedByAnother'; orderUrl: string; message: string }
  /** Place a new order and claim it; `replacePendingVersionId` names the claim it replaces. */
  | { action: 'order'; reason: 'NoClaim' | 'ClaimOutdated' | 'ClaimDead'; replacePendingVersionId?: string; message: string }
  /** Our claim won: go on with the order just created. */
  | { action: 'use-created'; reason: 'Claimed'; message: string };

export interface PlacementInput {
  pending?: PendingView;
  /** The renewal reason CheckExpiry gave this item. */
  itemReason: string;
  spec: { dnsNames: readonly string[]; keyAlgorithm: KeyAlgorithm };
  /** The recorded order could not be resumed: the CA gave up on it (AcmeOrderInvalid). */
  claimDead?: boolean;
}

/** Before any request to the CA: publish what is stored, resume the claim, or order anew. */
export function placement(input: PlacementInput): Placement {
  const { pending, spec } = input;
  if (pending?.kind === 'issued') {
    return { action: 'publish-stored', reason: 'IssuedPending', orderUrl: pending.orderUrl, message: 'a verified certificate awaits publishing' };
  }
  if (!pending) {
    if (input.itemReason === 'PublishIncomplete') {
      return { action: 'publish-current', reason: 'PublishIncomplete', message: 'the current certificate is fine; some targets missed it' };
    }
    return { action: 'order', reason: 'NoClaim', message: 'no order in flight' };
  }
  if (!sameDnsNames(pending.dnsNames, spec.dnsNames) || pending.keyAlgorithm !== spec.keyAlgorithm) {
    return {
      action: 'order',
      reason: 'ClaimOutdated',
      replacePendingVersionId: pending.versionId,
      message: 'the order in flight is for other names or another key algorithm than the config asks for now',
    };
  }
  if (input.claimDead) {
    return { action: 'order', reason: 'ClaimDead', replacePendingVersionId: pending.versionId, message: `the CA gave up on ${pending.orderUrl}` };
  }
  return { action: 'resume', reason: 'ClaimInFlight', orderUrl: pending.orderUrl, message: 'an order is in flight for the same names and key' };
}

export type ClaimResult = { outcome: 'claimed' } | { outcome: 'resumed'; pending: PendingView } | { outcome: 'superseded' };

/** After claiming AWSPENDING for a new order: go on with it, or with whoever got there first. */
export function afterClaim(result: ClaimResult): Placement {
  if (result.outcome === 'superseded') {
    return { action: 'publish-current', reason: 'Superseded', message: 'renewed meanwhile by another execution; publishing what is current' };
  }
  if (result.outcome === 'claimed') return { action: 'use-created', reason: 'Claimed', message: 'our order is the one in flight' };
  // Another execution claimed this renewal first: continue with its order, never a second issuance.
  const { pending } = result;
  if (pending.kind === 'issued') {
    return { action: 'publish-stored', reason: 'IssuedByAnother', orderUrl: pending.orderUrl, message: 'another execution already issued it' };
  }
  return { action: 'resume', reason: 'ClaimedByAnother', orderUrl: pending.orderUrl, message: 'another execution claimed this renewal first' };
}
