// `npm run local:down`: stop the background local cloud of the data directory.
// Idempotent: nothing running is a success.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { cloudInfoPath, readCloudInfo } from '../../bin/local-cloud.js';
import { LocalEnvError, readLocalEnv, type LocalEnv } from './env.js';
import { isProcessAlive, processMatches } from './process.js';
import { DAEMON_MARKER, probeCloud } from './up.js';

export interface StopResult {
  /** True when a running cloud was signalled. */
  readonly stopped: boolean;
  readonly pid?: number;
  /** True when it ignored SIGTERM and had to be killed. */
  readonly killed?: boolean;
}

export interface StopOptions {
  /** How long to wait after SIGTERM before SIGKILL; the daemon gives Pebble 5 s of its own. @default 20000 */
  readonly graceMs?: number;
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isProcessAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Stops the local cloud named by `<dataDir>/cloud.json`, if one runs, and removes the file. */
export async function stopLocalCloud(env: LocalEnv = readLocalEnv(), opts: StopOptions = {}): Promise<StopResult> {
  const info = readCloudInfo(env.dataDir);
  if (!info) return { stopped: false };
  // Signal only a process that is really the cloud: a stale file may name a recycled pid.
  const ours = isProcessAlive(info.pid) && (processMatches(info.pid, DAEMON_MARKER) || (await probeCloud(info)).endpoint);
  if (!ours) {
    fs.rmSync(cloudInfoPath(env.dataDir), { force: true });
    return { stopped: false, pid: info.pid };
  }

  kill(info.pid, 'SIGTERM');
  let killed = false;
  if (!(await waitForExit(info.pid, opts.graceMs ?? 20_000))) {
    killed = true;
    // The daemon leads its own process group (spawned detached): take Pebble down with it.
    try {
      process.kill(-info.pid, 'SIGKILL');
    } catch {
      kill(info.pid, 'SIGKILL');
    }
    await waitForExit(info.pid, 5_000);
  }
  if (info.pebblePid !== undefined && processMatches(info.pebblePid, 'pebble')) {
    kill(info.pebblePid, 'SIGKILL');
    await waitForExit(info.pebblePid, 5_000);
  }
  if (readCloudInfo(env.dataDir)?.pid === info.pid) fs.rmSync(cloudInfoPath(env.dataDir), { force: true });
  return { stopped: true, pid: info.pid, killed };
}

const isMain = process.argv[1] !== undefined && pathToFileURL(path.resolve(process.argv[1])).href === import.meta.url;
if (isMain) {
  try {
    const env = readLocalEnv();
    const result = await stopLocalCloud(env);
    if (result.stopped) {
      console.log(`certpipe local cloud stopped (pid ${result.pid}${result.killed ? ', killed after the grace period' : ''})`);
    } else if (result.pid !== undefined) {
      console.log(`certpipe local cloud was not running (removed a stale cloud.json naming pid ${result.pid})`);
    } else {
      console.log(`certpipe local cloud is not running (no ${cloudInfoPath(env.dataDir)})`);
    }
  } catch (err) {
    console.error(err instanceof LocalEnvError ? err.message : err);
    process.exitCode = 1;
  }
}
