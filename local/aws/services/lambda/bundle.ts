// Bundles a handler with the options the CDK stack's NodejsFunction is given
// (infra/bundling.ts), so the local runtime executes the same artefact AWS would.
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions, type Message } from 'esbuild';
import { FUNCTION_BUNDLE } from '../../../../infra/bundling.js';

/** A bundle could not be built; the message lists esbuild's errors with their locations. */
export class BundleError extends Error {
  override readonly name = 'BundleError';
}

function describe(messages: Message[]): string {
  return messages
    .map((m) => (m.location ? `${m.location.file}:${m.location.line}:${m.location.column}: ${m.text}` : m.text))
    .join('; ');
}

/** The esbuild call for one bundle: the deployed options, this entry and output. */
export function functionBuildOptions(entry: string, outfile: string) {
  return { ...FUNCTION_BUNDLE, entryPoints: [entry], outfile, logLevel: 'silent', metafile: true } as const satisfies BuildOptions;
}

/**
 * The options and every source file of the last build with its mtime: the
 * bundle is reused while neither the options nor any source changed.
 */
interface BuildStamp {
  readonly options: string;
  readonly inputs: Record<string, number>;
}
const stampPath = (outfile: string) => `${outfile}.inputs.json`;
const OPTIONS_STAMP = JSON.stringify(FUNCTION_BUNDLE);

async function upToDate(outfile: string): Promise<boolean> {
  try {
    const stamp = JSON.parse(await readFile(stampPath(outfile), 'utf8')) as BuildStamp;
    if (stamp.options !== OPTIONS_STAMP) return false;
    await stat(outfile);
    for (const [file, mtimeMs] of Object.entries(stamp.inputs)) {
      if ((await stat(file)).mtimeMs !== mtimeMs) return false;
    }
    return Object.keys(stamp.inputs).length > 0;
  } catch {
    return false;
  }
}

async function bundle(entry: string, outfile: string): Promise<void> {
  await mkdir(dirname(outfile), { recursive: true });
  if (await upToDate(outfile)) return;
  try {
    const result = await build(functionBuildOptions(entry, outfile));
    const inputs: BuildStamp['inputs'] = {};
    for (const input of Object.keys(result.metafile.inputs)) {
      const file = resolve(input);
      const mtimeMs = await stat(file).then((st) => st.mtimeMs, () => undefined);
      // An input that is not a file (a virtual module): no safe reuse of this bundle.
      if (mtimeMs === undefined) return;
      inputs[file] = mtimeMs;
    }
    const stamp: BuildStamp = { options: OPTIONS_STAMP, inputs };
    await writeFile(stampPath(outfile), JSON.stringify(stamp));
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
