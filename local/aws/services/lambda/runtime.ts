// The local Lambda service: a persisted registry of functions (handler file plus
// configuration), their bundles, and one warm worker per function.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Collection, LocalStore } from '../../types.js';
import { KeyedLock } from '../../lock.js';
import { bundleBootstrap, bundleFunction } from './bundle.js';
import {
  DEFAULT_MEMORY_MB,
  DEFAULT_REGION,
  DEFAULT_TIMEOUT_SECONDS,
  functionArn,
  functionDefinitionSchema,
  type RegisteredFunction,
} from './functions.js';
import type { MetricSink } from '../cloudwatch/service.js';
import { FunctionError, WarmWorker } from './warm-worker.js';

export { FunctionError } from './warm-worker.js';

export interface LambdaRuntimeOptions {
  /** Bundles go to `<dataDir>/lambda/`, console output to `<dataDir>/logs/<functionName>.log`. */
  readonly dataDir: string;
  readonly store: LocalStore;
  readonly defaultAccountId: () => string;
  /** Where functions reach the local endpoint (their AWS_ENDPOINT_URL). */
  readonly endpointUrl: () => string;
  /** Where log lines and AWS/Lambda metrics go, as Lambda sends them to CloudWatch. */
  readonly metrics?: () => MetricSink;
  /** Temporary credentials of a function's execution role, as Lambda gets them from STS. */
  readonly roleCredentials?: (roleArn: string, sessionName: string) => Promise<RoleCredentials>;
}

export interface RoleCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
}

/** A sandbox whose credentials expire sooner than this is replaced by a fresh one, as Lambda recycles them. */
const CREDENTIALS_REFRESH_MARGIN_MS = 10 * 60_000;

/** The registration body is invalid or its entry cannot be bundled. */
export class InvalidFunctionDefinition extends Error {
  override readonly name = 'InvalidFunctionDefinition';
}

/** No function is registered under that ARN (Lambda's ResourceNotFoundException). */
export class FunctionNotFound extends Error {
  override readonly name = 'ResourceNotFoundException';
  constructor(readonly functionArn: string, why?: string) {
    super(`Function not found: ${functionArn}${why ? `: ${why}` : ''}`);
  }
}

/** The log file a function's console output is appended to. */
export function functionLogPath(dataDir: string, functionName: string): string {
  return join(dataDir, 'logs', `${functionName}.log`);
}

export class LambdaRuntime {
  private readonly functions: Promise<Collection<RegisteredFunction>>;
  private readonly workers = new Map<string, WarmWorker>();
  /** When each warm worker's role credentials expire (epoch ms). */
  private readonly credentialExpiry = new WeakMap<WarmWorker, number>();
  /** Registrations of one ARN run one after the other: each rewrites the same bundle file. */
  private readonly registrations = new KeyedLock();
  private bootstrap: Promise<string> | undefined;

  constructor(private readonly options: LambdaRuntimeOptions) {
    this.functions = options.store.collection<RegisteredFunction>('lambda/functions');
    // Surfaces on first use; do not let it become an unhandled rejection meanwhile.
    this.functions.catch(() => undefined);
  }

  /** Registers or replaces a function: bundles its entry, then retires the old warm worker. */
  async register(input: unknown): Promise<RegisteredFunction> {
    const parsed = functionDefinitionSchema.safeParse(input);
    if (!parsed.success) throw new InvalidFunctionDefinition(z.prettifyError(parsed.error));
    const def = parsed.data;
    const source = (def.code ?? def.entry)!;
    if (!existsSync(source)) throw new InvalidFunctionDefinition(`${def.code ? 'code' : 'entry'} ${source} does not exist`);
    const accountId = def.accountId ?? this.options.defaultAccountId();
    const region = def.region ?? DEFAULT_REGION;
    const fn: RegisteredFunction = {
      functionName: def.functionName,
      functionArn: functionArn(region, accountId, def.functionName),
      accountId,
      region,
      ...(def.entry ? { entry: def.entry } : {}),
      ...(def.code ? { code: def.code } : {}),
      handler: def.handler ?? 'handler',
      environment: def.environment,
      timeoutSeconds: def.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
      memoryMb: def.memoryMb ?? DEFAULT_MEMORY_MB,
      ...(def.roleArn ? { roleArn: def.roleArn } : {}),
      registeredAt: new Date().toISOString(),
    };
    return this.registrations.run(fn.functionArn, async () => {
      try {
        // Built code runs as it is: bundling it again would not be the artefact that was deployed.
        if (fn.entry) await bundleFunction(fn.entry, this.bundlePath(fn));
      } catch (err) {
        throw new InvalidFunctionDefinition((err as Error).message);
      }
      await (await this.functions).put(fn.functionArn, fn);
      this.workers.get(fn.functionArn)?.retire();
      this.workers.delete(fn.functionArn);
      return fn;
    });
  }

  async list(): Promise<RegisteredFunction[]> {
    const functions = await this.functions;
    return functions.keys().map((arn) => functions.get(arn)!);
  }

  async get(arn: string): Promise<RegisteredFunction | undefined> {
    return (await this.functions).get(arn);
  }

  /** Invokes a function with a JSON payload; throws FunctionNotFound or FunctionError. */
  async invoke(arn: string, payload: unknown, requestId: string = randomUUID()): Promise<unknown> {
    await this.registrations.idle(arn);
    const fn = (await this.functions).get(arn);
    if (!fn) throw new FunctionNotFound(arn);
    let worker = this.workers.get(arn);
    const expiry = worker && this.credentialExpiry.get(worker);
    if (worker && expiry !== undefined && expiry - Date.now() < CREDENTIALS_REFRESH_MARGIN_MS) {
      worker.retire();
      this.workers.delete(arn);
      worker = undefined;
    }
    if (!worker) {
      const bundlePath = this.bundlePath(fn);
      // Registered in an earlier run whose bundles were removed since.
      if (!existsSync(bundlePath)) {
        if (!fn.entry) throw new FunctionNotFound(arn, `its code ${bundlePath} is gone (the cloud assembly was removed): deploy again`);
        await bundleFunction(fn.entry, bundlePath);
      }
      const bootstrapPath = await this.bootstrapPath();
      const credentials = await this.credentialsOf(fn);
      worker = this.workers.get(arn);
      if (!worker) {
        worker = new WarmWorker({
          functionName: fn.functionName,
          functionArn: fn.functionArn,
          bootstrapPath,
          bundlePath,
          handler: fn.handler,
          env: this.environmentOf(fn, credentials),
          timeoutSeconds: fn.timeoutSeconds,
          memoryMb: fn.memoryMb,
          logPath: functionLogPath(this.options.dataDir, fn.functionName),
          onLogLine: (line) => this.options.metrics?.().logLine({ account: fn.accountId, region: fn.region }, line),
        });
        this.workers.set(arn, worker);
        if (credentials) this.credentialExpiry.set(worker, credentials.expiration.getTime());
      }
    }
    const started = Date.now();
    let failed = false;
    try {
      return await worker.invoke(payload, requestId);
    } catch (err) {
      failed = err instanceof FunctionError;
      throw err;
    } finally {
      // Lambda's own metrics: an invocation that ran, and whether the function erred (thrown, timed out, runtime died).
      this.options.metrics?.().publish(
        { account: fn.accountId, region: fn.region },
        'AWS/Lambda',
        [
          { name: 'Invocations', value: 1, unit: 'Count' },
          { name: 'Errors', value: failed ? 1 : 0, unit: 'Count' },
          { name: 'Duration', value: Date.now() - started, unit: 'Milliseconds' },
        ],
        [{ Name: 'FunctionName', Value: fn.functionName }],
      );
    }
  }

  async close(): Promise<void> {
    const workers = [...this.workers.values()];
    this.workers.clear();
    await Promise.all(workers.map((w) => w.stop()));
  }

  private credentialsOf(fn: RegisteredFunction): Promise<RoleCredentials | undefined> {
    if (!fn.roleArn || !this.options.roleCredentials) return Promise.resolve(undefined);
    return this.options.roleCredentials(fn.roleArn, fn.functionName);
  }

  /**
   * Exactly what Lambda would put in process.env: the function's own variables and
   * the runtime's, with its role's temporary credentials. Nothing leaks in from
   * the endpoint's environment.
   */
  private environmentOf(fn: RegisteredFunction, credentials: RoleCredentials | undefined): Record<string, string> {
    return {
      ...fn.environment,
      AWS_REGION: fn.region,
      AWS_DEFAULT_REGION: fn.region,
      // Without a role (registered before the local deploy named roles), a 12-digit key id: the account's root.
      ...(credentials
        ? { AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey, AWS_SESSION_TOKEN: credentials.sessionToken }
        : { AWS_ACCESS_KEY_ID: fn.accountId, AWS_SECRET_ACCESS_KEY: 'test' }),
      AWS_ENDPOINT_URL: fn.environment.AWS_ENDPOINT_URL ?? this.options.endpointUrl(),
      AWS_LAMBDA_FUNCTION_NAME: fn.functionName,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.functionName}`,
    };
  }

  /** `<name>.mjs` in the default account and region; qualified elsewhere so names never collide. */
  private bundlePath(fn: RegisteredFunction): string {
    if (fn.code) return fn.code;
    const local = fn.accountId === this.options.defaultAccountId() && fn.region === DEFAULT_REGION;
    const stem = local ? fn.functionName : `${fn.functionName}@${fn.accountId}-${fn.region}`;
    return join(this.options.dataDir, 'lambda', `${stem}.mjs`);
  }

  private bootstrapPath(): Promise<string> {
    if (!this.bootstrap) {
      const path = join(this.options.dataDir, 'lambda', '.runtime', 'bootstrap.mjs');
      this.bootstrap = bundleBootstrap(path).then(() => path);
      this.bootstrap.catch(() => {
        this.bootstrap = undefined;
      });
    }
    return this.bootstrap;
  }
}
