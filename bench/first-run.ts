// `npm run bench:first-run`: what a newcomer waits for. Clones this repository
// (its committed HEAD) into a temp dir, runs `npm ci`, then times `npm start`
// twice — the first run starts the local cloud and builds every bundle, the
// second reuses both — with ports and a data dir of its own. Writes
// bench/results/<date>-first-run.json. Not a test: the figures follow the load.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../local/lifecycle/ports.js';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));

interface Timed {
  seconds: number;
  /** Seconds until the first line of progress showed. */
  firstOutputSeconds?: number;
  exitCode: number;
}

function timed(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, log: string): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let first: number | undefined;
    const out = fs.createWriteStream(log);
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const onData = (chunk: Buffer) => {
      // npm echoes the script line first; progress starts at certpipe's first line.
      if (first === undefined && /local cloud/.test(chunk.toString())) first = performance.now();
      out.write(chunk);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => {
      out.end();
      const round = (ms: number) => Math.round(ms / 100) / 10;
      resolve({ seconds: round(performance.now() - started), ...(first ? { firstOutputSeconds: round(first - started) } : {}), exitCode: code ?? 1 });
    });
  });
}

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'certpipe-first-run-'));
  const clone = path.join(work, 'certpipe');
  const dataDir = path.join(work, 'data');
  const loadBefore = os.loadavg().map((l) => Math.round(l * 100) / 100);
  const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim();
  execFileSync('git', ['clone', '--quiet', '--no-hardlinks', REPO, clone]);

  const ports = { local: await freePort(), dns: await freePort(), pebble: await freePort(), pebbleMgmt: await freePort() };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CERTPIPE_LOCAL_PORT: String(ports.local),
    CERTPIPE_DNS_PORT: String(ports.dns),
    CERTPIPE_PEBBLE_PORT: String(ports.pebble),
    CERTPIPE_PEBBLE_MGMT_PORT: String(ports.pebbleMgmt),
    CERTPIPE_DATA_DIR: dataDir,
    NO_COLOR: '1',
  };
  delete env.AWS_ENDPOINT_URL;
  // The example config names Pebble's default port; this run's Pebble listens elsewhere.
  const config = path.join(work, 'certpipe.config.yaml');
  fs.writeFileSync(config, fs.readFileSync(path.join(clone, 'certpipe.config.yaml'), 'utf8').replace('127.0.0.1:14000', `127.0.0.1:${ports.pebble}`));

  try {
    const install = await timed('npm', ['ci', '--no-audit', '--no-fund'], clone, env, path.join(work, 'npm-ci.log'));
    const first = await timed('npm', ['start', '--', '--config', config], clone, env, path.join(work, 'start-1.log'));
    const second = await timed('npm', ['start', '--', '--config', config, '--force'], clone, env, path.join(work, 'start-2.log'));
    const result = {
      date: new Date().toISOString(),
      commit: head,
      machine: { cpus: os.cpus().length, node: process.version, loadAverageBefore: loadBefore, loadAverageAfter: os.loadavg().map((l) => Math.round(l * 100) / 100) },
      npmCi: install,
      firstStart: first,
      secondStart: second,
    };
    console.log(JSON.stringify(result, null, 2));
    const out = path.join(REPO, 'bench', 'results', `${result.date.slice(0, 10)}-first-run.json`);
    fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`written to ${path.relative(REPO, out)}`);
    if ([install, first, second].some((r) => r.exitCode !== 0)) console.log(`a step failed: see the logs in ${work}`);
  } finally {
    execFileSync('npm', ['run', '--silent', 'local:down'], { cwd: clone, env, stdio: 'ignore' });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
