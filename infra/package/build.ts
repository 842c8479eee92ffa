// `npm run build` after tsc: what the compiled construct needs beside it to run
// from an installed package with no access to this repository — one bundle per
// function (built with the deployed esbuild options) and the workflow's ASL.
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { RENEWAL_ASL_PATH } from '../../statemachines/definition.js';
import { FUNCTION_BUNDLE } from '../bundling.js';
import { FUNCTIONS } from '../functions.js';
import { BUNDLE_HANDLER_FILE, PREBUILT_BUNDLES_DIR } from './prebuilt.js';

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));

export async function buildPackageAssets(dist: string = DIST): Promise<void> {
  const bundles = join(dist, PREBUILT_BUNDLES_DIR);
  rmSync(bundles, { recursive: true, force: true });
  await Promise.all(
    FUNCTIONS.map((fn) =>
      build({ ...FUNCTION_BUNDLE, entryPoints: [fn.entry], outfile: join(bundles, fn.name, BUNDLE_HANDLER_FILE), logLevel: 'warning' }),
    ),
  );
  mkdirSync(join(dist, 'statemachines'), { recursive: true });
  copyFileSync(RENEWAL_ASL_PATH, join(dist, 'statemachines', 'renewal.asl.json'));
}

await buildPackageAssets();
