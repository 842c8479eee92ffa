// Inputs and outputs of the workflow's states (statemachines/renewal.asl.json).
// Only names, ids, URLs and public values pass between states: never key material.
import * as z from 'zod/mini';
import { auditSchema } from '../audit/audit.js';
import { InvalidInput } from './errors.js';


/** Execution input: `{}` from the schedule, or narrowed by the CLI. */
export const checkExpiryInputSchema = z.looseObject({
  only: z.optional(z.array(z.string().check(z.minLength(1)))),
  force: z.optional(z.boolean()),
  /** Audit trail (../audit/audit.ts): who or what started the execution, and why. */
  startedBy: z.optional(z.string()),
  why: z.optional(z.string()),
});
export type CheckExpiryInput = z.infer<typeof checkExpiryInputSchema>;

export const decisionSchema = z.object({
  name: z.string(),
  reason: z.string(),
  message: z.string(),
  renewalTime: z.optional(z.string()),
  notAfter: z.optional(z.string()),
  /** ARI: the certificate the renewal order replaces (RFC 9773 certID). */
  replaces: z.optional(z.string()),
  /** ARI: the order names what it replaces inside the CA's window, so the CA does not count it against rate limits. */
  exempt: z.optional(z.boolean()),
  /** The staging gate's reason (gate/decision.ts) for a due certificate with a staging twin. */
  gate: z.optional(z.string()),
});
export type DecisionSummary = z.infer<typeof decisionSchema>;

/** An object in the run bucket (ports/runObjects.ts). */
export const s3ObjectSchema = z.object({ bucket: z.string(), key: z.string() });

export const checkExpiryOutputSchema = z.object({
  checkedAt: z.string(),
  total: z.number(),
  dueCount: z.number(),
  /** The first due certificates, for people reading the history; RenewEach reads all of them from `items`. */
  due: z.array(decisionSchema),
  /** The whole due list (a JSON array of `{ name, reason }`) for RenewEach's ItemReader; absent when nothing is due. */
  items: z.optional(s3ObjectSchema),
  /** Certificates not due; capped to keep the state small, `skippedCount` is the full count. */
  skipped: z.array(decisionSchema),
  skippedCount: z.number(),
  /** Due certificates the issuer's rate-limit budget leaves for a later run (budget/); each is tagged on its secret. */
  deferredByBudget: z.optional(z.number()),
  /** When the first of them gets a slot (ISO). */
  nextBudgetSlot: z.optional(z.string()),
  /** Who started the execution and why, handed to every certificate's PublishCertificate. */
  audit: z.optional(auditSchema),
});
export type CheckExpiryOutput = z.infer<typeof checkExpiryOutputSchema>;

/** The execution a step runs in (`$$.Execution.StartTime`, the state machine's TimeoutSeconds): how long a wait may be. */
export const executionWindowSchema = z.object({
  /** `$$.Execution.Id`: whose challenge values these are (see store/challengeHolders.ts). */
  id: z.optional(z.string()),
  startTime: z.string(),
  timeoutSeconds: z.number().check(z.positive()),
});

/** The Map item every per-certificate state receives. */
export const renewalItemSchema = z.object({
  name: z.string().check(z.minLength(1)),
  reason: z.string(),
  execution: z.optional(executionWindowSchema),
  /** Retry-After waits PlaceChallenges made so far in this execution. */
  pauses: z.optional(z.int().check(z.nonnegative())),
});
export type RenewalItem = z.infer<typeof renewalItemSchema>;

/**
 * One DNS-01 challenge value: THE challenge record. The ACME side, the DNS
 * provider and cleanup use views of it (acme/challenge.ts DnsChallengeRecord,
 * dns/route53.ts ChallengeInput and PresentedRecord), never a shape of their own.
 */
export const challengeRecordSchema = z.object({
  /** The name as ordered, `*.example.com` for a wildcard (its value sits at the apex's `_acme-challenge`). */
  identifier: z.string(),
  /** Where the TXT value is written (after following a CNAME delegation). */
  fqdn: z.string(),
  zoneId: z.string(),
  value: z.string(),
});
export type ChallengeRecord = z.infer<typeof challengeRecordSchema>;

export const orderStateSchema = z.object({
  orderUrl: z.optional(z.string()),
  /** True when a verified certificate is already stored and only publishing remains. */
  issued: z.boolean(),
  records: z.array(challengeRecordSchema),
  changeIds: z.array(z.string()),
  /** Propagation checks made so far. */
  attempt: z.int().check(z.nonnegative()),
  /** `new` or `resumed`: whether this run created the order. */
  origin: z.enum(['new', 'resumed', 'stored']),
  /** Order status checks FinalizeOrder made so far (the ASL's CountOrderCheck sets it). */
  finalizeAttempt: z.optional(z.int().check(z.nonnegative())),
});
export type OrderState = z.infer<typeof orderStateSchema>;

/** Wait (Wait state, SecondsPath `waitSeconds`), then run the same step again. */
export const waitingSchema = z.object({
  status: z.literal('waiting'),
  waitSeconds: z.int().check(z.positive()),
  cause: z.string(),
  attempt: z.int().check(z.nonnegative()),
});
/** Not in this execution: the CA's Retry-After lies past its end. */
export const deferredSchema = z.object({
  status: z.literal('deferred'),
  retryAfter: z.string(),
  cause: z.string(),
});

/** PlaceChallenges: the order and its records, or a pause the CA asked for (Retry-After). */
export const placeChallengesOutputSchema = z.union([orderStateSchema, waitingSchema, deferredSchema]);
export type PlaceChallengesOutput = z.infer<typeof placeChallengesOutputSchema>;

export const checkPropagationInputSchema = z.object({
  name: z.string(),
  order: orderStateSchema,
  attempt: z.int().check(z.nonnegative()),
});
export type CheckPropagationInput = z.infer<typeof checkPropagationInputSchema>;

export const checkPropagationOutputSchema = z.object({
  ready: z.boolean(),
  attempt: z.int(),
  missing: z.array(z.string()),
});
export type CheckPropagationOutput = z.infer<typeof checkPropagationOutputSchema>;

export const finalizeOrderInputSchema = z.object({
  name: z.string(),
  order: orderStateSchema,
  execution: z.optional(executionWindowSchema),
});
export type FinalizeOrderInput = z.infer<typeof finalizeOrderInputSchema>;

export const issuedSummarySchema = z.object({
  serial: z.string(),
  notBefore: z.string(),
  notAfter: z.string(),
  dnsNames: z.array(z.string()),
});
export type IssuedSummary = z.infer<typeof issuedSummarySchema>;

/** FinalizeOrder: issued, or not yet (order still at the CA, or Retry-After), or deferred past this execution. */
export const finalizeOrderOutputSchema = z.union([
  z.object({ status: z.literal('issued'), ...issuedSummarySchema.shape }),
  waitingSchema,
  deferredSchema,
]);
export type FinalizeOrderOutput = z.infer<typeof finalizeOrderOutputSchema>;

export const publishInputSchema = z.object({ name: z.string(), reason: z.string(), audit: z.optional(auditSchema) });
export type PublishInput = z.infer<typeof publishInputSchema>;

export const publishOutputSchema = z.object({
  serial: z.string(),
  notAfter: z.string(),
  /** Target ids that now hold this certificate, e.g. `secretsmanager:000000000000:us-east-1:certpipe/web`, `acm:000000000000:eu-west-1`. */
  targets: z.array(z.string()),
});
export type PublishOutput = z.infer<typeof publishOutputSchema>;

export const cleanupInputSchema = z.looseObject({
  name: z.string(),
  order: z.optional(z.partial(orderStateSchema)),
  error: z.optional(z.object({ Error: z.optional(z.string()), Cause: z.optional(z.string()) })),
  execution: z.optional(executionWindowSchema),
});
export type CleanupInput = z.infer<typeof cleanupInputSchema>;

export const cleanupOutputSchema = z.object({
  removed: z.number(),
  failures: z.array(z.string()),
});
export type CleanupOutput = z.infer<typeof cleanupOutputSchema>;

export const itemResultSchema = z.object({
  name: z.string(),
  reason: z.optional(z.string()),
  outcome: z.enum(['renewed', 'failed', 'deferred']),
  published: z.optional(publishOutputSchema),
  /** For `deferred`: when the CA lets this certificate ask again. */
  retryAfter: z.optional(z.string()),
  error: z.optional(z.string()),
  cause: z.optional(z.string()),
});
export type ItemResult = z.infer<typeof itemResultSchema>;

/** What RenewEach's ResultWriter returns: where the map run's manifest lies. */
export const mapRunResultsSchema = z.object({
  MapRunArn: z.string(),
  ResultWriterDetails: z.object({ Bucket: z.string(), Key: z.string() }),
});
export type MapRunResults = z.infer<typeof mapRunResultsSchema>;

export const summarizeInputSchema = z.object({
  check: checkExpiryOutputSchema,
  results: mapRunResultsSchema,
});
export type SummarizeInput = z.infer<typeof summarizeInputSchema>;

export const summarizeOutputSchema = z.object({
  renewed: z.number(),
  skipped: z.number(),
  failed: z.number(),
  failedNames: z.array(z.string()),
  /** Certificates the CA asked to come back after this execution's end (Retry-After), and those the rate-limit budget left for later; not failures. */
  deferred: z.number(),
  /** Of `deferred`: left by the rate-limit budget (CheckExpiry). */
  deferredByBudget: z.optional(z.number()),
  nextBudgetSlot: z.optional(z.string()),
  /** Per-certificate results, failed first, at most MAX_RESULTS_LISTED (the counts are complete); causes truncated. */
  results: z.array(itemResultSchema),
});
export type SummarizeOutput = z.infer<typeof summarizeOutputSchema>;

/** Parse a state's input; the message names the field (an InvalidInput error for the ASL). */
export function parseEvent<T>(schema: z.ZodMiniType<T>, event: unknown, state: string): T {
  const result = schema.safeParse(event);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new InvalidInput(`${state} received invalid input at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
}

/**
 * Each Task's function and the shapes it takes and returns: the contract with
 * statemachines/renewal.asl.json. stepHandler checks both ends at run time, and
 * test/unit/workflow-contract.test.ts ties these names to the ASL and to functions/.
 */
export const STATE_CONTRACT = {
  CheckExpiry: { input: checkExpiryInputSchema, output: checkExpiryOutputSchema },
  PlaceChallenges: { input: renewalItemSchema, output: placeChallengesOutputSchema },
  CheckPropagation: { input: checkPropagationInputSchema, output: checkPropagationOutputSchema },
  FinalizeOrder: { input: finalizeOrderInputSchema, output: finalizeOrderOutputSchema },
  PublishCertificate: { input: publishInputSchema, output: publishOutputSchema },
  CleanupChallenges: { input: cleanupInputSchema, output: cleanupOutputSchema },
  Summarize: { input: summarizeInputSchema, output: summarizeOutputSchema },
} as const;
export type StateName = keyof typeof STATE_CONTRACT;
