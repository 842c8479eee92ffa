// The account key rollover decision: from any point a run can stop at, the
// next run finds a step that ends with the CA and the store on the same key.
import { describe, expect, it } from 'vitest';
import type { AcmeAccountSecret } from '../../functions/lib/acme/account.js';
import { needsCaProbe, rolloverStep, type RolloverFacts } from '../../functions/lib/acme/rollover.js';

const DIR = 'https://ca.test/dir';
const URL = 'https://ca.test/acct/1';
const current: AcmeAccountSecret = { accountKey: 'OLD', accountUrl: URL, directoryUrl: DIR };
const pending: AcmeAccountSecret = { accountKey: 'NEW', accountUrl: URL, directoryUrl: DIR };

describe('rolloverStep', () => {
  it.each<[string, RolloverFacts, string]>([
    ['never registered: nothing to roll over', { current: { accountKey: 'OLD', directoryUrl: DIR } }, 'refuse'],
    ['nothing pending: store the new key first', { current }, 'stage'],
    ['stopped after storing, before the CA heard of it', { current, pending, caAcceptsPending: false }, 'keyChange'],
    ['stopped after the CA accepted, before promoting', { current, pending, caAcceptsPending: true }, 'promote'],
    ['stopped between promoting and dropping the pending label', { current: pending, pending }, 'promote'],
    ['a pending key of another account', { current, pending: { ...pending, accountUrl: 'https://ca.test/acct/2' } }, 'discard'],
    ['a pending key for another directory', { current, pending: { ...pending, directoryUrl: 'https://other.test/dir' } }, 'discard'],
  ])('%s → %s', (_case, facts, action) => {
    expect(rolloverStep(facts).action).toBe(action);
  });

  it('asks the CA only when the answer decides between keyChange and promote', () => {
    expect(needsCaProbe({ current })).toBe(false);
    expect(needsCaProbe({ current, pending })).toBe(true);
    expect(needsCaProbe({ current: pending, pending })).toBe(false);
    expect(needsCaProbe({ current, pending: { ...pending, accountUrl: 'https://ca.test/acct/2' } })).toBe(false);
  });

  it('a run that stops at each point is finished by the next: stage → keyChange → promote', () => {
    // Simulated store and CA: the state after each step, as the next run would find it.
    let stored: RolloverFacts = { current };
    let caKey = 'OLD';
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) {
      const facts = { ...stored, ...(stored.pending && needsCaProbe(stored) ? { caAcceptsPending: caKey === stored.pending.accountKey } : {}) };
      const step = rolloverStep(facts);
      seen.push(step.action);
      if (step.action === 'stage') stored = { current, pending };
      else if (step.action === 'keyChange') caKey = stored.pending!.accountKey; // then "crash" before promoting
      else if (step.action === 'promote') break;
    }
    expect(seen).toEqual(['stage', 'keyChange', 'promote']);
    expect(caKey).toBe('NEW');
  });
});
