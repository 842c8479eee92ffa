// Scale of the inventory scan: CheckExpiry over many certificate secrets, run by
// the local Lambda runtime exactly as the workflow runs it (a cold start, then warm).
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { scanInventory } from '../functions/lib/store/certificateStore.js';
import { localSdkConfig } from '../local/deploy.js';
import { invokeFunction } from '../local/aws/services/lambda/registry.js';
import { benchConfig, deployBench, median, round, seedCertificateSecrets, startBenchCloud } from './support.js';

export interface ScanResult {
  certificates: number;
  seedMs: number;
  coldMs: number;
  warmMs: number[];
  warmMedianMs: number;
  callsPerScan: { total: number; byOperation: Record<string, number> };
  /** The same paginated ListSecrets from the benchmark process: the endpoint's share of the time. */
  listOnlyMedianMs: number;
  dueCount: number | undefined;
}

export async function scan(n: number, warmRuns = 5, log: (line: string) => void = () => {}): Promise<ScanResult> {
  const cloud = await startBenchCloud({ pebble: false });
  try {
    const config = benchConfig({ n, prefix: 's', directoryUrl: 'https://127.0.0.1:9/dir' });
    const { deployment } = await deployBench(cloud, config);
    log(`  seeding ${n} certificate secrets…`);
    const s0 = performance.now();
    await seedCertificateSecrets(cloud.url, deployment.inventory.certificates);
    const seedMs = performance.now() - s0;

    const invoke = async () => {
      cloud.calls.reset();
      const t0 = performance.now();
      const result = await invokeFunction(cloud.url, deployment.functionArns.CheckExpiry!, {});
      const ms = performance.now() - t0;
      if (!result.ok) throw new Error(`CheckExpiry failed: ${result.errorType}: ${result.errorMessage}`);
      return { ms, payload: result.payload as { dueCount?: number }, calls: cloud.calls.snapshot() };
    };
    log('  CheckExpiry cold…');
    const cold = await invoke();
    const warm = [];
    for (let i = 0; i < warmRuns; i++) warm.push(await invoke());
    const warmMs = warm.map((w) => round(w.ms, 0));
    const sm = new SecretsManagerClient(localSdkConfig(cloud.url));
    const listOnly: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      await scanInventory(sm, deployment.inventory.certificates);
      listOnly.push(round(performance.now() - t0, 0));
    }
    return {
      certificates: n,
      seedMs: round(seedMs, 0),
      coldMs: round(cold.ms, 0),
      warmMs,
      warmMedianMs: median(warmMs),
      callsPerScan: warm.at(-1)!.calls,
      listOnlyMedianMs: median(listOnly),
      dueCount: warm.at(-1)!.payload.dueCount,
    };
  } finally {
    await cloud.close();
  }
}
