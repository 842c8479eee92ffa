// The staging gate's state for `certpipe status`: from the gate decision the next
// due run would make and the last runs of the certificate and its rehearsal. Pure.
import type { GateDecision } from './decision.js';

export type GateState = 'off' | 'required' | 'passed' | 'proven' | 'blocked';

export interface GateStatus {
  state: GateState;
  reason: string;
  /** The staging serial and when it was issued (passed), or when staging failed (blocked). */
  serial?: string;
  at?: string;
}

export interface GateStatusInput {
  decision: GateDecision;
  /** The last staging result kept (the staging secret's tags). */
  staged?: { serial: string; issuedAt?: Date };
  /** The certificate's last run, and what the gate did in it. */
  lastRun?: { at?: string; error?: string; staging?: 'passed' | 'failed' };
}

export function gateStatus({ decision, staged, lastRun }: GateStatusInput): GateStatus {
  if (decision.reason === 'Ungated') return { state: 'off', reason: decision.message };
  // A failed rehearsal blocks until a later run gets the certificate past it.
  if (lastRun?.staging === 'failed') {
    return {
      state: 'blocked',
      reason: `staging failed (${lastRun.error ?? 'unknown error'}): production not ordered`,
      ...(lastRun.at ? { at: lastRun.at } : {}),
    };
  }
  const stagedFacts = staged ? { serial: staged.serial, ...(staged.issuedAt ? { at: staged.issuedAt.toISOString() } : {}) } : {};
  if (decision.stage === 'staging') return { state: 'required', reason: decision.message };
  if (decision.reason === 'StagingPassed') return { state: 'passed', reason: decision.message, ...stagedFacts };
  return { state: 'proven', reason: decision.message, ...stagedFacts };
}
