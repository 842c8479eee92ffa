// The workflow's Lambda functions: one NodejsFunction per Task state, bundled by
// the local esbuild (no Docker) with infra/bundling.ts's options, each with its
// own role (no managed policies), its own log group and the inventory bundled
// beside the handler. Sizes and environments come from infra/functions.ts, the
// same manifest the local runner reads. From an installed package (no sources)
// the bundles `npm run build` made with the same options are the assets.
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname as dirnameOf, join } from 'node:path';
import { Duration, Names, RemovalPolicy, Stack, Stage } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { Inventory } from '../../functions/lib/inventory.js';
import type { TaskFunction } from '../../statemachines/definition.js';
import { nodejsBundling } from '../bundling.js';
import { functionEnvironment, type FunctionSpec } from '../functions.js';
import { prebuiltBundle } from '../package/prebuilt.js';

/** File name of the inventory inside each bundle; Lambda's working directory is the task root. */
export const BUNDLED_INVENTORY = 'inventory.json';

export interface RenewalFunctionsProps {
  readonly functions: readonly FunctionSpec[];
  readonly inventory: Inventory;
  readonly logRetention: logs.RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
  readonly tracing: boolean;
  readonly logLevel: string;
  /** Variables the pipeline adds on AWS only (the secrets' KMS key). */
  readonly extraEnvironment: Readonly<Record<string, string>>;
  /** Fixed role names, for roles another account's trust policy names (the publisher). */
  readonly roleNames?: Partial<Record<TaskFunction, string>>;
}

export class RenewalFunctions extends Construct {
  readonly byName: ReadonlyMap<TaskFunction, lambda.Function>;
  readonly roles: ReadonlyMap<TaskFunction, iam.Role>;
  readonly logGroups: ReadonlyMap<TaskFunction, logs.LogGroup>;
  /** Where the inventory was written for bundling (inside the cloud assembly). */
  readonly inventoryFile: string;

  constructor(scope: Construct, id: string, props: RenewalFunctionsProps) {
    super(scope, id);
    this.inventoryFile = writeInventory(this, props.inventory);

    const byName = new Map<TaskFunction, lambda.Function>();
    const logGroups = new Map<TaskFunction, logs.LogGroup>();
    const roles = new Map<TaskFunction, iam.Role>();
    for (const spec of props.functions) {
      const logGroup = new logs.LogGroup(this, `${spec.name}Logs`, {
        retention: props.logRetention,
        removalPolicy: props.logRemovalPolicy,
      });
      // An explicit role without AWSLambdaBasicExecutionRole: it may write to its own log group only.
      const role = new iam.Role(this, `${spec.name}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `certpipe ${spec.name}`,
        ...(props.roleNames?.[spec.name] ? { roleName: props.roleNames[spec.name] } : {}),
      });
      logGroup.grantWrite(role);

      const common = {
        description: spec.description,
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: spec.memoryMb,
        timeout: Duration.seconds(spec.timeoutSeconds),
        role,
        logGroup,
        tracing: props.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
        environment: functionEnvironment(spec, {
          inventoryPath: BUNDLED_INVENTORY,
          logLevel: props.logLevel,
          extra: props.extraEnvironment,
        }),
      } satisfies Partial<lambda.FunctionProps>;
      const prebuilt = prebuiltBundle(spec.entry, spec.name);
      const fn = prebuilt
        ? new lambda.Function(this, spec.name, {
            ...common,
            handler: 'index.handler',
            code: lambda.Code.fromAsset(this.bundleWithInventory(prebuilt, spec.name)),
          })
        : new nodejs.NodejsFunction(this, spec.name, {
            ...common,
            entry: spec.entry,
            handler: 'handler',
            bundling: {
              ...nodejsBundling(),
              forceDockerBundling: false,
              commandHooks: {
                beforeBundling: () => [],
                beforeInstall: () => [],
                afterBundling: (_inputDir: string, outputDir: string) => [
                  `cp ${shellQuote(this.inventoryFile)} ${shellQuote(join(outputDir, BUNDLED_INVENTORY))}`,
                ],
              },
            },
          });
      byName.set(spec.name, fn);
      logGroups.set(spec.name, logGroup);
      roles.set(spec.name, role);
    }
    this.roles = roles;
    this.byName = byName;
    this.logGroups = logGroups;
  }

  /** A copy of a prebuilt bundle in the cloud assembly, with this pipeline's inventory beside the handler. */
  private bundleWithInventory(prebuilt: string, functionName: string): string {
    const dir = join(dirnameOf(this.inventoryFile), `${functionName}-${Names.uniqueId(this)}`);
    cpSync(prebuilt, dir, { recursive: true });
    cpSync(this.inventoryFile, join(dir, BUNDLED_INVENTORY));
    return dir;
  }

  get all(): lambda.Function[] {
    return [...this.byName.values()];
  }

  get(name: TaskFunction): lambda.Function {
    const fn = this.byName.get(name);
    if (!fn) throw new Error(`RenewalFunctions: no function ${name}`);
    return fn;
  }
}

/**
 * Writes the inventory into the cloud assembly directory: it is part of what is
 * deployed (a reviewer can read it there), and each synth gets its own copy.
 */
function writeInventory(scope: Construct, inventory: Inventory): string {
  const stage = Stage.of(scope);
  const dir = join(stage?.outdir ?? '.', 'certpipe-inventory');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${Stack.of(scope).artifactId}-${Names.uniqueId(scope)}.json`);
  writeFileSync(file, `${JSON.stringify(inventory, null, 2)}\n`);
  return file;
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
