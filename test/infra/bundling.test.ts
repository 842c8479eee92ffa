// The app as `cdk synth` runs it, on the repository's example config, with real
// esbuild bundling (no Docker) and cdk-nag registered as a synth validation:
// the cloud assembly holds both stacks, and each function's bundle is an ESM
// module with the require banner, a source map and the inventory beside it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, PIPELINE_STACK_ID } from '../../infra/app.js';
import { DEFAULT_CONFIG_PATH, loadConfig, toInventory } from '../../infra/config.js';
import { FUNCTIONS } from '../../infra/functions.js';
import { testApp } from './support.js';

const REGION = 'us-east-1';
let assembly: CloudAssembly;
let built: ReturnType<typeof buildApp>;

beforeAll(() => {
  const app = testApp({ bundle: true });
  built = buildApp(app, { configPath: DEFAULT_CONFIG_PATH, region: REGION });
  // Throws when a validation plugin (cdk-nag) reports an error.
  assembly = app.synth();
});

describe('cdk synth of infra/app.ts', () => {
  it('synthesizes the pipeline stack and one stack per target account, without credentials', () => {
    const ids = assembly.stacks.map((s) => s.stackName).sort();
    expect(ids).toEqual([PIPELINE_STACK_ID, 'CertpipeTarget-111111111111']);
    expect(assembly.getStackByName(PIPELINE_STACK_ID).environment).toMatchObject({ region: REGION, account: 'unknown-account' });
    expect(assembly.getStackByName('CertpipeTarget-111111111111').environment).toMatchObject({ account: '111111111111', region: REGION });
  });

  it('bundles every function as minified ESM with the createRequire banner, a source map and the inventory', () => {
    const template = assembly.getStackByName(PIPELINE_STACK_ID).template as { Resources: Record<string, any> };
    const inventory = toInventory(loadConfig(DEFAULT_CONFIG_PATH), { region: REGION });
    const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions).toHaveLength(FUNCTIONS.length);
    for (const fn of functions) {
      const hash = String(fn.Properties.Code.S3Key).replace(/\.zip$/, '');
      const dir = join(assembly.directory, `asset.${hash}`);
      const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
      expect(code.startsWith("import { createRequire } from 'module'; const require = createRequire(import.meta.url);")).toBe(true);
      expect(code).toMatch(/export\s*\{[^}]*\bhandler\b[^}]*\}/);
      // Minified: lines run to thousands of characters on average.
      expect(code.length / code.split('\n').length).toBeGreaterThan(1000);
      expect(existsSync(join(dir, 'index.mjs.map'))).toBe(true);
      expect(JSON.parse(readFileSync(join(dir, 'inventory.json'), 'utf8'))).toEqual(inventory);
      expect(fn.Properties.Environment.Variables.CERTPIPE_INVENTORY).toBe('inventory.json');
    }
  });

  it('takes the pipeline account of the target stacks as a parameter when it is not given', () => {
    const target = assembly.getStackByName('CertpipeTarget-111111111111').template as { Parameters: Record<string, unknown> };
    expect(target.Parameters.PipelineAccountId).toBeDefined();
    expect(built.targets[0]!.access.role.node.path).toBe('CertpipeTarget-111111111111/Access/Role');
  });
});
