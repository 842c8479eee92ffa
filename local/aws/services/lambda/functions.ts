// What a locally registered Lambda function is, shared by the endpoint (which runs
// it) and the clients that register it (runner, tests, CLI).
import { z } from 'zod';

export const DEFAULT_REGION = 'us-east-1';

/** Body of `POST /_certpipe/lambda/functions`. */
export const functionDefinitionSchema = z.object({
  functionName: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'functionName must be 1-64 letters, digits, hyphens or underscores'),
  accountId: z.string().regex(/^\d{12}$/, 'accountId must be 12 digits').optional(),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'region must look like us-east-1').optional(),
  /** Absolute path of the handler's source file (bundled with esbuild as the CDK stack does). */
  entry: z.string().refine((p) => p.startsWith('/'), 'entry must be an absolute path').optional(),
  /** Absolute path of an already built module, run as it is: the asset a template names (`<asset>/index.mjs`). */
  code: z.string().refine((p) => p.startsWith('/'), 'code must be an absolute path').optional(),
  /** Exported name of the handler in `entry`. */
  handler: z.string().regex(/^[A-Za-z_$][\w$]*$/, 'handler must be an export name').optional(),
  environment: z.record(z.string(), z.string()).default({}),
  timeoutSeconds: z.number().int().min(1).max(900).optional(),
  /** The execution role: the function calls with temporary credentials of it, as on Lambda. Without one, as its account's root (until the local deploy names roles). */
  roleArn: z.string().regex(/^arn:aws[\w-]*:iam::\d{12}:role\/.+$/, 'roleArn must be an IAM role ARN').optional(),
  memoryMb: z.number().int().min(128).max(10240).optional(),
}).refine((d) => (d.entry === undefined) !== (d.code === undefined), 'give either entry (a source to bundle) or code (a built module)');

export type FunctionDefinition = z.input<typeof functionDefinitionSchema>;

/** A function as the endpoint keeps it (persisted; defaults filled in). */
export interface RegisteredFunction {
  readonly functionName: string;
  readonly functionArn: string;
  readonly accountId: string;
  readonly region: string;
  /** The source bundled for it; absent when registered with built `code`. */
  readonly entry?: string;
  /** The built module it runs, when registered with one. */
  readonly code?: string;
  readonly handler: string;
  readonly environment: Record<string, string>;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly roleArn?: string;
  /** ISO time of the last (re-)registration. */
  readonly registeredAt: string;
}

export const DEFAULT_TIMEOUT_SECONDS = 60;
export const DEFAULT_MEMORY_MB = 256;

export function functionArn(region: string, accountId: string, functionName: string): string {
  return `arn:aws:lambda:${region}:${accountId}:function:${functionName}`;
}

/**
 * The unqualified function ARN a Task refers to. Lambda accepts a name, a partial
 * ARN (`123456789012:function:name`) or a full ARN, each optionally with a
 * `:version`/`:alias` qualifier; locally every qualifier means `$LATEST`.
 */
export function resolveFunctionArn(reference: string, defaults: { region: string; accountId: string }): string | undefined {
  const full = /^arn:aws[\w-]*:lambda:([a-z0-9-]+):(\d{12}):function:([A-Za-z0-9_-]{1,64})(:[\w$-]+)?$/.exec(reference);
  if (full) return functionArn(full[1]!, full[2]!, full[3]!);
  const partial = /^(\d{12}):function:([A-Za-z0-9_-]{1,64})(:[\w$-]+)?$/.exec(reference);
  if (partial) return functionArn(defaults.region, partial[1]!, partial[2]!);
  const name = /^([A-Za-z0-9_-]{1,64})(:[\w$-]+)?$/.exec(reference);
  if (name) return functionArn(defaults.region, defaults.accountId, name[1]!);
  return undefined;
}
