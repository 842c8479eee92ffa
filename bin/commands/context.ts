// What every command shares: the injected terminal, the exit codes, and the
// target (local cloud or deployed stack) with its clients and inventory.
import fs from 'node:fs';
import path from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import pc from 'picocolors';
import { terminalWidth, type Layout } from '../layout.js';
import { loadConfig } from '../../infra/config.js';
import { AwsClients, awsErrorName } from '../../functions/lib/aws.js';
import { parseInventory, type CertificateSpec, type Inventory } from '../../functions/lib/inventory.js';
import {
  INVENTORY_FILE,
  LOCAL_ACCOUNT_ID,
  LOCAL_REGION,
  localDataDir,
  readLocalStackOutputs,
  readCloudInfo,
} from '../local-cloud.js';
import { selfServiceView } from './requests.js';

/** Documented exit codes (README and `certpipe --help`). */
export const EXIT = { ok: 0, failed: 1, usage: 2, notFound: 3 } as const;

export interface CliIO {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  /** Colour and prompts only on a terminal. */
  isTTY: boolean;
  /** The terminal's width when stdout is one; tables fit it (80 when unknown). */
  columns?: number;
  env: NodeJS.ProcessEnv;
  /** Asks a yes/no question on the terminal. */
  confirm?: (question: string) => Promise<boolean>;
}

/** An error the CLI reports as one line with its own exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const notFound = (message: string) => new CliError(message, EXIT.notFound);
export const usageError = (message: string) => new CliError(message, EXIT.usage);

export interface GlobalOptions {
  local?: boolean;
  stack?: string;
  region?: string;
  config?: string;
  json?: boolean;
  /** Every column, not fitted to the terminal. */
  wide?: boolean;
  debug?: boolean;
}

/** How tables and line blocks are laid out for this terminal and these options. */
export function layoutOf(io: CliIO, opts: GlobalOptions): Layout {
  const color = io.isTTY && !io.env.NO_COLOR;
  return opts.wide ? { color } : { color, width: terminalWidth(io.columns, io.env) };
}

export function colors(io: CliIO) {
  return pc.createColors(io.isTTY && !io.env.NO_COLOR);
}

export function println(io: CliIO, text = ''): void {
  io.stdout.write(`${text}\n`);
}

export function printJson(io: CliIO, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Where the pipeline runs, and the clients that reach it. */
export interface Target {
  readonly kind: 'local' | 'stack';
  /** e.g. `local cloud http://127.0.0.1:4566` or `stack certpipe`. */
  readonly description: string;
  readonly stateMachineArn: string;
  readonly inventory: Inventory;
  readonly aws: AwsClients;
  readonly sfn: SFNClient;
  /** A CA to trust when the CLI itself talks ACME (revoke, account rollover): Pebble's, locally. */
  readonly acmeCaBundlePath?: string;
}

/**
 * A configured certificate, or else a self-service request the pipeline
 * adopts, by the name `certpipe status` shows (its secret's name): the same
 * decision CheckExpiry makes, so what the CLI finds the workflow accepts.
 */
export async function findSpec(target: Target, name: string): Promise<CertificateSpec> {
  const configured = target.inventory.certificates.find((c) => c.name === name);
  if (configured) return configured;
  const { adopted } = await selfServiceView(target);
  const spec = adopted.find((c) => c.name === name);
  if (!spec) {
    const known = [...target.inventory.certificates, ...adopted].map((c) => c.name).join(', ') || 'none';
    throw notFound(`no certificate named "${name}" in the inventory or the adopted self-service requests (known: ${known})`);
  }
  return spec;
}

/** How to get a local pipeline to operate on; the CLI never starts or deploys one itself. */
const START_LOCAL = 'run npm start (it starts the local cloud and deploys the pipeline into it)';

/**
 * --stack wins, then --local; without either the local cloud is used when
 * AWS_ENDPOINT_URL is set or a local cloud.json exists.
 */
export async function resolveTarget(opts: GlobalOptions, io: CliIO): Promise<Target> {
  if (opts.stack) return stackTarget(opts, io);
  const endpointOverride = io.env.AWS_ENDPOINT_URL || undefined;
  const dataDir = localDataDir(io.env);
  if (opts.local || endpointOverride || readCloudInfo(dataDir)) return localTarget(io, dataDir, endpointOverride);
  throw usageError(`no target: no local cloud runs in ${dataDir} and no --stack NAME was given; ${START_LOCAL}`);
}

async function localTarget(io: CliIO, dataDir: string, endpointOverride?: string): Promise<Target> {
  const endpoint = endpointOverride ?? readCloudInfo(dataDir)?.endpoint;
  if (!endpoint) throw usageError(`no local cloud runs in ${dataDir}: ${START_LOCAL}`);
  const credentials: AwsCredentialIdentity = { accessKeyId: LOCAL_ACCOUNT_ID, secretAccessKey: 'local' };
  const base = { endpoint, region: LOCAL_REGION, credentials, maxAttempts: 2 };
  const aws = new AwsClients(base);
  const sfn = new SFNClient(base);
  // As on AWS, the stack's outputs say where the workflow is (its name is generated at deploy).
  const stateMachineArn = readLocalStackOutputs(dataDir)?.StateMachineArn;
  const inventory = readInventoryFile(path.join(dataDir, INVENTORY_FILE));
  if (!inventory || !stateMachineArn || !(await stateMachineExists(sfn, stateMachineArn))) {
    throw usageError(`the pipeline is not deployed to the local cloud at ${endpoint}: ${START_LOCAL}`);
  }
  const acmeCaBundlePath = readCloudInfo(dataDir)?.pebbleCaPath;
  return { kind: 'local', description: `local cloud ${endpoint}`, stateMachineArn, inventory, aws, sfn, ...(acmeCaBundlePath ? { acmeCaBundlePath } : {}) };
}

function readInventoryFile(file: string): Inventory | undefined {
  if (!fs.existsSync(file)) return undefined;
  return parseInventory(JSON.parse(fs.readFileSync(file, 'utf8')));
}

async function stateMachineExists(sfn: SFNClient, stateMachineArn: string): Promise<boolean> {
  try {
    await sfn.send(new DescribeStateMachineCommand({ stateMachineArn }));
    return true;
  } catch (err) {
    if (awsErrorName(err) === 'StateMachineDoesNotExist') return false;
    throw err;
  }
}

async function stackTarget(opts: GlobalOptions, io: CliIO): Promise<Target> {
  const region = opts.region ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION;
  if (!region) throw usageError('no AWS region: pass --region or set AWS_REGION');
  const base = { region };
  const cfn = new CloudFormationClient(base);
  let outputs;
  try {
    const described = await cfn.send(new DescribeStacksCommand({ StackName: opts.stack }));
    outputs = described.Stacks?.[0]?.Outputs ?? [];
  } catch (err) {
    if (awsErrorName(err) === 'ValidationError') throw notFound(`no stack named ${opts.stack} in ${region}`);
    throw err;
  }
  const stateMachineArn = outputs.find((o) => o.OutputKey === 'StateMachineArn')?.OutputValue;
  if (!stateMachineArn) throw notFound(`stack ${opts.stack} has no StateMachineArn output (is it the certpipe pipeline stack?)`);
  const aws = new AwsClients(base);
  // The deployed inventory is built from the same config; account and region come from the state machine's ARN.
  const [, , , arnRegion, accountId] = stateMachineArn.split(':');
  const { toInventory } = await import('../../infra/config.js');
  const inventory = toInventory(loadConfig(opts.config), { accountId, region: arnRegion ?? region });
  return { kind: 'stack', description: `stack ${opts.stack}`, stateMachineArn, inventory, aws, sfn: new SFNClient(base) };
}
