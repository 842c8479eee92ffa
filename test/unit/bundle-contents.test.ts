// What each function ships, read from esbuild's metafile for the bundle the stack
// builds (infra/bundling.ts: ESM, node22, minified, class names kept): the start-up goal (≤ 1 MiB, ≤ 150 ms import, see
// bench/README.md) held only once acme-client stopped bringing node-forge and a
// second axios, and the functions that only read certificates stopped bundling
// an X.509 library. These checks keep it that way without running the benchmark.
import { build, type Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_BUNDLE } from '../../infra/bundling.js';
import { FUNCTIONS } from '../../infra/functions.js';

const ACME_FUNCTIONS = ['PlaceChallenges', 'FinalizeOrder'];
const MIB = 1024 * 1024;

interface Bundle {
  bytes: number;
  inputs: string[];
}
const bundles = new Map<string, Bundle>();

async function bundle(entry: string): Promise<Bundle> {
  const { metafile } = (await build({
    ...FUNCTION_BUNDLE,
    // The size that ships is the code; the source map beside it is not loaded at run time.
    sourcemap: false,
    entryPoints: [entry],
    write: false,
    outfile: 'index.mjs',
    metafile: true,
    logLevel: 'silent',
  })) as { metafile: Metafile };
  const output = Object.values(metafile.outputs).find((o) => o.entryPoint)!;
  return { bytes: output.bytes, inputs: Object.keys(output.inputs) };
}

const from = (b: Bundle, pattern: RegExp) => b.inputs.filter((i) => pattern.test(i));

beforeAll(async () => {
  for (const fn of FUNCTIONS) bundles.set(fn.name, await bundle(fn.entry));
}, 60_000);

describe('function bundles', () => {
  it('carry no form-data or mime-db (axios multipart, which ACME never uses)', () => {
    for (const [name, b] of bundles) expect(from(b, /node_modules\/(form-data|mime-db|mime-types)\//), name).toEqual([]);
  });

  it.each(FUNCTIONS.map((f) => f.name))('%s ships at most 1 MiB', (name) => {
    expect(bundles.get(name)!.bytes).toBeLessThanOrEqual(MIB);
  });

  it('only the functions that talk to the CA bundle acme-client, and none its index or node-forge', () => {
    const withAcme = [...bundles].filter(([, b]) => from(b, /node_modules\/acme-client\//).length).map(([name]) => name);
    expect(withAcme.sort()).toEqual([...ACME_FUNCTIONS].sort());
    for (const b of bundles.values()) {
      expect(from(b, /node_modules\/acme-client\/src\/index\.js$/)).toEqual([]);
      expect(from(b, /node_modules\/node-forge\//)).toEqual([]);
    }
  });

  it('carries one axios build: the CommonJS one acme-client requires, not the ESM one beside it', () => {
    for (const name of ACME_FUNCTIONS) {
      const b = bundles.get(name)!;
      expect(from(b, /node_modules\/axios\/dist\/node\/axios\.cjs$/)).toHaveLength(1);
      expect(from(b, /node_modules\/axios\/(lib\/|index\.js$)/)).toEqual([]);
    }
  });

  it('bundles no X.509 library of its own: reading and verifying use node:crypto, CSRs use acme-client\'s', () => {
    for (const [name, b] of bundles) {
      // acme-client's own copy sits under acme-client/node_modules; the top-level one is certpipe's.
      expect(from(b, /@peculiar\/x509\//).filter((i) => !i.includes('acme-client/node_modules/')), name).toEqual([]);
      expect(from(b, /node_modules\/(reflect-metadata|tsyringe|asn1js|@peculiar)\//).length > 0, name).toBe(ACME_FUNCTIONS.includes(name));
    }
  });
});
