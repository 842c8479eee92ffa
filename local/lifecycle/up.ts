// `npm run local:up`: make sure the local cloud runs in the background, starting the
// daemon when needed, and return once every part answers. `ensureLocalCloud` is
// reused by `npm start` and the CLI.
import { spawn } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { readCloudInfo, type CloudInfo } from '../../bin/local-cloud.js';
import { LocalEnvError, readLocalEnv, repoRoot, type LocalEnv } from './env.js';
import { httpsGetText } from '../pebble/https.js';
import { isProcessAlive, processMatches, tailFile } from './process.js';

export type { CloudInfo } from '../../bin/local-cloud.js';

/** Marker in the daemon's command line, to tell it from an unrelated process that reused its pid. */
export const DAEMON_MARKER = path.join('local', 'lifecycle', 'daemon.ts');

export interface EnsureLocalCloudOptions {
  /** @default 90000 */
  readonly timeoutMs?: number;
  /** Progress lines. @default silent */
  readonly log?: (line: string) => void;
}

/** The local cloud failed to start or to answer; the message carries the daemon log's tail. */
export class LocalCloudStartFailed extends Error {
  override readonly name = 'LocalCloudStartFailed';
}

export interface CloudProbe {
  readonly endpoint: boolean;
  readonly dns: boolean;
  readonly pebble: boolean;
}

function getStatus(url: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

// Any DNS answer, NXDOMAIN and REFUSED included, proves a server is listening.
const DNS_ANSWER_CODES = new Set(['ENOTFOUND', 'ENODATA', 'EREFUSED', 'ESERVFAIL', 'ENOTIMP', 'EFORMERR', 'EBADRESP']);

async function dnsAnswers(host: string, port: number, timeoutMs: number): Promise<boolean> {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 1 });
  resolver.setServers([`${host.includes(':') ? `[${host}]` : host}:${port}`]);
  try {
    await resolver.resolveSoa('certpipe-probe.invalid');
    return true;
  } catch (err) {
    return DNS_ANSWER_CODES.has((err as NodeJS.ErrnoException).code ?? '');
  }
}

/** Which parts of a cloud answer right now (a cloud without Pebble counts its Pebble as answering). */
export async function probeCloud(info: CloudInfo, timeoutMs = 2_000): Promise<CloudProbe> {
  const pebble = async () => {
    if (!info.directoryUrl || !info.pebbleCaPath) return true;
    try {
      const ca = fs.readFileSync(info.pebbleCaPath, 'utf8');
      return (await httpsGetText(info.directoryUrl, ca, timeoutMs)).status === 200;
    } catch {
      return false;
    }
  };
  const [endpoint, dns, pebbleUp] = await Promise.all([
    getStatus(`${info.endpoint}/_certpipe/health`, timeoutMs).then((s) => s === 200),
    dnsAnswers(info.dnsHost, info.dnsPort, timeoutMs),
    pebble(),
  ]);
  return { endpoint, dns, pebble: pebbleUp };
}

const allUp = (p: CloudProbe) => p.endpoint && p.dns && p.pebble;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function daemonLogPath(env: LocalEnv): string {
  return path.join(env.dataDir, 'logs', 'daemon.log');
}

function startFailed(message: string, env: LocalEnv): LocalCloudStartFailed {
  const log = daemonLogPath(env);
  const tail = tailFile(log, 25);
  return new LocalCloudStartFailed(tail ? `${message}\nlast lines of ${log}:\n${tail}` : message);
}

/** Returns the running local cloud of `env.dataDir`, starting the daemon when none runs. */
export async function ensureLocalCloud(env: LocalEnv = readLocalEnv(), opts: EnsureLocalCloudOptions = {}): Promise<CloudInfo> {
  const log = opts.log ?? (() => undefined);
  const timeoutMs = opts.timeoutMs ?? 90_000;

  const existing = readCloudInfo(env.dataDir);
  if (existing && isProcessAlive(existing.pid)) {
    // A daemon that wrote cloud.json has finished starting; give a busy one a few tries.
    for (let attempt = 0; attempt < 5; attempt++) {
      if ((await probeCloud(existing)).endpoint) return existing;
      await sleep(500);
    }
    if (processMatches(existing.pid, DAEMON_MARKER)) {
      throw startFailed(`the local cloud process ${existing.pid} runs but does not answer; run npm run local:down`, env);
    }
  }
  if (existing) {
    log(`removing stale ${path.join(env.dataDir, 'cloud.json')} (no local cloud answers as pid ${existing.pid})`);
    fs.rmSync(path.join(env.dataDir, 'cloud.json'), { force: true });
  }

  const logPath = daemonLogPath(env);
  fs.mkdirSync(path.dirname(logPath), { recursive: true });
  const logFd = fs.openSync(logPath, 'a');
  // One node process, no tsx CLI wrapper: the pid in cloud.json is the one that gets the signals.
  const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const daemonPath = path.join(repoRoot, DAEMON_MARKER);
  const child = spawn(process.execPath, ['--import', tsxLoader, daemonPath], {
    cwd: repoRoot,
    detached: true,
    stdio: ['ignore', logFd, logFd],
    env: {
      ...process.env,
      CERTPIPE_LOCAL_PORT: String(env.port),
      CERTPIPE_LOCAL_HOST: env.host,
      CERTPIPE_DNS_PORT: String(env.dnsPort),
      CERTPIPE_DATA_DIR: env.dataDir,
      CERTPIPE_PEBBLE_PORT: String(env.pebblePort),
      CERTPIPE_PEBBLE_MGMT_PORT: String(env.pebbleManagementPort),
      CERTPIPE_PEBBLE_STAGING_PORT: String(env.stagingPebblePort),
      CERTPIPE_PEBBLE_STAGING_MGMT_PORT: String(env.stagingPebbleManagementPort),
      CERTPIPE_PEBBLE_VALIDITY_SECONDS: String(env.pebbleValiditySeconds),
      ...(env.insyncDelayMs !== undefined ? { CERTPIPE_INSYNC_DELAY_MS: String(env.insyncDelayMs) } : {}),
      ...(env.dnsLagMs !== undefined ? { CERTPIPE_DNS_LAG_MS: String(env.dnsLagMs) } : {}),
    },
  });
  fs.closeSync(logFd);
  const pid = child.pid;
  if (pid === undefined) throw startFailed(`could not spawn the local cloud daemon (${daemonPath})`, env);
  let exitCode: number | null | undefined;
  child.once('exit', (code, signal) => {
    exitCode = code ?? (signal ? -1 : null);
  });
  child.unref();
  log(`started the local cloud daemon (pid ${pid}), log ${logPath}`);

  const deadline = Date.now() + timeoutMs;
  let last: CloudProbe | undefined;
  for (;;) {
    if (exitCode !== undefined || !isProcessAlive(pid)) {
      throw startFailed(`the local cloud daemon exited while starting (code ${exitCode ?? 'unknown'})`, env);
    }
    const info = readCloudInfo(env.dataDir);
    if (info?.pid === pid) {
      last = await probeCloud(info);
      if (allUp(last)) return info;
    }
    if (Date.now() > deadline) {
      // Do not leave a half-started daemon holding the ports.
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
      const waiting = last ? Object.entries(last).filter(([, up]) => !up).map(([part]) => part).join(', ') : 'cloud.json';
      throw startFailed(`the local cloud did not answer within ${timeoutMs} ms (waiting for ${waiting})`, env);
    }
    await sleep(200);
  }
}

export function describeCloud(info: CloudInfo): string {
  return [
    `certpipe local cloud is running (pid ${info.pid})`,
    `  AWS endpoint    ${info.endpoint}   (AWS_ENDPOINT_URL)`,
    `  DNS             ${info.dnsHost}:${info.dnsPort} (UDP and TCP)`,
    `  ACME directory  ${info.directoryUrl ?? '(no Pebble)'}`,
    ...(info.stagingDirectoryUrl ? [`  Staging ACME    ${info.stagingDirectoryUrl}`] : []),
    ...(info.pebbleCaPath ? [`  Pebble TLS CA   ${info.pebbleCaPath}`] : []),
    `  Data            ${info.dataDir}`,
    `  Logs            ${info.logDir}`,
  ].join('\n');
}

const isMain = process.argv[1] !== undefined && pathToFileURL(path.resolve(process.argv[1])).href === import.meta.url;
if (isMain) {
  try {
    const env = readLocalEnv();
    const info = await ensureLocalCloud(env, { log: (line) => console.log(line) });
    console.log(describeCloud(info));
  } catch (err) {
    console.error(err instanceof LocalEnvError || err instanceof LocalCloudStartFailed ? err.message : err);
    process.exitCode = 1;
  }
}
