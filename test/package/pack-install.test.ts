// SLOW (about a minute): packs certpipe as `npm pack` would publish it, installs the
// tarball into a scratch CDK app (TypeScript, its own cdk.json) in a temp dir and
// synthesizes a stack that uses the construct with an inline config. Proves the
// package carries everything a consuming app needs: compiled construct, types,
// function bundles and ASL, with no access to this repository.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const installed = (name: string): string => JSON.parse(readFileSync(join(REPO, 'node_modules', name, 'package.json'), 'utf8')).version;

const APP = `import { App, Stack } from 'aws-cdk-lib';
import { CertificateRenewalPipeline, toInventory, validateConfig, type CertpipeConfigInput } from 'certpipe/cdk';

const config: CertpipeConfigInput = {
  issuers: [{ name: 'le', directoryUrl: 'https://acme-staging-v02.api.letsencrypt.org/directory', email: 'ops@example.com' }],
  hostedZones: [{ name: 'example.com', id: 'Z0123456789ABCDEFGHIJ' }],
  certificates: [{ name: 'shop', dnsNames: ['shop.example.com', 'www.shop.example.com'] }],
};

const app = new App();
const stack = new Stack(app, 'Consumer', { env: { region: 'eu-west-1' } });
new CertificateRenewalPipeline(stack, 'Certs', {
  inventory: toInventory(validateConfig(config, 'inline config'), { region: 'eu-west-1' }),
  alarmEmails: ['oncall@example.com'],
});
app.synth();
`;

let work: string;
let template: { Resources: Record<string, { Type: string; Properties: any; Metadata?: any }> };

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CDK_DISABLE_VERSION_CHECK: 'true', CDK_DISABLE_CLI_TELEMETRY: 'true', npm_config_update_notifier: 'false' },
  });
}

const ofType = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);

describe('the packed tarball in a scratch CDK app (slow)', () => {
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'certpipe-pack-'));
    const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], REPO))[0];
    const app = join(work, 'app');
    run('mkdir', ['-p', app], work);
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({
        name: 'consumer',
        private: true,
        type: 'module',
        dependencies: {
          certpipe: `file:${join(work, packed.filename)}`,
          'aws-cdk-lib': installed('aws-cdk-lib'),
          constructs: installed('constructs'),
        },
        devDependencies: { 'aws-cdk': installed('aws-cdk'), typescript: installed('typescript'), '@types/node': installed('@types/node') },
      }),
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: true, types: ['node'] }, include: ['app.ts'] }),
    );
    writeFileSync(join(app, 'cdk.json'), JSON.stringify({ app: 'node app.js', output: 'cdk.out' }));
    writeFileSync(join(app, 'app.ts'), APP);
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], app);
    run('npx', ['tsc', '-p', '.'], app);
    run('npx', ['cdk', 'synth', '--quiet', '--no-notices'], app);
    template = JSON.parse(readFileSync(join(app, 'cdk.out', 'Consumer.template.json'), 'utf8'));
  }, 300_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('installs no repository sources: the construct runs from compiled JavaScript', () => {
    const pkg = join(work, 'app', 'node_modules', 'certpipe');
    expect(existsSync(join(pkg, 'dist', 'infra', 'index.js'))).toBe(true);
    expect(existsSync(join(pkg, 'dist', 'infra', 'index.d.ts'))).toBe(true);
    expect(existsSync(join(pkg, 'functions'))).toBe(false);
    expect(existsSync(join(pkg, 'local'))).toBe(false);
  });

  it('deploys the seven functions from the prebuilt bundles, each with the inline inventory beside its handler', () => {
    const functions = ofType('AWS::Lambda::Function').filter(([, r]) => r.Properties.Handler === 'index.handler' && r.Properties.Runtime === 'nodejs22.x');
    expect(functions).toHaveLength(7);
    for (const [, fn] of functions) {
      const asset = join(work, 'app', 'cdk.out', fn.Metadata['aws:asset:path']);
      expect(existsSync(join(asset, 'index.mjs'))).toBe(true);
      const inventory = JSON.parse(readFileSync(join(asset, 'inventory.json'), 'utf8'));
      expect(inventory.certificates.map((c: { name: string }) => c.name)).toEqual(['shop']);
    }
  });

  it('has the renewal state machine with the ASL shipped in the package', () => {
    const [machine] = ofType('AWS::StepFunctions::StateMachine');
    expect(machine).toBeDefined();
    expect(JSON.stringify(machine![1].Properties.DefinitionString)).toContain('PlaceChallenges');
  });

  it('has the alarms and the topic they page', () => {
    expect(ofType('AWS::CloudWatch::Alarm').length).toBeGreaterThan(0);
    expect(ofType('AWS::SNS::Subscription').map(([, r]) => r.Properties.Endpoint)).toContain('oncall@example.com');
  });
});
