// Who or what started a change to a certificate, and why: carried in the
// execution input, copied into the Certificate Renewed / Rolled Back (and
// Revoked) event detail, and shown by `certpipe history`. Only ARNs and short
// words: never anything secret.
import * as z from 'zod/mini';

/** The schedule's own word for itself; a CLI caller is its STS caller ARN, a self-service request its secret's ARN. */
export const SCHEDULE = 'schedule';
/** An execution started with no audit fields (an older CLI, a hand-made StartExecution). */
export const UNSPECIFIED = 'unspecified';

export const auditSchema = z.object({
  startedBy: z.string().check(z.minLength(1), z.maxLength(2048)),
  why: z.string().check(z.maxLength(1024)),
});
export type Audit = z.infer<typeof auditSchema>;

/** The audit fields of an execution input, with what an input without them means. */
export function auditOf(input: { readonly startedBy?: unknown; readonly why?: unknown }): Audit {
  const startedBy = typeof input.startedBy === 'string' && input.startedBy !== '' ? input.startedBy : UNSPECIFIED;
  const why = typeof input.why === 'string' ? input.why : startedBy === UNSPECIFIED ? 'no reason given' : '';
  return { startedBy: startedBy.slice(0, 2048), why: why.slice(0, 1024) };
}

/** The fields an event's detail carries (`Certificate Renewed`, `Rolled Back`, `Revoked`): spread them into the detail. */
export function auditDetail(audit: Audit): { startedBy: string; why: string } {
  return { startedBy: audit.startedBy, why: audit.why };
}

/** A self-service certificate's change: started by its request secret, within a run started by someone else. */
export function requestAudit(requestArn: string, run: Audit | undefined): Audit {
  const runBy = run ? `${run.startedBy}${run.why ? ` (${run.why})` : ''}` : UNSPECIFIED;
  return { startedBy: requestArn, why: `self-service request, adopted in a run started by ${runBy}`.slice(0, 1024) };
}

/** The execution input's audit fields for a start by the CLI: the caller's ARN and what was asked. */
export function cliAudit(callerArn: string, why: string): Audit {
  return { startedBy: callerArn, why };
}
