// The cloud assembly the local deploy reads: `cdk synth` of the CDK app, run in
// this process (no `npx cdk`), kept in a cache keyed by a hash of everything the
// synthesis reads. A second deploy with nothing changed synthesizes and bundles
// nothing; a changed function source, ASL, infra file, lock file or config is a
// new key, so what is deployed is never older than the source.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CertpipeConfig } from '../../infra/config.js';

const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** What the synthesis reads from the repository, besides the config. */
export const SYNTH_INPUTS = ['infra', 'functions', 'statemachines', 'package-lock.json'] as const;

/** Where assemblies are kept: `$CERTPIPE_SYNTH_CACHE`, else `.certpipe-cache/assemblies` in the repository. */
export function synthCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.CERTPIPE_SYNTH_CACHE || join(REPO_ROOT, '.certpipe-cache', 'assemblies'));
}

export interface SynthParameters {
  readonly config: CertpipeConfig;
  /** The account the pipeline stack is synthesized for (and the target roles trust). */
  readonly accountId: string;
  readonly region: string;
  /** The state machine's TimeoutSeconds; absent = the construct's default. */
  readonly executionTimeoutSeconds?: number;
}

export interface StackArtifact {
  readonly stackName: string;
  readonly accountId: string;
  readonly region: string;
  readonly template: CfnTemplate;
  /** Directory of the asset an S3 object key of this stack names (`<hash>.zip` → `<assembly>/asset.<hash>`). */
  assetDirectory(objectKey: string): string | undefined;
}

export interface CfnTemplate {
  readonly Parameters?: Record<string, { Type: string; Default?: string }>;
  readonly Conditions?: Record<string, unknown>;
  readonly Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; DependsOn?: string | string[]; Condition?: string }>;
  readonly Outputs?: Record<string, { Value: unknown; Condition?: string }>;
}

export interface CloudAssembly {
  readonly directory: string;
  readonly key: string;
  /** Whether this call synthesized it (false: taken from the cache). */
  readonly synthesized: boolean;
  readonly stacks: readonly StackArtifact[];
}

function filesUnder(path: string): string[] {
  const st = statSync(path);
  if (!st.isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .filter((e) => e.name !== 'node_modules' && !e.name.startsWith('.'))
    .flatMap((e) => filesUnder(join(path, e.name)))
    .sort();
}

/** The cache key: every input file's path and content, the config and the parameters. */
export function assemblyKey(params: SynthParameters, root: string = REPO_ROOT): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ config: params.config, accountId: params.accountId, region: params.region, timeout: params.executionTimeoutSeconds, node: process.versions.node }));
  for (const input of SYNTH_INPUTS) {
    const path = join(root, input);
    if (!existsSync(path)) continue;
    for (const file of filesUnder(path)) {
      hash.update(`\0${relative(root, file)}\0`);
      hash.update(readFileSync(file));
    }
  }
  return hash.digest('hex').slice(0, 32);
}

/** Runs the CDK app into `outdir` (aws-cdk-lib is loaded only here, on a cache miss). */
async function synthesize(params: SynthParameters, outdir: string): Promise<void> {
  const [{ App }, { buildApp }] = await Promise.all([import('aws-cdk-lib'), import('../../infra/app.js')]);
  mkdirSync(outdir, { recursive: true });
  // buildApp reads a config file; JSON is YAML, and the object is already validated.
  const configPath = join(outdir, 'certpipe.config.json');
  writeFileSync(configPath, JSON.stringify(params.config));
  const app = new App({ outdir });
  // cdk-nag adds findings, not resources: the template is the same without it, and it costs seconds.
  buildApp(app, { configPath, region: params.region, pipelineAccount: params.accountId, trustedPipelineAccount: params.accountId, nag: false, executionTimeoutSeconds: params.executionTimeoutSeconds });
  // CDK announces each asset it bundles on stderr ("Bundling asset …"): npm start shows its own progress.
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) =>
    String(chunk).startsWith('Bundling asset ') ? true : (write as (...a: unknown[]) => boolean)(chunk, ...rest)) as typeof process.stderr.write;
  try {
    app.synth();
  } finally {
    process.stderr.write = write;
  }
}

/**
 * Another process may be synthesizing the same key: the lock is a directory
 * (mkdir is atomic), the result appears by rename. Waits at most `staleMs` for it.
 */
async function withSynthLock(finalDir: string, run: () => Promise<void>, staleMs = 300_000): Promise<boolean> {
  const lock = `${finalDir}.lock`;
  const started = Date.now();
  for (;;) {
    if (existsSync(join(finalDir, 'manifest.json'))) return false;
    try {
      mkdirSync(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (Date.now() - statSync(lock, { throwIfNoEntry: false })!.mtimeMs > staleMs) rmSync(lock, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 250));
      if (Date.now() - started > staleMs * 2) throw new Error(`Timed out waiting for another synthesis of ${finalDir}`);
    }
  }
  try {
    if (existsSync(join(finalDir, 'manifest.json'))) return false;
    await run();
    return true;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** The cloud assembly for `params`: from the cache, or synthesized into it. */
export async function cloudAssembly(params: SynthParameters, cacheDir: string = synthCacheDir()): Promise<CloudAssembly> {
  const key = assemblyKey(params);
  const directory = join(cacheDir, key);
  mkdirSync(cacheDir, { recursive: true });
  const synthesized = await withSynthLock(directory, async () => {
    const building = join(cacheDir, `${key}.${randomUUID()}.building`);
    try {
      await synthesize(params, building);
      renameSync(building, directory);
    } finally {
      rmSync(building, { recursive: true, force: true });
    }
  });
  const now = new Date();
  utimesSync(directory, now, now);
  if (synthesized) pruneAssemblies(cacheDir);
  return { directory, key, synthesized, stacks: readStacks(directory) };
}

/** Assemblies kept: each is ~10 MB of bundles, and a key is one state of the source. */
export const KEPT_ASSEMBLIES = 16;

/** Removes all but the KEPT_ASSEMBLIES most recently used assemblies (a use touches the directory). */
function pruneAssemblies(cacheDir: string): void {
  const assemblies = readdirSync(cacheDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && /^[0-9a-f]{32}$/.test(e.name))
    .map((e) => ({ path: join(cacheDir, e.name), usedAt: statSync(join(cacheDir, e.name)).mtimeMs }))
    .sort((a, b) => b.usedAt - a.usedAt);
  for (const old of assemblies.slice(KEPT_ASSEMBLIES)) rmSync(old.path, { recursive: true, force: true });
}

interface Manifest {
  artifacts: Record<string, { type: string; environment?: string; properties?: { templateFile?: string; file?: string }; displayName?: string }>;
}

interface AssetManifest {
  files?: Record<string, { source: { path: string }; destinations: Record<string, { objectKey: string }> }>;
}

/** The stacks of an assembly directory, each with its template and asset lookup. */
export function readStacks(directory: string): StackArtifact[] {
  const manifest = JSON.parse(readFileSync(join(directory, 'manifest.json'), 'utf8')) as Manifest;
  const assetDirs = new Map<string, string>();
  for (const artifact of Object.values(manifest.artifacts)) {
    if (artifact.type !== 'cdk:asset-manifest' || !artifact.properties?.file) continue;
    const assets = JSON.parse(readFileSync(join(directory, artifact.properties.file), 'utf8')) as AssetManifest;
    for (const file of Object.values(assets.files ?? {})) {
      for (const destination of Object.values(file.destinations)) assetDirs.set(destination.objectKey, join(directory, file.source.path));
    }
  }
  return Object.entries(manifest.artifacts)
    .filter(([, a]) => a.type === 'aws:cloudformation:stack')
    .map(([id, a]) => {
      const [, accountId = '', region = ''] = /^aws:\/\/([^/]+)\/(.+)$/.exec(a.environment ?? '') ?? [];
      return {
        stackName: a.displayName ?? id,
        accountId,
        region,
        template: JSON.parse(readFileSync(join(directory, a.properties!.templateFile!), 'utf8')) as CfnTemplate,
        assetDirectory: (objectKey: string) => assetDirs.get(objectKey),
      };
    });
}
