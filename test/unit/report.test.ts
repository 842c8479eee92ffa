import { describe, expect, it } from 'vitest';
import { certificateRows, renderRows, shortTarget } from '../../bin/report.js';
import type { Inventory } from '../../functions/lib/inventory.js';

const spec = (name: string) => ({
  name,
  dnsNames: [`${name}.example.test`],
  issuer: 'pebble',
  keyAlgorithm: 'ecdsa-p256' as const,
  privateKeyRotation: 'always' as const,
  renewal: { renewAtFractionLeft: 1 / 3 },
  secretName: `certpipe/${name}`,
  hostedZoneIds: {},
  targets: [],
});
const inventory: Inventory = {
  version: 1,
  issuers: [],
  certificates: [spec('web'), spec('api'), spec('old')],
  hostedZones: [],
  resolvers: [],
  eventBusName: 'default',
  propagationMaxAttempts: 30,
};

const at = (s: number) => new Date(Date.UTC(2026, 10, 27, 12, 0, s));
const entered = (name: string, input: unknown, s: number) => ({ timestamp: at(s), stateEnteredEventDetails: { name, input: JSON.stringify(input) } });
const exited = (name: string, output: unknown, s: number) => ({ timestamp: at(s), stateExitedEventDetails: { name, output: JSON.stringify(output) } });
/** The end of one certificate's child execution of RenewEach (a Distributed Map). */
const childEnded = (output: unknown, s: number) => ({ timestamp: at(s), type: 'ExecutionSucceeded', executionSucceededEventDetails: { output: JSON.stringify(output) } });

describe('certificateRows', () => {
  const history = [
    exited('CheckExpiry', {
      check: {
        due: [{ name: 'web', reason: 'DoesNotExist', message: '' }, { name: 'api', reason: 'Expired', message: '' }],
        skipped: [{ name: 'old', reason: 'UpToDate', message: 'fine', renewalTime: '2027-01-01T00:00:00.000Z', notAfter: '2027-02-01T00:00:00.000Z' }],
      },
    }, 1),
    entered('PlaceChallenges', { name: 'web' }, 2),
    entered('PlaceChallenges', { name: 'api' }, 2),
    exited('PlaceChallenges', { name: 'web' }, 5),
    exited('PlaceChallenges', { name: 'api' }, 3),
    entered('WaitForPropagation', { name: 'web' }, 5),
    exited('WaitForPropagation', { name: 'web' }, 7),
    entered('CheckPropagation', { name: 'web' }, 7),
    exited('CheckPropagation', { name: 'web' }, 8),
    childEnded({ name: 'web', outcome: 'renewed', reason: 'DoesNotExist', published: { serial: '01', notAfter: '2027-03-01T00:00:00.000Z', targets: ['secretsmanager:000000000000:us-east-1:certpipe/web', 'acm:111111111111:eu-west-1:arn:aws:acm:eu-west-1:111111111111:certificate/x'] } }, 9),
    // api's child execution itself failed (a quota): only Summarize, reading the ResultWriter's files, knows.
    exited('Summarize', { results: [{ name: 'api', outcome: 'failed', reason: 'Expired', error: 'DnsPropagationTimeout' }, { name: 'web', outcome: 'failed', error: 'ignored: the child says renewed' }] }, 10),
  ];

  it('pairs each certificate with its outcome, targets and step seconds', () => {
    const rows = certificateRows(history as never, inventory);
    expect(rows.map((r) => [r.name, r.outcome])).toEqual([
      ['web', 'renewed'],
      ['api', 'failed'],
      ['old', 'skipped'],
    ]);
    expect(rows[0]!.seconds).toEqual({ place: 3, dns: 3 });
    expect(rows[1]!.seconds).toEqual({ place: 1 });
    expect(rows[1]!.error).toBe('DnsPropagationTimeout');
    expect(rows[2]!.renewalTime).toBe('2027-01-01T00:00:00.000Z');
    const table = renderRows(rows, { wide: true });
    expect(table).toContain('acm 111111111111/eu-west-1');
    expect(table).toContain('UpToDate, renews 2027-01-01 00:00Z');
  });

  it('shows a certificate the CA deferred (Retry-After past the execution) with the time it may retry, its waits counted in place', () => {
    const deferred = [
      exited('CheckExpiry', { check: { due: [{ name: 'web', reason: 'Forced', message: '' }], skipped: [] } }, 1),
      entered('PlaceChallenges', { name: 'web' }, 2),
      exited('PlaceChallenges', { name: 'web' }, 3),
      entered('WaitBeforePlacing', { name: 'web' }, 3),
      exited('WaitBeforePlacing', { name: 'web' }, 8),
      entered('PlaceChallenges', { name: 'web' }, 8),
      exited('PlaceChallenges', { name: 'web' }, 9),
      childEnded({ name: 'web', outcome: 'deferred', reason: 'Forced', error: 'RateLimited', retryAfter: '2026-11-27T14:00:00.000Z' }, 9),
    ];
    const [web] = certificateRows(deferred as never, inventory);
    expect(web).toMatchObject({ outcome: 'deferred', retryAfter: '2026-11-27T14:00:00.000Z', error: 'RateLimited', seconds: { place: 7 } });
    expect(renderRows([web!], { wide: true })).toContain('RateLimited: retry after 2026-11-27 14:00Z');
  });

  it('shortens target ids for the table', () => {
    expect(shortTarget('secretsmanager:000000000000:us-east-1:certpipe/web')).toBe('secret certpipe/web 000000000000/us-east-1');
  });
});
