// The whole local cloud in one process: the AWS endpoint, the authoritative DNS
// server answering from its Route 53 zones, and Pebble validating against that DNS.
// `<dataDir>/cloud.json` (its shape is bin/local-cloud.ts, the CLI's contract)
// tells other processes where a running cloud listens.
import fs from 'node:fs';
import path from 'node:path';
import { cloudInfoPath, readCloudInfo, type CloudInfo } from '../../bin/local-cloud.js';
import type { LocalAws } from '../aws/server.js';
import type { LocalSettings } from '../aws/types.js';
import type { AcmeFront } from '../pebble/acme-front/front.js';
import type { PebbleHandle } from '../pebble/pebble.js';
import { connectHost, urlHost } from './hosts.js';

export interface PebbleOptions {
  /** The ACME directory's port: the front's (local/pebble/acme-front/); Pebble itself listens on a free port behind it. */
  readonly port: number;
  readonly managementPort: number;
  /** Lifetime of issued certificates in seconds. */
  readonly validitySeconds: number;
  /** @default 0 */
  readonly nonceRejectPercent?: number;
  /** @default 0 */
  readonly authzReusePercent?: number;
  readonly extraEnv?: Record<string, string>;
  /** Ports of a second Pebble, the staging CA of the staging gate (its own accounts and root); absent = none. */
  readonly staging?: { readonly port: number; readonly managementPort: number };
}

export interface StartLocalCloudOptions {
  /** State, Pebble's TLS material, logs and cloud.json live here. */
  readonly dataDir: string;
  /** Address every part listens on. @default '127.0.0.1' */
  readonly host?: string;
  /** AWS endpoint port; 0 = ephemeral. */
  readonly port: number;
  /** DNS port (UDP and TCP); 0 = ephemeral. */
  readonly dnsPort: number;
  /** Pebble's fixed ports and knobs; `false` runs without a CA (tests that need no ACME). */
  readonly pebble: PebbleOptions | false;
  readonly settings?: Partial<LocalSettings>;
}

export interface LocalCloudHandle {
  readonly info: CloudInfo;
  readonly aws: LocalAws;
  /** Undefined when started with `pebble: false`. */
  readonly pebble?: PebbleHandle;
  /** The ACME front before Pebble, whose directory is `info.directoryUrl`; undefined without Pebble. */
  readonly acmeFront?: AcmeFront;
  /** The staging CA, when `pebble.staging` asked for one. */
  readonly stagingPebble?: PebbleHandle;
  /** Stops Pebble, DNS and the endpoint, and removes cloud.json. Idempotent. */
  close(): Promise<void>;
}

function writeCloudInfo(info: CloudInfo): void {
  const file = cloudInfoPath(info.dataDir);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(info, null, 2) + '\n');
  fs.renameSync(tmp, file);
}

/** Removes cloud.json only when it still describes `pid` (a newer cloud may have replaced it). */
export function removeCloudInfo(dataDir: string, pid: number): void {
  if (readCloudInfo(dataDir)?.pid === pid) fs.rmSync(cloudInfoPath(dataDir), { force: true });
}

/** Starts the endpoint, then DNS (it reads the endpoint's zones), then Pebble (it asks that DNS). */
export async function startLocalCloud(opts: StartLocalCloudOptions): Promise<LocalCloudHandle> {
  const host = opts.host ?? '127.0.0.1';
  const dialHost = connectHost(host);
  fs.mkdirSync(opts.dataDir, { recursive: true });
  const logDir = path.join(opts.dataDir, 'logs');
  fs.mkdirSync(logDir, { recursive: true });

  // Undo in reverse order, also when a later part fails to start.
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    const errors: unknown[] = [];
    for (const stop of stops.splice(0).reverse()) {
      try {
        await stop();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length) throw new AggregateError(errors, 'the local cloud did not stop cleanly');
  };

  try {
    // Loaded here, not at the top: readers of cloud.json (local:up, local:down, the CLI) stay quick to start.
    const [{ startLocalAws }, { startDnsServer }, { startPebble }, { startAcmeFront }, { acmeFrontRoutes }, { freePort }] = await Promise.all([
      import('../aws/server.js'),
      import('../dns/server.js'),
      import('../pebble/pebble.js'),
      import('../pebble/acme-front/front.js'),
      import('../pebble/acme-front/knobs.js'),
      import('./ports.js'),
    ]);
    const aws = await startLocalAws({ port: opts.port, host, dataDir: path.join(opts.dataDir, 'aws'), settings: opts.settings });
    stops.push(() => aws.close());
    const dns = await startDnsServer({ cloud: aws.cloud, host, port: opts.dnsPort });
    stops.push(() => dns.close());
    let pebble: PebbleHandle | undefined;
    let acmeFront: AcmeFront | undefined;
    if (opts.pebble) {
      pebble = await startPebble({
        dataDir: opts.dataDir,
        dnsServer: `${urlHost(dialHost)}:${dns.port}`,
        host,
        ...opts.pebble,
        port: await freePort(),
      });
      const started = pebble;
      stops.push(() => started.stop());
      // Clients see the front's directory (ARI, profiles, rate-limit answers); Pebble stays behind it.
      const front = await startAcmeFront({
        upstream: new URL(pebble.directoryUrl).origin,
        certPath: path.join(opts.dataDir, 'pebble', 'tls-cert.pem'),
        keyPath: path.join(opts.dataDir, 'pebble', 'tls-key.pem'),
        caPem: pebble.tlsCaPem,
        port: opts.pebble.port,
      });
      acmeFront = front;
      stops.push(() => front.close());
      aws.mountRoutes(acmeFrontRoutes(front));
    }
    let stagingPebble: PebbleHandle | undefined;
    if (opts.pebble && opts.pebble.staging) {
      const { staging, ...knobs } = opts.pebble;
      stagingPebble = await startPebble({
        dataDir: opts.dataDir,
        dnsServer: `${urlHost(dialHost)}:${dns.port}`,
        host,
        ...knobs,
        ...staging,
        instance: 'pebble-staging',
      });
      const started = stagingPebble;
      stops.push(() => started.stop());
    }

    const info: CloudInfo = {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      dataDir: opts.dataDir,
      endpoint: `http://${urlHost(dialHost)}:${aws.port}`,
      port: aws.port,
      dnsHost: dialHost,
      dnsPort: dns.port,
      directoryUrl: acmeFront?.directoryUrl,
      pebbleManagementUrl: pebble?.managementUrl,
      pebbleCaPath: pebble?.tlsCaPath,
      pebblePid: pebble?.pid,
      ...(stagingPebble
        ? { stagingDirectoryUrl: stagingPebble.directoryUrl, stagingPebbleManagementUrl: stagingPebble.managementUrl, stagingPebblePid: stagingPebble.pid }
        : {}),
      logDir,
    };
    writeCloudInfo(info);
    // Removed first on close, so nobody finds a cloud that is shutting down.
    stops.push(async () => removeCloudInfo(opts.dataDir, info.pid));

    let closing: Promise<void> | undefined;
    return { info, aws, pebble, acmeFront, ...(stagingPebble ? { stagingPebble } : {}), close: () => (closing ??= stopAll()) };
  } catch (err) {
    await stopAll().catch(() => undefined);
    throw err;
  }
}
