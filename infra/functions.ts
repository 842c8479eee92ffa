// The functions of the pipeline: one source of truth for the CDK stack and the
// local runner (entry, memory, timeout and environment are read from here by both).
import { fileURLToPath } from 'node:url';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../functions/lib/workflow/metrics.js';
import { TASK_FUNCTIONS, type TaskFunction } from '../statemachines/definition.js';

export interface FunctionSpec {
  readonly name: TaskFunction;
  /** Absolute path of the handler module. */
  readonly entry: string;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  readonly description: string;
}

const entry = (name: TaskFunction) => fileURLToPath(new URL(`../functions/${name}.ts`, import.meta.url));

// Memory buys CPU on Lambda: key generation (RSA 4096 in FinalizeOrder) and X.509
// checks are the only CPU-bound work; everything else waits on the network.
// Timeouts are a few times the slowest single step: no function waits or polls.
const SIZING: Record<TaskFunction, Omit<FunctionSpec, 'name' | 'entry'>> = {
  CheckExpiry: { memoryMb: 512, timeoutSeconds: 120, description: 'Scans the certificate secrets and decides which certificates are due' },
  PlaceChallenges: { memoryMb: 256, timeoutSeconds: 60, description: 'Creates or resumes the ACME order and writes the DNS-01 TXT records' },
  CheckPropagation: { memoryMb: 256, timeoutSeconds: 30, description: 'Checks INSYNC and asks the authoritative nameservers for the TXT values' },
  FinalizeOrder: { memoryMb: 1024, timeoutSeconds: 60, description: 'Validates, finalizes and downloads the certificate; verifies it before storing' },
  PublishCertificate: { memoryMb: 256, timeoutSeconds: 120, description: 'Promotes the new version, imports into ACM and copies to other accounts' },
  CleanupChallenges: { memoryMb: 256, timeoutSeconds: 60, description: 'Removes the TXT records this run wrote' },
  Summarize: { memoryMb: 128, timeoutSeconds: 30, description: 'Counts renewed, skipped and failed certificates and emits metrics' },
};

export const FUNCTIONS: readonly FunctionSpec[] = TASK_FUNCTIONS.map((name) => ({ name, entry: entry(name), ...SIZING[name] }));

export interface EnvironmentContext {
  /** Where the function finds the inventory JSON (bundled file on AWS, a data-dir file locally). */
  readonly inventoryPath: string;
  /** `DEBUG`, `INFO`, … */
  readonly logLevel?: string;
  /** Extra variables only the local runner sets (CA bundle of a test CA, resolvers). */
  readonly extra?: Readonly<Record<string, string>>;
}

/** The environment every function gets, identical on Lambda and in the local runner. */
export function functionEnvironment(fn: FunctionSpec, ctx: EnvironmentContext): Record<string, string> {
  return {
    CERTPIPE_INVENTORY: ctx.inventoryPath,
    POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    POWERTOOLS_LOG_LEVEL: ctx.logLevel ?? 'INFO',
    CERTPIPE_FUNCTION: fn.name,
    // Source maps ship beside each bundle but are not turned on: --enable-source-maps costs
    // ~40 ms of every cold start (bench/); pass NODE_OPTIONS in `extra` to trade it for readable stacks.
    ...ctx.extra,
  };
}
