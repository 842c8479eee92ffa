// Where an installed package keeps its prebuilt function bundles, and whether the
// construct runs from one (no TypeScript handler beside the compiled construct).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Beside dist/infra/ in the package: dist/function-bundles/<FunctionName>/. */
export const PREBUILT_BUNDLES_DIR = 'function-bundles';
/** NodejsFunction's ESM output name, so the handler is `index.handler` either way. */
export const BUNDLE_HANDLER_FILE = 'index.mjs';

const PACKAGE_DIST = fileURLToPath(new URL('../../', import.meta.url));

/** The prebuilt bundle directory of a function when its source is absent (running from the package); else undefined. */
export function prebuiltBundle(entry: string, functionName: string, dist: string = PACKAGE_DIST): string | undefined {
  if (existsSync(entry)) return undefined;
  const dir = join(dist, PREBUILT_BUNDLES_DIR, functionName);
  if (!existsSync(join(dir, BUNDLE_HANDLER_FILE))) {
    throw new Error(`certpipe: neither ${entry} nor a prebuilt bundle in ${dir}; reinstall the certpipe package`);
  }
  return dir;
}
