// Cost: what one renewal and one daily not-due check consume (state transitions,
// Lambda invocations and duration, AWS API calls), priced at AWS list prices.
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { FUNCTIONS } from '../infra/functions.js';
import { runExecution } from '../bin/run.js';
import { benchConfig, deployBench, historyCounts, round, seedCertificateSecrets, startBenchCloud, type HistoryCounts } from './support.js';

/**
 * us-east-1 list prices in USD, as stated in bench/README.md (with their date).
 * Free tiers are left out: they are per account, not per certificate.
 */
export const PRICES = {
  stepFunctionsPerTransition: 0.025 / 1000,
  lambdaPerRequest: 0.2 / 1_000_000,
  /** arm64, which the stack uses. */
  lambdaPerGbSecond: 0.0000133334,
  secretsManagerPerApiCall: 0.05 / 10_000,
  secretsManagerPerSecretMonth: 0.4,
  eventBridgePerEvent: 1.0 / 1_000_000,
  schedulerPerInvocation: 1.0 / 1_000_000,
} as const;

export interface RunUsage {
  history: HistoryCounts;
  /** Sum over invocations of duration × configured memory, from the local run's timestamps. */
  lambdaGbSeconds: number;
  awsCalls: { total: number; byOperation: Record<string, number> };
}

// Deployed names are generated from the template's logical ids (`Certpipe-PipelineFunctionsCheckExpiry…`), which hold the state's name.
const memoryOfFunction = (functionName: string) => FUNCTIONS.find((f) => functionName.includes(`Functions${f.name}`))?.memoryMb;

/**
 * GB-seconds: each invocation's time from LambdaFunctionScheduled to its end event
 * (linked by previousEventId when the history has it, else first-in first-out),
 * times the memory the stack configures for that function.
 */
export function lambdaGbSeconds(history: readonly HistoryEvent[]): number {
  const byId = new Map(history.map((e) => [e.id, e]));
  const memoryFor = (e: HistoryEvent) => memoryOfFunction(e.lambdaFunctionScheduledEventDetails?.resource?.split(':').pop() ?? '') ?? 256;
  const open: HistoryEvent[] = [];
  let total = 0;
  for (const event of history) {
    if (event.type === 'LambdaFunctionScheduled') open.push(event);
    if (event.type !== 'LambdaFunctionSucceeded' && event.type !== 'LambdaFunctionFailed' && event.type !== 'LambdaFunctionTimedOut') continue;
    let cursor = event.previousEventId ? byId.get(event.previousEventId) : undefined;
    while (cursor && cursor.type !== 'LambdaFunctionScheduled') cursor = cursor.previousEventId ? byId.get(cursor.previousEventId) : undefined;
    const index = cursor ? open.indexOf(cursor) : 0;
    const scheduled = open.splice(Math.max(index, 0), 1)[0];
    if (!scheduled) continue;
    const seconds = ((event.timestamp?.getTime() ?? 0) - (scheduled.timestamp?.getTime() ?? 0)) / 1000;
    total += seconds * (memoryFor(scheduled) / 1024);
  }
  return round(total, 2);
}

/** Dollars for one run's usage (storage is priced separately). */
export function priceRun(usage: RunUsage): number {
  const sm = Object.entries(usage.awsCalls.byOperation)
    .filter(([op]) => op.startsWith('secretsmanager.'))
    .reduce((sum, [, n]) => sum + n, 0);
  const events = usage.awsCalls.byOperation['events.PutEvents'] ?? 0;
  return (
    usage.history.transitions * PRICES.stepFunctionsPerTransition +
    usage.history.invocations * PRICES.lambdaPerRequest +
    usage.lambdaGbSeconds * PRICES.lambdaPerGbSecond +
    sm * PRICES.secretsManagerPerApiCall +
    events * PRICES.eventBridgePerEvent +
    PRICES.schedulerPerInvocation
  );
}

export interface NotDueResult extends RunUsage {
  certificates: number;
  status: string;
  wallMs: number;
  dueCount: number | undefined;
  dollarsPerCheck: number;
}

/** The daily check when nothing is due: `n` certificate secrets already issued, one execution. */
export async function notDueCheck(n: number, log: (line: string) => void = () => {}): Promise<NotDueResult> {
  const cloud = await startBenchCloud({ pebble: false });
  try {
    // No CA is contacted when nothing is due; the URL is never dialled.
    const config = benchConfig({ n, prefix: 'nd', directoryUrl: 'https://127.0.0.1:9/dir' });
    const { deployment, sfn } = await deployBench(cloud, config);
    log(`  seeding ${n} certificate secrets…`);
    await seedCertificateSecrets(cloud.url, deployment.inventory.certificates);
    cloud.calls.reset();
    const t0 = performance.now();
    const run = await runExecution(sfn, deployment.stateMachineArn, {}, { pollMs: 100, timeoutMs: 10 * 60_000 });
    const wallMs = performance.now() - t0;
    const checkOutput = run.history.find((e) => e.stateExitedEventDetails?.name === 'CheckExpiry')?.stateExitedEventDetails?.output;
    const usage: RunUsage = {
      history: historyCounts(run.history),
      lambdaGbSeconds: lambdaGbSeconds(run.history),
      awsCalls: cloud.calls.snapshot(),
    };
    return {
      certificates: n,
      status: run.status,
      wallMs: round(wallMs, 0),
      dueCount: checkOutput ? Number(/"dueCount":(\d+)/.exec(checkOutput)?.[1]) : undefined,
      ...usage,
      dollarsPerCheck: priceRun(usage),
    };
  } finally {
    await cloud.close();
  }
}

export interface CertificateYear {
  renewalsPerYear: number;
  checksPerYear: number;
  renewalDollars: number;
  checkDollarsPerCertificate: number;
  /** Execution cost per certificate-year (renewals + its share of the checks). */
  dollarsPerCertificateYear: number;
  /** Storage: the certificate's secret, shown apart. */
  storageDollarsPerCertificateYear: number;
}

/**
 * Per certificate-year, for 90-day certificates renewed with a third of their life
 * left (every 60 days) and the example schedule `rate(12 hours)`.
 */
export function certificateYear(renewal: RunUsage, renewals: number, check: NotDueResult): CertificateYear {
  const renewalsPerYear = 365 / 60;
  const checksPerYear = 365 * 2;
  const renewalDollars = priceRun(renewal) / renewals;
  const checkDollarsPerCertificate = check.dollarsPerCheck / check.certificates;
  return {
    renewalsPerYear: round(renewalsPerYear, 2),
    checksPerYear,
    renewalDollars,
    checkDollarsPerCertificate,
    dollarsPerCertificateYear: renewalsPerYear * renewalDollars + checksPerYear * checkDollarsPerCertificate,
    storageDollarsPerCertificateYear: PRICES.secretsManagerPerSecretMonth * 12,
  };
}
