// Who may import whom, read from esbuild's import graph (every static and
// literal dynamic import, followed transitively): the CLI works against a
// deployed stack without loading the local cloud, and the benchmarks measure
// what ships, not test internals.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

function sourcesUnder(dir: string): string[] {
  return fs
    .readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') || f.endsWith('.mjs'))
    .map((f) => path.join(root, dir, f));
}

/** Every repository file each entry reaches, as root-relative paths. */
async function reachedFrom(entries: string[]): Promise<Map<string, string[]>> {
  const { metafile } = await build({
    entryPoints: entries,
    bundle: true,
    write: false,
    metafile: true,
    outdir: path.join(root, '.import-graph'),
    platform: 'node',
    format: 'esm',
    packages: 'external',
    logLevel: 'silent',
  });
  const reached = new Map<string, string[]>();
  for (const output of Object.values(metafile.outputs)) {
    if (!output.entryPoint) continue;
    reached.set(path.relative(root, path.resolve(output.entryPoint)), Object.keys(output.inputs).map((i) => path.relative(root, path.resolve(i))));
  }
  return reached;
}

function violations(reached: Map<string, string[]>, forbidden: string): string[] {
  return [...reached].flatMap(([entry, inputs]) => inputs.filter((i) => i.startsWith(forbidden)).map((i) => `${entry} -> ${i}`));
}

describe('import boundaries', () => {
  it('nothing under bin/ reaches local/', async () => {
    const reached = await reachedFrom(sourcesUnder('bin'));
    expect(reached.get(path.join('bin', 'cli.ts'))).toContain(path.join('bin', 'commands', 'context.ts'));
    expect(violations(reached, `local${path.sep}`)).toEqual([]);
  });

  it('nothing under bench/ reaches test/', async () => {
    const reached = await reachedFrom(sourcesUnder('bench'));
    expect(reached.get(path.join('bench', 'run.ts'))?.length).toBeGreaterThan(1);
    expect(violations(reached, `test${path.sep}`)).toEqual([]);
  });

  it('the check sees a forbidden edge: local/start.ts reaches bin/ (allowed there), so the graph follows imports', async () => {
    const reached = await reachedFrom([path.join(root, 'local', 'start.ts')]);
    expect(violations(reached, `bin${path.sep}`)).toContain(`local${path.sep}start.ts -> bin${path.sep}run.ts`);
  });
});
