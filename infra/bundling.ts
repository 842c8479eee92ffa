// The one set of esbuild options every function bundle is built with: the CDK
// stack's NodejsFunction gets them mapped into its `bundling` props, and the
// local Lambda runtime passes them to esbuild as they are, so a local run
// executes the artefact AWS would. Type-only imports: the local runtime loads
// this without aws-cdk-lib.
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';
import type { BundlingOptions, LogLevel, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';

export const FUNCTION_BUNDLE = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  // The Lambda runtime is nodejs22.x.
  target: 'node22',
  mainFields: ['module', 'main'],
  // Minified: class names change, so the error classes spell out the `name` the ASL's Retry and
  // Catch match (functions/lib/workflow/errors.ts; test/local/bundle-options.test.ts checks it).
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  // Nothing external, the AWS SDK included: the version tests and local runs use is the one deployed.
  external: [],
  // axios requires form-data for multipart uploads ACME never makes; the stub keeps mime-db out.
  alias: { 'form-data': fileURLToPath(new URL('./stubs/form-data.cjs', import.meta.url)) },
  // Bundled CommonJS dependencies call require(); ESM output has none of its own.
  banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
} as const satisfies BuildOptions;

export type FunctionBundleOptions = typeof FUNCTION_BUNDLE;

/** The esbuild options above as NodejsFunction's `bundling` props (it always bundles for platform node). */
export function nodejsBundling(options: FunctionBundleOptions = FUNCTION_BUNDLE) {
  return {
    format: options.format as OutputFormat,
    target: options.target,
    mainFields: [...options.mainFields],
    minify: options.minify,
    sourceMap: options.sourcemap,
    sourcesContent: options.sourcesContent,
    externalModules: [...options.external],
    esbuildArgs: Object.fromEntries(Object.entries(options.alias).map(([name, path]) => [`--alias:${name}`, path])),
    banner: options.banner.js,
    // esbuild's per-file size listing is noise in `cdk synth` and `npm start`; warnings still show.
    logLevel: 'warning' as LogLevel, // LogLevel.WARNING, without loading aws-cdk-lib here
  } satisfies BundlingOptions;
}
