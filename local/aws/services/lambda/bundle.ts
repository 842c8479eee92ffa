// Bundles a handler the way the CDK stack's NodejsFunction does (local esbuild,
// ESM, Node 20), so the local runtime executes the same artefact AWS would.
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions, type Message } from 'esbuild';

/**
 * The esbuild options of every function bundle. infra/ must give NodejsFunction the
 * same (format ESM, target node20, source maps, this banner, nothing external),
 * or local runs stop proving anything about the deployed code.
 */
export const LAMBDA_BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  mainFields: ['module', 'main'],
  // Bundled CommonJS dependencies call require(); ESM output has none of its own.
  banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
} as const satisfies BuildOptions;

/** A bundle could not be built; the message lists esbuild's errors with their locations. */
export class BundleError extends Error {
  override readonly name = 'BundleError';
}

function describe(messages: Message[]): string {
  return messages
    .map((m) => (m.location ? `${m.location.file}:${m.location.line}:${m.location.column}: ${m.text}` : m.text))
    .join('; ');
}

/** Every source file of the last build with its mtime: the bundle is reused while none changed. */
type InputStamps = Record<string, number>;
const stampsPath = (outfile: string) => `${outfile}.inputs.json`;

async function upToDate(outfile: string): Promise<boolean> {
  try {
    const stamps = JSON.parse(await readFile(stampsPath(outfile), 'utf8')) as InputStamps;
    await stat(outfile);
    for (const [file, mtimeMs] of Object.entries(stamps)) {
      if ((await stat(file)).mtimeMs !== mtimeMs) return false;
    }
    return Object.keys(stamps).length > 0;
  } catch {
    return false;
  }
}

async function bundle(entry: string, outfile: string): Promise<void> {
  await mkdir(dirname(outfile), { recursive: true });
  if (await upToDate(outfile)) return;
  try {
    const result = await build({ ...LAMBDA_BUNDLE_OPTIONS, entryPoints: [entry], outfile, logLevel: 'silent', metafile: true });
    const stamps: InputStamps = {};
    for (const input of Object.keys(result.metafile.inputs)) {
      const file = resolve(input);
      const mtimeMs = await stat(file).then((st) => st.mtimeMs, () => undefined);
      // An input that is not a file (a virtual module): no safe reuse of this bundle.
      if (mtimeMs === undefined) return;
      stamps[file] = mtimeMs;
    }
    await writeFile(stampsPath(outfile), JSON.stringify(stamps));
  } catch (err) {
    const errors = (err as { errors?: Message[] }).errors;
    throw new BundleError(`Could not bundle ${entry}: ${errors?.length ? describe(errors) : (err as Error).message}`);
  }
}

/** Bundles a function's `entry` into `outfile` (an `.mjs` file, with its `.map` beside it). */
export function bundleFunction(entry: string, outfile: string): Promise<void> {
  return bundle(entry, outfile);
}

/** Bundles the worker bootstrap (the local stand-in for the Lambda runtime) into `outfile`. */
export function bundleBootstrap(outfile: string): Promise<void> {
  return bundle(fileURLToPath(new URL('./bootstrap.ts', import.meta.url)), outfile);
}
