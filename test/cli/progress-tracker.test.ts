// The progress lines of a run: one per certificate when it changes step, one when
// it ends, each with the running count; repeated states of one step say nothing.
import { describe, expect, it } from 'vitest';
import { countsText, ExecutionTracker } from '../../bin/progress/tracker.js';

const entered = (name: string, cert: string) => ({ stateEnteredEventDetails: { name, input: JSON.stringify({ name: cert }) } });
const exited = (name: string, output: unknown) => ({ stateExitedEventDetails: { name, output: JSON.stringify(output) } });

describe('ExecutionTracker', () => {
  it('says each step once per certificate, then the outcome, with the count', () => {
    const tracker = new ExecutionTracker();
    const events = [
      exited('CheckExpiry', { check: { due: [{ name: 'web', reason: 'Forced' }, { name: 'api', reason: 'Expired' }], skipped: [] } }),
      entered('PlaceChallenges', 'web'),
      entered('WaitForPropagation', 'web'),
      entered('CheckPropagation', 'web'),
      entered('WaitForPropagation', 'web'),
      entered('CheckPropagation', 'web'),
      entered('FinalizeOrder', 'web'),
      entered('PublishCertificate', 'web'),
      entered('CleanupChallenges', 'web'),
      exited('Renewed', { name: 'web', outcome: 'renewed' }),
      entered('PlaceChallenges', 'api'),
      entered('CleanupAfterFailure', 'api'),
      exited('RenewalFailed', { name: 'api', outcome: 'failed', error: 'AcmeOrderInvalid' }),
    ];
    const lines = events.flatMap((e) => tracker.observe(e as never));
    expect(lines).toEqual([
      'due: web (Forced), api (Expired)',
      'web: place  [0/2 renewed]',
      'web: dns  [0/2 renewed]',
      'web: finalize  [0/2 renewed]',
      'web: publish  [0/2 renewed]',
      'web: cleanup  [0/2 renewed]',
      'web: renewed  [1/2 renewed]',
      'api: place  [1/2 renewed]',
      'api: cleanup  [1/2 renewed]',
      'api: failed (AcmeOrderInvalid)  [1/2 renewed, 1 failed]',
    ]);
  });

  it.each([
    ['before CheckExpiry', { renewed: 0, failed: 0, deferred: 0 }, '0/? renewed'],
    ['with failures and deferrals', { due: 50, renewed: 12, failed: 1, deferred: 2 }, '12/50 renewed, 1 failed, 2 deferred'],
  ])('countsText %s', (_case, counts, text) => {
    expect(countsText(counts)).toBe(text);
  });
});
