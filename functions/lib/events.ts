// Inputs and outputs of the workflow's states (statemachines/renewal.asl.json).
// Only names, ids, URLs and public values pass between states: never key material.
import { z } from 'zod';
import { InvalidInput } from './errors.js';


/** Execution input: `{}` from the schedule, or narrowed by the CLI. */
export const checkExpiryInputSchema = z
  .object({
    only: z.array(z.string().min(1)).optional(),
    force: z.boolean().optional(),
  })
  .passthrough();
export type CheckExpiryInput = z.infer<typeof checkExpiryInputSchema>;

export const decisionSchema = z.object({
  name: z.string(),
  reason: z.string(),
  message: z.string(),
  renewalTime: z.string().optional(),
  notAfter: z.string().optional(),
});
export type DecisionSummary = z.infer<typeof decisionSchema>;

export const checkExpiryOutputSchema = z.object({
  checkedAt: z.string(),
  total: z.number(),
  dueCount: z.number(),
  due: z.array(decisionSchema),
  /** Certificates not due; capped to keep the state small, `skippedCount` is the full count. */
  skipped: z.array(decisionSchema),
  skippedCount: z.number(),
});
export type CheckExpiryOutput = z.infer<typeof checkExpiryOutputSchema>;

/** The Map item every per-certificate state receives. */
export const renewalItemSchema = z.object({
  name: z.string().min(1),
  reason: z.string(),
});
export type RenewalItem = z.infer<typeof renewalItemSchema>;

export const challengeRecordSchema = z.object({
  /** The DNS name the CA validates, e.g. `example.com` for `*.example.com`. */
  identifier: z.string(),
  /** Where the TXT value is written (after following a CNAME delegation). */
  fqdn: z.string(),
  zoneId: z.string(),
  value: z.string(),
});
export type ChallengeRecord = z.infer<typeof challengeRecordSchema>;

export const orderStateSchema = z.object({
  orderUrl: z.string().optional(),
  /** True when a verified certificate is already stored and only publishing remains. */
  issued: z.boolean(),
  records: z.array(challengeRecordSchema),
  changeIds: z.array(z.string()),
  /** Propagation checks made so far. */
  attempt: z.number().int().min(0),
  /** `new` or `resumed`: whether this run created the order. */
  origin: z.enum(['new', 'resumed', 'stored']),
});
export type OrderState = z.infer<typeof orderStateSchema>;

export const checkPropagationInputSchema = z.object({
  name: z.string(),
  order: orderStateSchema,
  attempt: z.number().int().min(0),
});
export type CheckPropagationInput = z.infer<typeof checkPropagationInputSchema>;

export const checkPropagationOutputSchema = z.object({
  ready: z.boolean(),
  attempt: z.number().int(),
  missing: z.array(z.string()),
});
export type CheckPropagationOutput = z.infer<typeof checkPropagationOutputSchema>;

export const finalizeOrderInputSchema = z.object({ name: z.string(), order: orderStateSchema });
export type FinalizeOrderInput = z.infer<typeof finalizeOrderInputSchema>;

export const issuedSummarySchema = z.object({
  serial: z.string(),
  notBefore: z.string(),
  notAfter: z.string(),
  dnsNames: z.array(z.string()),
});
export type IssuedSummary = z.infer<typeof issuedSummarySchema>;

export const publishInputSchema = z.object({ name: z.string(), reason: z.string() });
export type PublishInput = z.infer<typeof publishInputSchema>;

export const publishOutputSchema = z.object({
  serial: z.string(),
  notAfter: z.string(),
  /** Target ids that now hold this certificate, e.g. `secretsmanager:000000000000:us-east-1:certpipe/web`, `acm:000000000000:eu-west-1`. */
  targets: z.array(z.string()),
});
export type PublishOutput = z.infer<typeof publishOutputSchema>;

export const cleanupInputSchema = z
  .object({
    name: z.string(),
    order: orderStateSchema.partial().optional(),
    error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
  })
  .passthrough();
export type CleanupInput = z.infer<typeof cleanupInputSchema>;

export const cleanupOutputSchema = z.object({
  removed: z.number(),
  failures: z.array(z.string()),
});
export type CleanupOutput = z.infer<typeof cleanupOutputSchema>;

export const itemResultSchema = z.object({
  name: z.string(),
  reason: z.string().optional(),
  outcome: z.enum(['renewed', 'failed']),
  published: publishOutputSchema.optional(),
  error: z.string().optional(),
  cause: z.string().optional(),
});
export type ItemResult = z.infer<typeof itemResultSchema>;

export const summarizeInputSchema = z.object({
  check: checkExpiryOutputSchema,
  results: z.array(itemResultSchema),
});
export type SummarizeInput = z.infer<typeof summarizeInputSchema>;

export const summarizeOutputSchema = z.object({
  renewed: z.number(),
  skipped: z.number(),
  failed: z.number(),
  failedNames: z.array(z.string()),
  results: z.array(itemResultSchema),
});
export type SummarizeOutput = z.infer<typeof summarizeOutputSchema>;

/** Parse a state's input; the message names the field (an InvalidInput error for the ASL). */
export function parseEvent<T>(schema: z.ZodType<T>, event: unknown, state: string): T {
  const result = schema.safeParse(event);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new InvalidInput(`${state} received invalid input at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
}
