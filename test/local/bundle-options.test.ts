import { fileURLToPath } from 'node:url';
// One set of bundle options (infra/bundling.ts) for the deployed functions and
// the local runtime: the same object feeds NodejsFunction's bundling props and
// the local esbuild call, and both build the same code from the same handler.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { afterAll, describe, expect, it } from 'vitest';
import { FUNCTION_BUNDLE, nodejsBundling } from '../../infra/bundling.js';
import { DEFAULT_CONFIG_PATH, loadConfig, toInventory } from '../../infra/config.js';
import { RenewalFunctions } from '../../infra/constructs/renewal-functions.js';
import { FUNCTIONS } from '../../infra/functions.js';
import { bundleFunction, functionBuildOptions } from '../../local/aws/services/lambda/bundle.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'certpipe-bundle-options-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The code without its last line (`//# sourceMappingURL=<file name>.map`, which names each output file). */
const code = (file: string) => readFileSync(file, 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\n?$/, '');

describe('function bundle options', () => {
  it('target node22, ESM, minified, with source maps and nothing external, in both mappings', () => {
    expect(FUNCTION_BUNDLE).toMatchObject({ target: 'node22', format: 'esm', platform: 'node', minify: true, sourcemap: true, external: [] });
    expect(functionBuildOptions('/x/entry.ts', '/x/out.mjs')).toMatchObject(FUNCTION_BUNDLE);
    expect(nodejsBundling()).toEqual({
      format: 'esm',
      target: 'node22',
      mainFields: ['module', 'main'],
      minify: true,
      sourceMap: true,
      sourcesContent: false,
      externalModules: [],
      esbuildArgs: { '--alias:form-data': FUNCTION_BUNDLE.alias['form-data'] },
      banner: FUNCTION_BUNDLE.banner.js,
      logLevel: 'warning',
    });
  });

  it('the CDK stack and the local runtime build byte-identical code from the same handler', async () => {
    const spec = FUNCTIONS.find((f) => f.name === 'Summarize')!;
    const app = new App({ outdir: join(dir, 'cdk.out') });
    const stack = new Stack(app, 'BundleOptions', { env: { region: 'us-east-1' } });
    const fns = new RenewalFunctions(stack, 'Functions', {
      functions: [spec],
      inventory: toInventory(loadConfig(DEFAULT_CONFIG_PATH), { region: 'us-east-1' }),
      logRetention: logs.RetentionDays.ONE_WEEK,
      logRemovalPolicy: RemovalPolicy.DESTROY,
      tracing: false,
      logLevel: 'INFO',
      extraEnvironment: {},
    });
    const assembly = app.synth();
    const template = assembly.getStackByName('BundleOptions').template as { Resources: Record<string, any> };
    const [fn] = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    const asset = join(assembly.directory, `asset.${String(fn.Properties.Code.S3Key).replace(/\.zip$/, '')}`);
    expect(fns.all).toHaveLength(1);

    const local = join(dir, 'local', 'Summarize.mjs');
    await bundleFunction(spec.entry, local);

    const deployed = code(join(asset, 'index.mjs'));
    expect(deployed.startsWith(FUNCTION_BUNDLE.banner.js)).toBe(true);
    expect(code(local)).toBe(deployed);
  }, 120_000);

  it('minified, every typed error keeps the name the ASL matches', async () => {
    const entry = join(dir, 'errors-entry.ts');
    const { writeFileSync } = await import('node:fs');
    const errorsModule = join(REPO, 'functions/lib/workflow/errors.ts');
    const observability = join(REPO, 'functions/lib/observability.ts');
    writeFileSync(
      entry,
      `export * from ${JSON.stringify(errorsModule)};\nexport { KeyMaterialLeak } from ${JSON.stringify(observability)};\n`,
    );
    const out = join(dir, 'local', 'errors.mjs');
    await bundleFunction(entry, out);
    const minified = await import(out);
    const classes = Object.entries(minified).filter(([, v]) => typeof v === 'function' && (v as { prototype?: unknown }).prototype instanceof Error);
    expect(classes.length).toBeGreaterThan(10);
    for (const [exported, C] of classes) {
      if (exported === 'CertpipeError') continue;
      const instance = new (C as new (m: string, ...rest: unknown[]) => Error)('x', []);
      expect(instance.name, exported).toBe(exported);
    }
  });
});
