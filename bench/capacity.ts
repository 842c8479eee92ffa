// How much one execution holds with RenewEach as a Distributed Map, computed
// from a measured run: the parent's history does not grow with the fleet (the
// certificates' states are in their own child executions), so AWS's 25,000
// events per execution caps each certificate's child, not the run; the largest
// state in the parent is bounded by the capped lists, not by the due count.
// The inline design's ceiling is computed from the same run for comparison.
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { AWS_QUOTAS } from '../local/aws/services/stepfunctions/quotas.js';
import { historyCounts, round } from './support.js';

export interface FanoutShape {
  certificates: number;
  parentEvents: number;
  childEventsMean: number;
  childEventsMax: number;
  /** All events of the run (parent and children) per certificate. */
  eventsPerCertificate: number;
  /** Billed state transitions (states entered + retries) per certificate, parent's share included. */
  transitionsPerCertificate: number;
  /** Largest state input/output in the parent's history, and AWS's limit. */
  largestParentPayloadBytes: number;
  maxPayloadBytes: number;
  /**
   * Certificates one execution holds under AWS's quotas. With the Distributed Map
   * the parent's history and payloads do not grow with the count: no quota of one
   * execution caps it (null); each child uses `childEventsMax` of its 25,000 events.
   */
  distributedCapacity: null;
  /** The inline Map's ceiling: every certificate's events (plus its iteration's 3) in one history of 25,000. */
  inlineCapacity: number;
}

const payloadSizes = (e: HistoryEvent) =>
  [e.stateEnteredEventDetails?.input, e.stateExitedEventDetails?.output].filter((s): s is string => typeof s === 'string').map((s) => Buffer.byteLength(s));

export function fanoutShape(histories: ReadonlyArray<{ events: readonly HistoryEvent[] }>): FanoutShape {
  const [parent, ...children] = histories;
  const n = children.length;
  const childSizes = children.map((c) => c.events.length);
  const all = histories.flatMap((h) => h.events);
  const total = all.length;
  // Inline, a certificate cost its states' events plus MapIterationStarted/Succeeded and no execution start/end of its own.
  const perCertificateInline = n ? (childSizes.reduce((a, b) => a + b, 0) - 2 * n) / n + 2 : 0;
  const fixed = parent ? parent.events.length - 3 : 0; // MapRunStarted/Succeeded and MapStateSucceeded are the Distributed Map's own
  return {
    certificates: n,
    parentEvents: parent?.events.length ?? 0,
    childEventsMean: n ? round(childSizes.reduce((a, b) => a + b, 0) / n, 1) : 0,
    childEventsMax: n ? Math.max(...childSizes) : 0,
    eventsPerCertificate: n ? round(total / n, 1) : 0,
    transitionsPerCertificate: n ? round(historyCounts(all).transitions / n, 2) : 0,
    largestParentPayloadBytes: Math.max(0, ...(parent?.events ?? []).flatMap(payloadSizes)),
    maxPayloadBytes: AWS_QUOTAS.maxPayloadBytes,
    distributedCapacity: null,
    inlineCapacity: perCertificateInline ? Math.floor((AWS_QUOTAS.maxHistoryEvents - fixed) / perCertificateInline) : 0,
  };
}
