// What FinalizeOrder does next, from what AWSPENDING holds and the order's status
// at the CA. Pure: one action per answer, each with a reason; the step does the I/O.
import { MAX_ORDER_CHECKS, orderCheckDelay } from '../backoff.js';
import type { OrderStatus } from '../acme.js';
import type { PendingView } from './placement.js';

export type FinalizeStart =
  /** Verified and stored already (a retry after storing): report it. */
  | { action: 'report-stored'; reason: 'IssuedPending' }
  /** Another execution on the same order finished and promoted it. */
  | { action: 'report-current'; reason: 'PromotedByAnother' }
  /** Nothing to finalize: no claim, and the current certificate is not this order's. */
  | { action: 'give-up'; reason: 'NoClaim'; message: string }
  /** Ask the CA where the claimed order is. */
  | { action: 'check-order'; reason: 'ClaimInFlight'; orderUrl: string; claimVersionId: string };

export function finalizeStart(input: { pending?: PendingView; currentOrderUrl?: string; stateOrderUrl?: string }): FinalizeStart {
  const { pending } = input;
  if (pending?.kind === 'issued') return { action: 'report-stored', reason: 'IssuedPending' };
  if (pending?.kind === 'claim') {
    return { action: 'check-order', reason: 'ClaimInFlight', orderUrl: pending.orderUrl, claimVersionId: pending.versionId };
  }
  if (input.stateOrderUrl && input.currentOrderUrl === input.stateOrderUrl) return { action: 'report-current', reason: 'PromotedByAnother' };
  return { action: 'give-up', reason: 'NoClaim', message: 'no AWSPENDING claim' };
}

export type OrderAction =
  /** Tell the CA to validate; the answer comes at a later check. */
  | { action: 'answer-challenges'; message: string }
  /** Submit the CSR of the stored key. */
  | { action: 'finalize'; message: string }
  /** The CA is working on it. */
  | { action: 'wait'; message: string }
  /** Download, verify, store. */
  | { action: 'download'; message: string };

export function orderAction(status: Exclude<OrderStatus, 'invalid'>): OrderAction {
  switch (status) {
    case 'pending':
      return { action: 'answer-challenges', message: 'the CA is validating the challenges' };
    case 'ready':
      return { action: 'finalize', message: 'the challenges are valid; finalizing with the stored key' };
    case 'processing':
      return { action: 'wait', message: 'the CA is issuing' };
    case 'valid':
      return { action: 'download', message: 'issued' };
  }
}

export type NextCheck = { action: 'wait'; waitSeconds: number; attempt: number } | { action: 'give-up'; checks: number };

/** After `attempt` status checks with no certificate: wait for another, or give up after MAX_ORDER_CHECKS. */
export function nextCheck(attempt: number, maxChecks = MAX_ORDER_CHECKS): NextCheck {
  if (attempt + 1 >= maxChecks) return { action: 'give-up', checks: maxChecks };
  return { action: 'wait', waitSeconds: orderCheckDelay(attempt), attempt: attempt + 1 };
}
