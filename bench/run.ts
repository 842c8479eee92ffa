// `npm run bench`: runs the benchmarks, prints a table against the goals and writes
// bench/results/<YYYY-MM-DD>.json. Not a test: numbers depend on the machine and its load.
import fs from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { certificateYear, notDueCheck, type NotDueResult } from './cost.js';
import { budget, type BudgetResult } from './budget.js';
import { scan, type ScanResult } from './scan.js';
import { startup, type StartupResult } from './startup.js';
import { throughput, type ThroughputResult } from './throughput.js';
import { AWS_QUOTAS } from '../local/aws/services/stepfunctions/quotas.js';

// Before any AWS client is made: the tools support Node 20.19+ (Lambda runs nodejs22.x).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const USAGE = `Usage: npm run bench -- [--n 1,10,100] [--only throughput,startup,cost,scan,budget]
                      [--runs 10] [--concurrency 10] [--check-size 1000] [--scan-size 10000] [--out FILE]`;

const GOALS = {
  ratioAt100: 2,
  importMs: 150,
  bundleBytes: 1024 * 1024,
  transitionsPerRenewal: 40,
  invocationsPerRenewal: 8,
  notDueTransitions: 3,
  notDueCalls: 12,
  scanMs: 2000,
  budgetMs: 2000,
};

const mark = (ok: boolean) => (ok ? 'ok' : 'MISSED');

function machine() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()}`,
    node: process.version,
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      n: { type: 'string', default: '1,10,100' },
      only: { type: 'string', default: 'throughput,startup,cost,scan,budget' },
      runs: { type: 'string', default: '10' },
      concurrency: { type: 'string', default: '10' },
      'check-size': { type: 'string', default: '1000' },
      'scan-size': { type: 'string', default: '10000' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return void console.log(USAGE);
  const only = new Set(values.only!.split(','));
  const sizes = values.n!.split(',').map(Number);
  const log = (line: string) => console.error(line);
  const started = new Date();
  const results: {
    date: string;
    machine: ReturnType<typeof machine> & { loadAverageAtEnd?: number[] };
    goals: typeof GOALS;
    throughput?: ThroughputResult[];
    startup?: StartupResult[];
    cost?: { perRenewal?: { fromN: number; transitions: number; invocations: number; retries: number; awsCalls: number }; notDue?: NotDueResult; certificateYear?: ReturnType<typeof certificateYear> };
    scan?: ScanResult;
    budget?: BudgetResult;
  } = { date: started.toISOString(), machine: machine(), goals: GOALS };

  if (only.has('startup')) {
    log('start-up (bundle + import)…');
    results.startup = await startup(Number(values.runs), log);
  }
  if (only.has('throughput') || only.has('cost')) {
    results.throughput = [];
    for (const n of only.has('throughput') ? sizes : [1]) {
      log(`throughput N=${n}…`);
      results.throughput.push(await throughput(n, log, Number(values.concurrency)));
    }
  }
  if (only.has('cost')) {
    log(`cost: not-due check of ${values['check-size']} certificates…`);
    const notDue = await notDueCheck(Number(values['check-size']), log);
    // Per renewal from the largest run that renewed everything (fixed per-execution states shared out).
    const full = [...(results.throughput ?? [])].reverse().find((t) => t.renewed === t.n && t.renewed > 0);
    results.cost = { notDue };
    if (full) {
      results.cost.perRenewal = {
        fromN: full.n,
        transitions: full.history.transitions / full.n,
        invocations: full.history.invocations / full.n,
        retries: full.history.retries / full.n,
        awsCalls: full.awsCalls.total / full.n,
      };
      const usage = { history: full.history, awsCalls: full.awsCalls, lambdaGbSeconds: full.lambdaGbSeconds };
      results.cost.certificateYear = certificateYear(usage, full.n, notDue);
    }
  }
  if (only.has('scan')) {
    log(`scan of ${values['scan-size']} certificate secrets…`);
    results.scan = await scan(Number(values['scan-size']), 5, log);
  }
  if (only.has('budget')) {
    log(`rate-limit budget over ${values['scan-size']} stored certificates…`);
    results.budget = budget(Number(values['scan-size']), 10, log);
  }
  results.machine.loadAverageAtEnd = os.loadavg().map((l) => Math.round(l * 100) / 100);

  const table = new Table({ head: ['benchmark', 'measured', 'goal', ''] });
  for (const t of results.throughput ?? []) {
    table.push([
      `throughput N=${t.n}`,
      `pipeline ${t.pipelineMs} ms (${t.msPerCertPipeline} ms/cert, ${t.pipelineStatus}, ${t.renewed} renewed); floor ${t.floorMs} ms (${t.msPerCertFloor} ms/cert); ratio ${t.ratio}`,
      t.n === 100 ? `ratio ≤ ${GOALS.ratioAt100}` : '(goal at N=100)',
      t.n === 100 ? mark(t.ratio <= GOALS.ratioAt100) : '',
    ]);
  }
  for (const t of results.throughput ?? []) {
    const f = t.fanout;
    table.push([
      `history per certificate (N=${t.n})`,
      `${f.eventsPerCertificate} events, ${f.transitionsPerCertificate} transitions; each child ${f.childEventsMean} events (max ${f.childEventsMax}); parent ${f.parentEvents} events, largest state ${f.largestParentPayloadBytes} B`,
      '',
      '',
    ]);
    table.push([
      'certificates one execution holds',
      `Distributed Map: no execution quota caps it (parent ${f.parentEvents} of ${AWS_QUOTAS.maxHistoryEvents} events whatever N; each certificate ${f.childEventsMax} of ${AWS_QUOTAS.maxHistoryEvents} in its own child; largest parent state ${f.largestParentPayloadBytes} of ${f.maxPayloadBytes} B, capped lists). Inline Map was: ${f.inlineCapacity}`,
      '10,000 due in one run',
      mark(f.childEventsMax < AWS_QUOTAS.maxHistoryEvents && f.largestParentPayloadBytes < f.maxPayloadBytes),
    ]);
  }
  for (const s of results.startup ?? []) {
    table.push([
      `start-up ${s.function}`,
      `${(s.bundleBytes / 1024).toFixed(0)} KiB (+${(s.sourceMapBytes / 1024).toFixed(0)} KiB map); import ${s.importMedianMs} ms (median of ${s.runs})`,
      `≤ ${GOALS.importMs} ms, ≤ 1 MiB`,
      mark(s.importMedianMs <= GOALS.importMs && s.bundleBytes <= GOALS.bundleBytes),
    ]);
  }
  const c = results.cost;
  if (c?.perRenewal) {
    table.push([
      `cost per renewal (N=${c.perRenewal.fromN})`,
      `${c.perRenewal.transitions} transitions, ${c.perRenewal.invocations} invocations, ${c.perRenewal.awsCalls} AWS calls`,
      `≤ ${GOALS.transitionsPerRenewal} transitions, ≤ ${GOALS.invocationsPerRenewal} invocations`,
      mark(c.perRenewal.transitions <= GOALS.transitionsPerRenewal && c.perRenewal.invocations <= GOALS.invocationsPerRenewal),
    ]);
  }
  if (c?.notDue) {
    table.push([
      `not-due check of ${c.notDue.certificates}`,
      `${c.notDue.history.transitions} transitions, ${c.notDue.history.invocations} invocation(s), ${c.notDue.awsCalls.total} AWS calls, ${c.notDue.wallMs} ms, $${c.notDue.dollarsPerCheck.toFixed(6)}`,
      `≤ ${GOALS.notDueTransitions} transitions, ≤ ${GOALS.notDueCalls} calls`,
      mark(c.notDue.history.transitions <= GOALS.notDueTransitions && c.notDue.awsCalls.total <= GOALS.notDueCalls),
    ]);
  }
  if (c?.certificateYear) {
    const y = c.certificateYear;
    table.push([
      'dollars per certificate-year',
      `$${y.dollarsPerCertificateYear.toFixed(5)} execution (${y.renewalsPerYear} renewals, ${y.checksPerYear} checks); storage $${y.storageDollarsPerCertificateYear.toFixed(2)}`,
      '',
      '',
    ]);
  }
  if (results.scan) {
    const s = results.scan;
    table.push([
      `scan of ${s.certificates}`,
      `CheckExpiry warm ${s.warmMedianMs} ms (cold ${s.coldMs} ms), ${s.callsPerScan.total} AWS calls; ListSecrets alone ${s.listOnlyMedianMs} ms`,
      `≤ ${GOALS.scanMs} ms`,
      mark(s.warmMedianMs <= GOALS.scanMs),
    ]);
  }
  if (results.budget) {
    const b = results.budget;
    table.push([
      `budget decision over ${b.certificates}`,
      `${b.medianMs} ms median of ${b.runs} (first ${b.firstMs} ms); ${b.due} due → ${b.admitted} admitted, ${b.deferred} deferred (${b.registeredDomains} registered domains, Let's Encrypt limits)`,
      `≤ ${GOALS.budgetMs} ms`,
      mark(b.firstMs <= GOALS.budgetMs && b.medianMs <= GOALS.budgetMs),
    ]);
  }
  console.log(table.toString());
  console.log(`machine: ${results.machine.cpus} × ${results.machine.cpuModel}, node ${results.machine.node}, load ${results.machine.loadAverageAtStart.join('/')} → ${results.machine.loadAverageAtEnd.join('/')}`);

  const out = values.out ?? new URL(`./results/${started.toISOString().slice(0, 10)}.json`, import.meta.url).pathname;
  fs.mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`written ${out}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench: ${(err as Error).stack ?? err}`);
    process.exit(1);
  },
);
