// Fault injection for the local endpoint: POST /_certpipe/faults adds a rule,
// DELETE clears them, GET lists them. A rule fails (or delays) matching calls
// exactly as AWS would answer, so the SDK's own retry logic is what gets tested.
import { z } from 'zod';
import { AwsError } from './types.js';

/** Friendly service names accepted besides SigV4 signing names. */
const SERVICE_ALIASES: Record<string, string> = {
  cloudwatch: 'monitoring',
  stepfunctions: 'states',
  'step-functions': 'states',
  eventbridge: 'events',
  'secrets-manager': 'secretsmanager',
  'route-53': 'route53',
};

export const faultRuleSchema = z
  .object({
    service: z.string().min(1).transform((s) => SERVICE_ALIASES[s.toLowerCase()] ?? s.toLowerCase()),
    operation: z.string().min(1).optional(),
    /** AWS error code to answer with, e.g. ThrottlingException, PriorRequestNotComplete. */
    error: z.string().min(1).optional(),
    message: z.string().optional(),
    /** HTTP status; default from the error code (throttling 400, internal 500, unavailable 503). */
    status: z.number().int().min(400).max(599).optional(),
    /** Fail the next `count` matching calls, then stop matching. */
    count: z.number().int().positive().optional(),
    /** Fail this fraction of matching calls. */
    rate: z.number().gt(0).max(1).optional(),
    /** Delay matching calls by this many milliseconds (alone, or before the error). */
    latencyMs: z.number().int().min(0).max(600_000).optional(),
    /** Only calls from this account. */
    accountId: z.string().optional(),
    /** Only calls signed for this region. */
    region: z.string().optional(),
    /** Only calls whose JSON request has these top-level values, e.g. {"VersionStage": "AWSCURRENT"}. */
    match: z.record(z.string(), z.string()).optional(),
  })
  .refine((r) => r.error !== undefined || r.latencyMs !== undefined, {
    message: 'a fault needs "error" (an AWS error code) or "latencyMs"',
  })
  .refine((r) => !(r.count !== undefined && r.rate !== undefined), {
    message: 'give "count" or "rate", not both',
  });

export type FaultRule = z.infer<typeof faultRuleSchema>;

export interface ActiveRule {
  id: number;
  rule: FaultRule;
  remaining: number | undefined;
  /** Calls this rule answered with its error or delayed: a scenario asserts its fault really fired. */
  hits: number;
}

export interface FaultOutcome {
  latencyMs: number;
  error?: AwsError;
}

function defaultStatus(code: string): number {
  if (/unavailable/i.test(code)) return 503;
  if (/internal|servicefailure|serviceerror/i.test(code)) return 500;
  return 400;
}

export class FaultInjector {
  private rules: ActiveRule[] = [];
  private nextId = 1;

  constructor(private readonly random: () => number = Math.random) {}

  add(input: unknown): ActiveRule {
    const parsed = faultRuleSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new Error(`invalid fault ${issue.path.join('.') || 'rule'}: ${issue.message}`);
    }
    const active: ActiveRule = { id: this.nextId++, rule: parsed.data, remaining: parsed.data.count, hits: 0 };
    this.rules.push(active);
    return active;
  }

  /** Removes every rule; returns them as they ended, hits included. */
  clear(): ActiveRule[] {
    const cleared = this.list();
    this.rules = [];
    return cleared;
  }

  list(): ActiveRule[] {
    return this.rules.map((r) => ({ ...r }));
  }

  /** Decide what happens to one call; consumes `count` budgets. */
  evaluate(call: { service: string; operation: string; accountId: string; region: string; input?: unknown }): FaultOutcome {
    let latencyMs = 0;
    for (const active of this.rules) {
      const { rule } = active;
      if (rule.service !== call.service) continue;
      if (rule.operation && rule.operation !== call.operation) continue;
      if (rule.accountId && rule.accountId !== call.accountId) continue;
      if (rule.region && rule.region !== call.region) continue;
      if (rule.match && !matches(rule.match, call.input)) continue;
      if (active.remaining !== undefined && active.remaining <= 0) continue;
      if (rule.rate !== undefined && this.random() >= rule.rate) continue;
      if (active.remaining !== undefined) active.remaining -= 1;
      active.hits += 1;
      latencyMs += rule.latencyMs ?? 0;
      if (rule.error) {
        const status = rule.status ?? defaultStatus(rule.error);
        const message = rule.message ?? `Injected fault: ${rule.error} (certpipe local endpoint)`;
        return { latencyMs, error: new AwsError(rule.error, message, status) };
      }
    }
    return { latencyMs };
  }
}

function matches(expected: Record<string, string>, input: unknown): boolean {
  if (!input || typeof input !== 'object') return false;
  return Object.entries(expected).every(([k, v]) => (input as Record<string, unknown>)[k] === v);
}
