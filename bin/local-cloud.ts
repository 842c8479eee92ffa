// What the CLI knows of a local cloud, and all it may know: the cloud.json a
// running one writes into its data directory, and the names a local deploy
// uses. The local cloud (local/) writes to this contract; the CLI only reads it,
// so working against a deployed stack never loads the local cloud.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const LOCAL_ACCOUNT_ID = '000000000000';
export const LOCAL_REGION = 'us-east-1';

/** The inventory a local deploy writes beside cloud.json. */
export const INVENTORY_FILE = 'inventory.json';

/** The pipeline stack's name (infra/app.ts PIPELINE_STACK_ID): its record holds the outputs the CLI reads. */
export const PIPELINE_STACK_NAME = 'Certpipe';

/** Where a local deploy records a stack it deployed: resources and outputs, as DescribeStacks would give them. */
export function deployedStackPath(dataDir: string, stackName: string): string {
  return path.join(dataDir, 'stacks', `${stackName}.json`);
}

/** The outputs of a locally deployed stack (`StateMachineArn`, …), or undefined before its first deploy. */
export function readLocalStackOutputs(dataDir: string, stackName: string = PIPELINE_STACK_NAME): Record<string, string> | undefined {
  try {
    const record = JSON.parse(fs.readFileSync(deployedStackPath(dataDir, stackName), 'utf8')) as { outputs?: Record<string, string> };
    return record.outputs;
  } catch {
    return undefined;
  }
}

/** The repository root (this file lives in <root>/bin/). */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** CERTPIPE_DATA_DIR, or `.certpipe-local` in the repository, as an absolute path. */
export function localDataDir(env: NodeJS.ProcessEnv): string {
  return path.resolve(env.CERTPIPE_DATA_DIR || path.join(repoRoot, '.certpipe-local'));
}

/** What `<dataDir>/cloud.json` holds: where a running local cloud answers. */
export interface CloudInfo {
  /** Process that runs the cloud. */
  readonly pid: number;
  readonly startedAt: string;
  readonly dataDir: string;
  /** AWS_ENDPOINT_URL for SDK clients, e.g. http://127.0.0.1:4566 */
  readonly endpoint: string;
  readonly port: number;
  readonly dnsHost: string;
  readonly dnsPort: number;
  /** Absent when the cloud runs without Pebble. */
  readonly directoryUrl?: string;
  readonly pebbleManagementUrl?: string;
  /** CA of Pebble's listener certificate, to trust when talking ACME to it. */
  readonly pebbleCaPath?: string;
  readonly pebblePid?: number;
  /** The staging CA (a second Pebble, same listener CA), when the cloud runs one. */
  readonly stagingDirectoryUrl?: string;
  readonly stagingPebbleManagementUrl?: string;
  readonly stagingPebblePid?: number;
  readonly logDir: string;
}

export function cloudInfoPath(dataDir: string): string {
  return path.join(dataDir, 'cloud.json');
}

/** The cloud.json of `dataDir`, or undefined when absent or unreadable. */
export function readCloudInfo(dataDir: string): CloudInfo | undefined {
  try {
    const info = JSON.parse(fs.readFileSync(cloudInfoPath(dataDir), 'utf8')) as CloudInfo;
    return typeof info.pid === 'number' && typeof info.endpoint === 'string' ? info : undefined;
  } catch {
    return undefined;
  }
}
