// Pebble, Let's Encrypt's test CA, as a child process: installation check, its
// config, start and stop (its listener's TLS material is tls.ts).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { connectHost, urlHost } from '../lifecycle/hosts.js';
import { isProcessAlive, processMatches, tailFile } from '../lifecycle/process.js';
import { httpsGetText } from './https.js';
import { ensurePebbleTls, writeFileAtomic } from './tls.js';

export interface StartPebbleOptions {
  /** Pebble keeps its TLS material in `<dataDir>/pebble/` and logs to `<dataDir>/logs/pebble.log`. */
  readonly dataDir: string;
  /** `host:port` of the DNS server Pebble resolves challenge names with. */
  readonly dnsServer: string;
  /** ACME listener port (fixed: Pebble takes no port 0). */
  readonly port: number;
  readonly managementPort: number;
  /** Address Pebble listens on. @default '127.0.0.1' */
  readonly host?: string;
  /** Lifetime of issued certificates (Pebble's certificateValidityPeriod). */
  readonly validitySeconds: number;
  /**
   * Share of good nonces Pebble rejects as badNonce. Pebble's own default is 5;
   * we default to 0 so runs are reproducible, and tests of the retry path opt in.
   * @default 0
   */
  readonly nonceRejectPercent?: number;
  /**
   * Share of new orders for which Pebble reuses a still-valid authorization (no new
   * challenge). Pebble's default is 50; 0 makes every order need its DNS-01 challenge.
   * @default 0
   */
  readonly authzReusePercent?: number;
  /**
   * External account binding: key id → base64url HMAC key. When given, Pebble
   * registers no account without a binding to one of them (externalAccountBindingRequired).
   */
  readonly externalAccountMACKeys?: Readonly<Record<string, string>>;
  /** More PEBBLE_* variables (e.g. PEBBLE_CHAIN_LENGTH). */
  readonly extraEnv?: Record<string, string>;
  /** @default 30000 */
  readonly startTimeoutMs?: number;
  /**
   * Names this Pebble's config, pid and log files, so a second one (the staging
   * CA) runs beside the first from the same data directory; both share the
   * listener TLS material. @default 'pebble'
   */
  readonly instance?: string;
}

export interface PebbleHandle {
  /** e.g. https://127.0.0.1:14000/dir */
  readonly directoryUrl: string;
  /** e.g. https://127.0.0.1:15000 */
  readonly managementUrl: string;
  /** CA that signed Pebble's listener certificate: trust it to talk to Pebble. */
  readonly tlsCaPem: string;
  readonly tlsCaPath: string;
  readonly pid: number;
  /** PEM of the root that signs issued certificates. Pebble makes a new one at every start. */
  rootCertificate(): Promise<string>;
  /** SIGTERM, then SIGKILL after a grace period. Idempotent. */
  stop(): Promise<void>;
}

/** Pebble is not installed and cannot be installed from here. */
export class PebbleNotInstalled extends Error {
  override readonly name = 'PebbleNotInstalled';
}

/** Pebble exited or did not answer while starting. */
export class PebbleStartFailed extends Error {
  override readonly name = 'PebbleStartFailed';
}

const STOP_GRACE_MS = 5_000;

function findOnPath(command: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  // Debian installs to /usr/bin; a trimmed PATH (e.g. under some runners) may lack it.
  for (const dir of [...dirs, '/usr/bin']) {
    const candidate = path.join(dir, command);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Path of the `pebble` binary; installs the Debian package when missing and running as root. */
export async function ensurePebbleInstalled(): Promise<string> {
  const found = findOnPath('pebble');
  if (found) return found;
  const isRoot = process.getuid?.() === 0;
  const hasApt = findOnPath('apt-get') !== undefined;
  if (!isRoot || !hasApt) {
    throw new PebbleNotInstalled(
      'Pebble (Let\'s Encrypt\'s test CA) is not installed. Install the Debian package "pebble" ' +
        '(sudo apt-get install -y pebble) or put a pebble binary on PATH, then retry.',
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', 'pebble']]) {
    const result = spawnSync('apt-get', args, { env, encoding: 'utf8' });
    if (result.status !== 0) {
      const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-5).join('\n');
      throw new PebbleNotInstalled(`apt-get ${args.join(' ')} failed; install the Debian package "pebble" by hand.\n${output}`);
    }
  }
  const installed = findOnPath('pebble');
  if (!installed) throw new PebbleNotInstalled('apt-get installed "pebble" but no pebble binary is on PATH');
  return installed;
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isProcessAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** A Pebble left behind by a crashed run with this data directory still holds its ports: end it. */
async function reapStalePebble(pidFile: string, configPath: string): Promise<void> {
  let pid: number;
  try {
    pid = Number.parseInt(fs.readFileSync(pidFile, 'utf8'), 10);
  } catch {
    return;
  }
  if (Number.isInteger(pid) && pid > 0 && processMatches(pid, configPath)) {
    process.kill(pid, 'SIGKILL');
    await waitForExit(pid, STOP_GRACE_MS);
  }
  fs.rmSync(pidFile, { force: true });
}

/** Fails fast, naming the port, when something already listens there (Pebble would only log it). */
function assertPortFree(host: string, port: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (err: NodeJS.ErrnoException) =>
      reject(new PebbleStartFailed(`${what} port ${port} on ${host} is not available (${err.code ?? err.message})`)),
    );
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

/** Starts Pebble and resolves once its directory answers over TLS. */
export async function startPebble(opts: StartPebbleOptions): Promise<PebbleHandle> {
  const binary = await ensurePebbleInstalled();
  const pebbleDir = path.join(opts.dataDir, 'pebble');
  const logDir = path.join(opts.dataDir, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  const tls = await ensurePebbleTls(pebbleDir);

  const listenHost = opts.host ?? '127.0.0.1';
  const host = urlHost(connectHost(listenHost));
  const instance = opts.instance ?? 'pebble';
  const configPath = path.join(pebbleDir, `${instance}-config.json`);
  const pidFile = path.join(pebbleDir, `${instance}.pid`);
  await reapStalePebble(pidFile, configPath);
  if (opts.port === opts.managementPort) {
    throw new PebbleStartFailed(`Pebble's ACME and management listeners both on port ${opts.port}: give them different ports`);
  }
  await assertPortFree(listenHost, opts.port, 'Pebble\'s ACME');
  await assertPortFree(listenHost, opts.managementPort, 'Pebble\'s management');

  const config = {
    pebble: {
      listenAddress: `${urlHost(listenHost)}:${opts.port}`,
      managementListenAddress: `${urlHost(listenHost)}:${opts.managementPort}`,
      certificate: tls.certPath,
      privateKey: tls.keyPath,
      // Ports Pebble's VA dials for http-01 / tls-alpn-01; certpipe uses dns-01 only.
      httpPort: 5002,
      tlsPort: 5001,
      ocspResponderURL: '',
      externalAccountBindingRequired: opts.externalAccountMACKeys !== undefined,
      ...(opts.externalAccountMACKeys ? { externalAccountMACKeys: opts.externalAccountMACKeys } : {}),
      certificateValidityPeriod: opts.validitySeconds,
    },
  };
  writeFileAtomic(configPath, JSON.stringify(config, null, 2) + '\n', 0o644);

  const logPath = path.join(logDir, `${instance}.log`);
  const logFd = fs.openSync(logPath, 'a');
  fs.writeSync(logFd, `--- ${new Date().toISOString()} starting pebble on ${config.pebble.listenAddress}, dns ${opts.dnsServer}\n`);
  let child: ChildProcess;
  try {
    const args = ['-config', configPath, '-dnsserver', opts.dnsServer];
    // On Linux the kernel kills Pebble when we die, even by SIGKILL (the exit hook below cannot).
    const setpriv = process.platform === 'linux' ? findOnPath('setpriv') : undefined;
    const [command, argv] = setpriv ? [setpriv, ['--pdeathsig', 'KILL', '--', binary, ...args]] : [binary, args];
    child = spawn(command, argv, {
      env: {
        ...process.env,
        PEBBLE_VA_NOSLEEP: '1',
        PEBBLE_WFE_NONCEREJECT: String(opts.nonceRejectPercent ?? 0),
        PEBBLE_AUTHZREUSE: String(opts.authzReusePercent ?? 0),
        ...opts.extraEnv,
      },
      stdio: ['ignore', logFd, logFd],
    });
  } finally {
    fs.closeSync(logFd);
  }
  const pid = child.pid;
  if (pid === undefined) throw new PebbleStartFailed(`could not spawn ${binary}`);
  fs.writeFileSync(pidFile, `${pid}\n`);

  let exited = false;
  const exitedPromise = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  // Never outlive the process that started us.
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        await exitedPromise;
        clearTimeout(timer);
      }
      process.off('exit', killOnExit);
      fs.rmSync(pidFile, { force: true });
    })());

  const directoryUrl = `https://${host}:${opts.port}/dir`;
  const managementUrl = `https://${host}:${opts.managementPort}`;
  const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
  for (;;) {
    if (exited) {
      await stop();
      throw new PebbleStartFailed(`pebble exited while starting; last lines of ${logPath}:\n${tailFile(logPath, 15)}`);
    }
    try {
      const res = await httpsGetText(directoryUrl, tls.caPem, 1_000);
      // Still running: the answer came from our Pebble, not from whoever held the port.
      if (res.status === 200 && !exited) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new PebbleStartFailed(`pebble did not answer ${directoryUrl} in time; last lines of ${logPath}:\n${tailFile(logPath, 15)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    directoryUrl,
    managementUrl,
    tlsCaPem: tls.caPem,
    tlsCaPath: tls.caPath,
    pid,
    async rootCertificate() {
      const res = await httpsGetText(`${managementUrl}/roots/0`, tls.caPem);
      if (res.status !== 200) throw new Error(`GET ${managementUrl}/roots/0 answered ${res.status}`);
      return res.body;
    },
    stop,
  };
}
