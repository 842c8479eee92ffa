// Every table and page the CLI prints fits 80 columns by default, however long
// the names, errors and targets; --wide keeps every detail (and may be wider).
import { describe, expect, it } from 'vitest';
import { fitLines, shareWidth, terminalWidth } from '../../bin/layout.js';
import { renderRows, type CertificateRow } from '../../bin/report.js';
import { renderHistory } from '../../bin/commands/history.js';
import { renderInspect } from '../../bin/commands/inspect.js';
import { renderAlarms, renderStatus, type StatusRow } from '../../bin/commands/status.js';

const NARROW = { width: 80, color: false };
const WIDE = { color: false };
/** One column's text, its wrapped lines joined again. */
const column = (table: string, i: number) =>
  table.split('\n').map((line) => line.split('│')[i]?.trim() ?? '').filter(Boolean).join(' ');
const longest = (text: string | string[]) => Math.max(...(Array.isArray(text) ? text : text.split('\n')).map((l) => [...l].length));

const summary: CertificateRow[] = [
  {
    name: 'storefront-europe-production',
    dnsNames: ['shop.example.org.test', 'www.shop.example.org.test', '*.static.shop.example.org.test'],
    outcome: 'renewed',
    reason: 'RenewalWindowOpen',
    notAfter: '2027-02-26T12:00:00.000Z',
    publishedTo: [
      'secretsmanager:000000000000:us-east-1:certpipe/storefront-europe-production',
      'acm:111111111111:eu-west-1:arn:aws:acm:eu-west-1:111111111111:certificate/0f1e2d3c-4b5a-6978-8899-aabbccddeeff',
      'acm:111111111111:us-east-1:arn:aws:acm:us-east-1:111111111111:certificate/0f1e2d3c-4b5a-6978-8899-aabbccddeeff',
    ],
    seconds: { place: 1.2, dns: 14.5, finalize: 3.1, publish: 0.8, cleanup: 0.4 },
  },
  {
    name: 'api',
    dnsNames: ['api.example.test'],
    outcome: 'failed',
    reason: 'Expired',
    error: 'DnsPropagationTimeout: _acme-challenge.api.example.test did not show the expected TXT value at ns1.example.test after 30 attempts',
    publishedTo: [],
    seconds: { place: 0.9, dns: 60.2, cleanup: 0.3 },
  },
  { name: 'old', dnsNames: ['old.example.test'], outcome: 'skipped', reason: 'UpToDate', renewalTime: '2027-01-01T00:00:00.000Z', notAfter: '2027-02-01T00:00:00.000Z', publishedTo: [], seconds: {} },
];

const status: StatusRow[] = [
  {
    name: 'storefront-europe-production',
    dnsNames: ['shop.example.org.test', 'www.shop.example.org.test'],
    serial: '0a1b2c3d4e5f',
    notAfter: '2027-02-26T12:00:00.000Z',
    daysLeft: 89,
    renewal: { due: false, reason: 'UpToDate', message: 'renews when a third of the lifetime is left', renewalTime: '2027-01-27T12:00:00.000Z' } as StatusRow['renewal'],
    lastRun: { executionArn: 'arn:aws:states:us-east-1:000000000000:execution:certpipe-renewal:run-1', outcome: 'failed', failedStep: 'CheckPropagation', error: 'DnsPropagationTimeout: the TXT value never showed at ns1.example.test' } as StatusRow['lastRun'],
    publishedTo: ['secret certpipe/storefront-europe-production', 'acm 111111111111:eu-west-1', 'acm 111111111111:us-east-1', 'secret 222222222222:eu-central-1/certpipe/storefront'],
  },
  { name: 'new', dnsNames: ['new.example.test'], renewal: { due: true, reason: 'DoesNotExist', message: 'no certificate yet' } as StatusRow['renewal'], publishedTo: ['secret certpipe/new'] },
];

const history = [
  {
    executionArn: 'arn:aws:states:us-east-1:000000000000:execution:certpipe-renewal:0f1e2d3c-4b5a-6978-8899-aabbccddeeff',
    name: '0f1e2d3c-4b5a-6978-8899-aabbccddeeff',
    status: 'FAILED',
    startDate: new Date('2026-11-27T12:00:00.000Z'),
    durationSeconds: 95.4,
    failedStep: 'Summarize',
    startedBy: 'arn:aws:sts::000000000000:assumed-role/platform-operators/alice@example.com',
    why: 'certpipe renew storefront-europe-production api --force',
    certificates: [
      { name: 'storefront-europe-production', outcome: 'renewed' },
      { name: 'api', outcome: 'failed', failedStep: 'CheckPropagation', error: 'DnsPropagationTimeout' },
      ...Array.from({ length: 12 }, (_, i) => ({ name: `site-${i}`, outcome: 'skipped' })),
    ],
  },
] as unknown as Parameters<typeof renderHistory>[0];

const inspect = {
  name: 'storefront-europe-production',
  subject: 'CN=shop.example.org.test',
  dnsNames: ['shop.example.org.test', 'www.shop.example.org.test', '*.static.shop.example.org.test', 'checkout.shop.example.org.test'],
  issuer: 'CN=Pebble Intermediate CA 0a1b2c, O=Pebble Test Authority For Very Long Issuer Names',
  serial: '04d2a9f1c3b7e8a6d5c4b3a2918070605040302',
  keyType: 'ECDSA P-256',
  keySize: 256,
  notBefore: '2026-11-28T12:00:00.000Z',
  notAfter: '2027-02-26T12:00:00.000Z',
  fingerprintSha256: 'ab'.repeat(32),
  chain: [{ subject: 'CN=Pebble Intermediate CA 0a1b2c', issuer: 'CN=Pebble Root CA 3d4e5f', notAfter: '2031-11-28T12:00:00.000Z' }],
  secret: { name: 'certpipe/storefront-europe-production', versions: [{ stages: ['AWSCURRENT'], serial: '04d2a9f1c3b7e8a6d5c4b3a2918070605040302', notAfter: '2027-02-26T12:00:00.000Z' }] },
  published: [{ target: 'acm 111111111111:eu-west-1', arn: 'arn:aws:acm:eu-west-1:111111111111:certificate/0f1e2d3c-4b5a-6978-8899-aabbccddeeff' }],
  lastError: { error: 'DnsPropagationTimeout', step: 'CheckPropagation' },
};

describe('output fits 80 columns', () => {
  it('the run summary: certificate, outcome, not-after or reason, where published', () => {
    const table = renderRows(summary, NARROW);
    expect(longest(table)).toBeLessThanOrEqual(80);
    expect(table).toContain('storefront-europe-production');
    expect(table).toMatch(/acm eu-west-1/);
    expect(table).not.toMatch(/finalize s/);
  });

  it('the run summary --wide has the seconds per step and full targets', () => {
    const table = renderRows(summary, { wide: true });
    expect(longest(table)).toBeGreaterThan(80);
    expect(table).toMatch(/finalize s/);
    expect(table).toContain('14.5');
    expect(table).toContain('secret certpipe/storefront-europe-production 000000000000/us-east-1');
  });

  it('status', () => {
    const table = renderStatus(status, NARROW);
    expect(longest(table)).toBeLessThanOrEqual(80);
    expect(table).toContain('failed in');
    expect(renderStatus(status, WIDE)).toContain('www.shop.example.org.test');
  });

  it('the alarm section of status: the reason cut to the width, whole with --wide', () => {
    const alarms = [
      { name: 'Certpipe-ExecutionsFailed', state: 'ALARM', reason: 'Threshold Crossed: 1 out of the last 1 datapoints [1.0 (29/11/26 09:20:00)] was greater than or equal to the threshold (1.0)' },
      { name: 'Certpipe-MinDaysToExpiry', state: 'OK', reason: 'fine' },
    ];
    const narrow = renderAlarms(alarms, NARROW).join('\n');
    expect(longest(narrow)).toBeLessThanOrEqual(80);
    expect(narrow).toContain('ALARM             Certpipe-ExecutionsFailed: Threshold Crossed');
    expect(narrow).not.toContain('fine');
    expect(renderAlarms(alarms, WIDE).join('\n')).toContain('greater than or equal to the threshold (1.0)');
  });

  it('history', () => {
    const table = renderHistory(history, NARROW);
    expect(longest(table)).toBeLessThanOrEqual(80);
    expect(column(table, 5)).toContain('1 renewed, 1 failed, 12 skipped');
    expect(column(table, 4)).toContain('alice@');
    const wide = renderHistory(history, WIDE);
    expect(wide).toContain('0f1e2d3c-4b5a-6978-8899-aabbccddeeff');
    expect(wide).toContain('arn:aws:sts::000000000000:assumed-role/platform-operators/alice@example.com');
    expect(wide).toContain('certpipe renew storefront-europe-production api --force');
  });

  it('history: a revocation sits among the executions by time, who revoked it in the started-by column', () => {
    const revocations = [
      { certificate: 'api', serial: '0a0b0c', reason: 'keyCompromise' as const, at: '2026-11-27T13:00:00.000Z', startedBy: 'arn:aws:sts::000000000000:assumed-role/security/bob@example.com' },
      { certificate: 'old', serial: '01', reason: 'superseded' as const, at: '2026-11-26T13:00:00.000Z' },
    ];
    const table = renderHistory(history, NARROW, revocations);
    expect(longest(table)).toBeLessThanOrEqual(80);
    const rows = table.split('\n').filter((line) => line.includes('REVOKED'));
    expect(rows[0]!.split('│')[4]!.trim()).toMatch(/^bob@/);
    expect(column(table, 5)).toContain('api revoked (keyCompr');
    // A tag written before revocations named anyone.
    expect(rows[1]!.split('│')[4]!.trim()).toMatch(/^unspecifi/);
    const wideRow = renderHistory(history, WIDE, revocations).split('\n').find((line) => line.includes('REVOKED'))!;
    expect(wideRow.split('│')[5]!.trim()).toBe('arn:aws:sts::000000000000:assumed-role/security/bob@example.com');
  });

  it('inspect: the fingerprint on two lines, ARNs only with --wide', () => {
    const lines = renderInspect(inspect, NARROW);
    expect(longest(lines)).toBeLessThanOrEqual(80);
    expect(lines.join('\n')).not.toContain('arn:aws:acm');
    const wide = renderInspect(inspect, WIDE).join('\n');
    expect(wide).toContain('arn:aws:acm:eu-west-1');
    expect(wide).toContain(`${'AB:'.repeat(31)}AB`);
  });
});

describe('layout', () => {
  it.each([
    ['unknown width: 80', undefined, {}, 80],
    ['a wide terminal is used', 132, {}, 132],
    ['COLUMNS when there is no terminal', undefined, { COLUMNS: '100' }, 100],
    ['never below 80', 60, {}, 80],
  ])('terminalWidth: %s', (_case, columns, env, expected) => {
    expect(terminalWidth(columns, env)).toBe(expected);
  });

  it('shareWidth keeps narrow columns and shares the rest among wide ones', () => {
    expect(shareWidth([10, 10], 40)).toEqual([10, 10]);
    expect(shareWidth([10, 100, 100], 70)).toEqual([10, 30, 30]);
    expect(shareWidth([40, 100, 100], 70, [0])).toEqual([35, 17, 18]);
  });

  it('fitLines wraps at a space under a hanging indent, and cuts words that cannot wrap', () => {
    expect(fitLines(['  key  aaa bbb ccc'], 12)).toEqual(['  key  aaa', '      bbb', '      ccc']);
    expect(fitLines(['x'.repeat(25)], 10).every((l) => l.length <= 10)).toBe(true);
  });
});
