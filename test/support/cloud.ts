// Test harness: a whole local cloud in the test process, on ports nobody else
// uses, in a fresh temp directory. Typical use:
//
//   let tc: TestCloud;
//   beforeAll(async () => { tc = await startTestCloud({ pebble: true }); });
//   afterAll(() => tc?.close());
//   const sm = new SecretsManagerClient(tc.sdkConfig());
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LocalCloud, LocalSettings } from '../../local/aws/types.js';
import { startLocalCloud, type LocalCloudHandle } from '../../local/lifecycle/cloud.js';
import { freePort } from '../../local/lifecycle/ports.js';

export { freePort } from '../../local/lifecycle/ports.js';

export const DEFAULT_ACCOUNT = '000000000000';

export interface TestCloudOptions {
  /** Start Pebble too (about a second). @default false */
  readonly pebble?: boolean;
  /** Start a second Pebble as the staging CA (its own accounts and root). @default false */
  readonly stagingPebble?: boolean;
  /** Lifetime of certificates Pebble issues. @default 7776000 (90 days) */
  readonly pebbleValiditySeconds?: number;
  /** Share of nonces Pebble rejects as badNonce. @default 0 */
  readonly nonceRejectPercent?: number;
  /** More PEBBLE_* variables, e.g. `{ PEBBLE_VA_ALWAYS_VALID: '1' }` for a CA that validates nothing. */
  readonly pebbleEnv?: Record<string, string>;
  /** Initial LocalSettings, e.g. `{ insyncDelayMs: 0 }`. */
  readonly settings?: Partial<LocalSettings>;
}

/** A fault rule as `POST /_certpipe/faults` takes it (see local/aws/faults.ts). */
export interface FaultRule {
  readonly service: string;
  readonly operation?: string;
  /** AWS error code, e.g. `ThrottlingException`. */
  readonly error?: string;
  readonly message?: string;
  readonly status?: number;
  readonly count?: number;
  readonly rate?: number;
  readonly latencyMs?: number;
  readonly accountId?: string;
  readonly region?: string;
  /** Only calls whose JSON request has these top-level values. */
  readonly match?: Readonly<Record<string, string>>;
}

/** A fault rule as the endpoint reports it: `hits` is how many calls it answered or delayed. */
export interface FiredFault {
  readonly id: number;
  readonly rule: FaultRule;
  readonly remaining?: number;
  readonly hits: number;
}

export interface SdkConfig {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  maxAttempts: number;
}

export interface TestCloud {
  /** AWS endpoint URL (AWS_ENDPOINT_URL). */
  readonly url: string;
  /** Authoritative DNS server port on 127.0.0.1, UDP and TCP. */
  readonly dnsPort: number;
  /** The ACME directory (the front before Pebble: local/pebble/acme-front/); undefined without `pebble: true`. */
  readonly directoryUrl?: string;
  /** The staging Pebble's ACME directory; undefined without `stagingPebble: true`. */
  readonly stagingDirectoryUrl?: string;
  /** CA of Pebble's listener certificate (trust it for ACME calls); undefined without Pebble. */
  readonly pebbleCaPem?: string;
  readonly dataDir: string;
  /** The endpoint's in-process state, for assertions the APIs cannot make. */
  readonly cloud: LocalCloud;
  readonly handle: LocalCloudHandle;
  /** Client config for `accountId` (a 12-digit access key id is that account). `maxAttempts` 1: faults are seen, not retried. */
  sdkConfig(accountId?: string, region?: string): SdkConfig;
  /** PEM of the root that signs Pebble's certificates (new at each Pebble start). */
  pebbleRootPem(): Promise<string>;
  setFault(rule: FaultRule | FaultRule[]): Promise<void>;
  /** The active fault rules with their hits so far. */
  faults(): Promise<FiredFault[]>;
  /** Removes every fault rule; resolves to the removed rules with their hits. */
  clearFaults(): Promise<FiredFault[]>;
  setSettings(patch: Partial<LocalSettings>): Promise<void>;
  /** Stops everything and deletes the data directory. */
  close(): Promise<void>;
}

/** SDK v3 client config for a local endpoint. */
export function sdkConfig(url: string, accountId = DEFAULT_ACCOUNT, region = 'us-east-1'): SdkConfig {
  return { endpoint: url, region, credentials: { accessKeyId: accountId, secretAccessKey: 'test' }, maxAttempts: 1 };
}

async function postJson<T = unknown>(url: string, method: string, body?: unknown): Promise<T> {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url} answered ${res.status}: ${text}`);
  return (text ? JSON.parse(text) : {}) as T;
}

export async function startTestCloud(opts: TestCloudOptions = {}): Promise<TestCloud> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'certpipe-'));
  let handle: LocalCloudHandle | undefined;
  // A port found free can be taken by a parallel test file before Pebble binds it: retry with new ones.
  for (let attempt = 1; !handle; attempt++) {
    try {
      handle = await startLocalCloud({
        dataDir,
        port: 0,
        dnsPort: 0,
        pebble: opts.pebble
          ? {
              port: await freePort(),
              managementPort: await freePort(),
              validitySeconds: opts.pebbleValiditySeconds ?? 7_776_000,
              nonceRejectPercent: opts.nonceRejectPercent ?? 0,
              ...(opts.pebbleEnv ? { extraEnv: opts.pebbleEnv } : {}),
              ...(opts.stagingPebble ? { staging: { port: await freePort(), managementPort: await freePort() } } : {}),
            }
          : false,
        // Test code calls Route 53 with maxAttempts 1 to see each answer, faster than AWS's
        // 5 requests/s would let it: the request rate is enforced where a test asks for it.
        settings: { route53RequestsPerSecond: 0, ...opts.settings },
      });
    } catch (err) {
      if (!opts.pebble || attempt >= 3) {
        fs.rmSync(dataDir, { recursive: true, force: true });
        throw err;
      }
    }
  }
  const started = handle;
  const { info, pebble } = started;
  const url = info.endpoint;

  let closed = false;
  return {
    url,
    dnsPort: info.dnsPort,
    directoryUrl: info.directoryUrl,
    ...(info.stagingDirectoryUrl ? { stagingDirectoryUrl: info.stagingDirectoryUrl } : {}),
    pebbleCaPem: pebble?.tlsCaPem,
    dataDir,
    cloud: started.aws.cloud,
    handle: started,
    sdkConfig: (accountId, region) => sdkConfig(url, accountId, region),
    pebbleRootPem() {
      if (!pebble) return Promise.reject(new Error('startTestCloud({ pebble: true }) is needed for Pebble'));
      return pebble.rootCertificate();
    },
    setFault: async (rule) => {
      await postJson(`${url}/_certpipe/faults`, 'POST', rule);
    },
    faults: async () => (await postJson<{ faults: FiredFault[] }>(`${url}/_certpipe/faults`, 'GET')).faults,
    clearFaults: async () => (await postJson<{ cleared: FiredFault[] }>(`${url}/_certpipe/faults`, 'DELETE')).cleared,
    setSettings: async (patch) => {
      await postJson(`${url}/_certpipe/settings`, 'POST', patch);
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await started.close();
      } finally {
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}
