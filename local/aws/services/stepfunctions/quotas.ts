// The Step Functions quotas certpipe can reach, enforced locally as AWS enforces
// them: an execution's history holds at most 25,000 events (the execution fails
// when event 25,000 would not be its ExecutionSucceeded), and a state's input,
// output or task result is at most 256 KiB (States.DataLimitExceeded).
// CERTPIPE_SFN_MAX_HISTORY_EVENTS and CERTPIPE_SFN_MAX_PAYLOAD_BYTES lower them,
// so a test reaches them in seconds.

export interface ExecutionQuotas {
  readonly maxHistoryEvents: number;
  readonly maxPayloadBytes: number;
}

export const AWS_QUOTAS: ExecutionQuotas = { maxHistoryEvents: 25_000, maxPayloadBytes: 256 * 1024 };

function positive(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 2) throw new Error(`${name} must be an integer of at least 2, not ${raw}`);
  return n;
}

/** The quotas for an execution starting now (read per execution, so a test may lower them between runs). */
export function executionQuotas(env: NodeJS.ProcessEnv = process.env): ExecutionQuotas {
  return {
    maxHistoryEvents: positive('CERTPIPE_SFN_MAX_HISTORY_EVENTS', env.CERTPIPE_SFN_MAX_HISTORY_EVENTS, AWS_QUOTAS.maxHistoryEvents),
    maxPayloadBytes: positive('CERTPIPE_SFN_MAX_PAYLOAD_BYTES', env.CERTPIPE_SFN_MAX_PAYLOAD_BYTES, AWS_QUOTAS.maxPayloadBytes),
  };
}

/** A payload's size as Step Functions counts it: the UTF-8 bytes of its JSON. */
export function payloadBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value ?? null), 'utf8');
}

/** The failure a quota causes, as the execution's error and cause. */
export interface QuotaFailure {
  readonly error: string;
  readonly cause: string;
}

export const historyLimitReached = (max: number): QuotaFailure => ({
  error: 'States.Runtime',
  cause: `The execution reached the maximum number of history events (${max}).`,
});

export const dataLimitExceeded = (what: string, stateName: string, bytes: number, max: number): QuotaFailure => ({
  error: 'States.DataLimitExceeded',
  cause: `The ${what} of state '${stateName}' has a size of ${bytes} bytes, which exceeds the maximum of ${max} bytes.`,
});
