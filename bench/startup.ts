// Start-up: each function bundled with the options the CDK stack gives
// NodejsFunction (infra/bundling.ts), then its size and the time `node` takes to import it (median of several runs).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { FUNCTION_BUNDLE } from '../infra/bundling.js';
import { FUNCTIONS, functionEnvironment } from '../infra/functions.js';
import { median, round } from './support.js';

const run = promisify(execFile);

export interface StartupResult {
  function: string;
  bundleBytes: number;
  sourceMapBytes: number;
  /** Median time of `await import(bundle)` inside a fresh node process. */
  importMedianMs: number;
  /** Median wall time of `node` importing the bundle minus a bare `node` start. */
  processOverheadMedianMs: number;
  runs: number;
}

async function bundle(entry: string, outDir: string): Promise<string> {
  const outfile = path.join(outDir, 'index.mjs');
  await build({ ...FUNCTION_BUNDLE, entryPoints: [entry], outfile, logLevel: 'silent' });
  return outfile;
}

async function timeImport(file: string, env: NodeJS.ProcessEnv): Promise<number> {
  const script = `const t=performance.now();await import(${JSON.stringify(pathToFileURL(file).href)});process.stdout.write(String(performance.now()-t));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { env });
  return Number(stdout);
}

async function wallMs(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const t0 = performance.now();
  await run(process.execPath, args, { env });
  return performance.now() - t0;
}

export async function startup(runs = 10, log: (line: string) => void = () => {}): Promise<StartupResult[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'certpipe-bench-startup-'));
  try {
    const inventoryPath = path.join(dir, 'inventory.json');
    fs.writeFileSync(inventoryPath, JSON.stringify({ issuers: [], hostedZones: [], certificates: [], resolvers: [] }));
    const results: StartupResult[] = [];
    for (const fn of FUNCTIONS) {
      const file = await bundle(fn.entry, path.join(dir, fn.name));
      // The environment the stack gives the function on Lambda.
      const env = { PATH: process.env.PATH, AWS_REGION: 'us-east-1', ...functionEnvironment(fn, { inventoryPath }) };
      const imports: number[] = [];
      const overheads: number[] = [];
      for (let i = 0; i < runs; i++) {
        imports.push(await timeImport(file, env));
        const bare = await wallMs(['-e', ''], env);
        const loaded = await wallMs(['--input-type=module', '-e', `await import(${JSON.stringify(pathToFileURL(file).href)})`], env);
        overheads.push(loaded - bare);
      }
      const result: StartupResult = {
        function: fn.name,
        bundleBytes: fs.statSync(file).size,
        sourceMapBytes: fs.statSync(`${file}.map`).size,
        importMedianMs: round(median(imports)),
        processOverheadMedianMs: round(median(overheads)),
        runs,
      };
      log(`  ${fn.name}: ${(result.bundleBytes / 1024).toFixed(0)} KiB, import ${result.importMedianMs} ms`);
      results.push(result);
    }
    return results;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
