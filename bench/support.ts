// Shared set-up for the benchmarks: a local cloud in a fresh temp dir, synthetic
// configs with N certificates, and a counter of the AWS calls the endpoint serves.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient, type HistoryEvent } from '@aws-sdk/client-sfn';
import type { CertificateSpec } from '../functions/lib/inventory.js';
import { encodeDnsNamesTag, TAG } from '../functions/lib/store/certificateStore.js';
import { validateConfig, type CertpipeConfig } from '../infra/config.js';
import { startLocalCloud, type LocalCloudHandle } from '../local/lifecycle/cloud.js';
import { deployLocal, localSdkConfig, type LocalDeployment } from '../local/deploy.js';
import type { LocalSettings } from '../local/aws/types.js';
import { freePort } from '../local/lifecycle/ports.js';

export const ZONES = ['bench-a.test', 'bench-b.test'] as const;

export interface BenchCloud {
  readonly handle: LocalCloudHandle;
  readonly url: string;
  readonly dataDir: string;
  readonly calls: CallCounter;
  close(): Promise<void>;
}

/** Every AWS request the endpoint serves, by `service.Operation` (read from the fault injector's hook). */
export class CallCounter {
  private counts = new Map<string, number>();

  record(service: string, operation: string): void {
    const key = `${service}.${operation}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  reset(): void {
    this.counts.clear();
  }

  /** Counts without the benchmark driver's own Step Functions calls (start, describe, history). */
  snapshot(): { total: number; byOperation: Record<string, number> } {
    const byOperation: Record<string, number> = {};
    let total = 0;
    for (const [key, n] of [...this.counts].sort()) {
      if (key.startsWith('states.')) continue;
      byOperation[key] = n;
      total += n;
    }
    return { total, byOperation };
  }
}

export async function startBenchCloud(opts: { pebble: boolean; settings?: Partial<LocalSettings> }): Promise<BenchCloud> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'certpipe-bench-'));
  const handle = await startLocalCloud({
    dataDir,
    port: 0,
    dnsPort: 0,
    pebble: opts.pebble
      ? { port: await freePort(), managementPort: await freePort(), validitySeconds: 7_776_000, nonceRejectPercent: 0 }
      : false,
    settings: opts.settings,
  });
  // Every signed AWS request passes the fault injector exactly once (server.ts), so
  // hooking it counts calls without touching the endpoint's code.
  const calls = new CallCounter();
  const faults = handle.aws.faults;
  const evaluate = faults.evaluate.bind(faults);
  faults.evaluate = (call) => {
    calls.record(call.service, call.operation);
    return evaluate(call);
  };
  return {
    handle,
    url: handle.info.endpoint,
    dataDir,
    calls,
    async close() {
      try {
        await handle.close();
      } finally {
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}

/** `n` certificates with two names each, alternating between the two zones. */
export function benchConfig(opts: { n: number; prefix: string; directoryUrl: string; maxConcurrency?: number }): CertpipeConfig {
  const certificates = Array.from({ length: opts.n }, (_, i) => {
    const zone = ZONES[i % ZONES.length];
    const host = `${opts.prefix}${i}`;
    return { name: `${opts.prefix}${i}`, dnsNames: [`${host}.${zone}`, `www.${host}.${zone}`] };
  });
  return validateConfig(
    {
      issuers: [{ name: 'pebble', directoryUrl: opts.directoryUrl, email: 'bench@example.test' }],
      hostedZones: ZONES.map((name) => ({ name })),
      certificates,
      pipeline: {
        maxConcurrency: opts.maxConcurrency ?? 10,
        propagation: { waitSeconds: 1, maxAttempts: 60 },
      },
    },
    'bench config',
  );
}

export async function deployBench(cloud: BenchCloud, config: CertpipeConfig): Promise<{ deployment: LocalDeployment; sfn: SFNClient }> {
  const deployment = await deployLocal(config, {
    endpointUrl: cloud.url,
    dnsPort: cloud.handle.info.dnsPort,
    acmeCaBundlePath: cloud.handle.info.pebbleCaPath,
    acmeManagementUrl: cloud.handle.info.pebbleManagementUrl,
    dataDir: cloud.dataDir,
  });
  return { deployment, sfn: new SFNClient(localSdkConfig(cloud.url)) };
}

export interface HistoryCounts {
  /** States entered. */
  statesEntered: number;
  /** Task retries (a Task scheduled again): Step Functions bills each retry as a transition too. */
  retries: number;
  /** What Standard workflows bill: states entered + retries. */
  transitions: number;
  invocations: number;
}

export function historyCounts(history: readonly HistoryEvent[]): HistoryCounts {
  let statesEntered = 0;
  let tasksEntered = 0;
  let invocations = 0;
  for (const event of history) {
    if (event.type?.endsWith('StateEntered')) statesEntered++;
    if (event.type === 'TaskStateEntered') tasksEntered++;
    if (event.type === 'LambdaFunctionScheduled' || event.type === 'TaskScheduled') invocations++;
  }
  const retries = Math.max(0, invocations - tasksEntered);
  return { statesEntered, retries, transitions: statesEntered + retries, invocations };
}

/**
 * Certificate secrets as PublishCertificate leaves them, but only the tags the scan
 * reads matter: each one issued a day ago for 90 days, so none is due. The secret
 * value holds no key (the scan never reads it).
 */
export async function seedCertificateSecrets(url: string, specs: readonly CertificateSpec[], concurrency = 16): Promise<void> {
  const sm = new SecretsManagerClient({ ...localSdkConfig(url), maxAttempts: 3 });
  const now = Date.now();
  const iso = (offsetDays: number) => new Date(now + offsetDays * 86_400_000).toISOString();
  await pool(specs, concurrency, async (spec) => {
    await sm.send(
      new CreateSecretCommand({
        Name: spec.secretName,
        SecretString: JSON.stringify({ certificateName: spec.name, placeholder: true }),
        Tags: [
          { Key: TAG.managed, Value: 'true' },
          { Key: TAG.certificate, Value: spec.name },
          { Key: TAG.notBefore, Value: iso(-1) },
          { Key: TAG.notAfter, Value: iso(89) },
          { Key: TAG.serial, Value: spec.name.padStart(16, '0') },
          { Key: TAG.issuedAt, Value: iso(-1) },
          { Key: TAG.issuer, Value: spec.issuer },
          { Key: TAG.dnsNames, Value: encodeDnsNamesTag(spec.dnsNames) },
          { Key: TAG.keyAlgorithm, Value: spec.keyAlgorithm },
        ],
      }),
    );
  });
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Runs `work` over `items` with at most `limit` in flight. */
export async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(workers);
}

export const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
