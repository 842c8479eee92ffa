// The shape every handler shares: validate the event against its state's contract,
// add log context, run one step of the core, check the output (its contract, no key
// material), flush metrics, and let typed errors through (redacted) for the ASL.
import type { Context } from 'aws-lambda';
import type * as z from 'zod/mini';
import { CertpipeError, StateOutputInvalid } from './workflow/errors.js';
import { parseEvent, STATE_CONTRACT, type StateName } from './workflow/states.js';
import { assertNoKeyMaterial, logger, publishMetrics, redactText } from './observability.js';

export interface StepHandlerOptions {
  /** Runs before the step with the certificate's name (context.ts includeRequest: a self-service certificate's spec). */
  readonly prepare?: (name: string) => Promise<void>;
}

export function stepHandler<N extends StateName, R>(state: N, step: (input: z.output<(typeof STATE_CONTRACT)[N]['input']>) => Promise<R> | R, options: StepHandlerOptions = {}) {
  const contract = STATE_CONTRACT[state];
  return async (event: unknown, context?: Context): Promise<R> => {
    if (context) logger.addContext(context);
    logger.appendKeys({ state });
    try {
      const input = parseEvent(contract.input as z.ZodMiniType, event, state) as z.output<(typeof STATE_CONTRACT)[N]['input']>;
      if (typeof (input as { name?: unknown }).name === 'string') {
        logger.appendKeys({ certificate: (input as { name: string }).name });
        await options.prepare?.((input as { name: string }).name);
      }
      const output = await step(input);
      // The execution history is readable by anyone with states:GetExecutionHistory.
      assertNoKeyMaterial(output, `${state} output`);
      assertOutput(contract.output as z.ZodMiniType, output, state);
      return output;
    } catch (err) {
      const error = redactedError(err);
      logger.error(`${state} failed`, { error: error.name, detail: error.message });
      throw error;
    } finally {
      publishMetrics();
      logger.removeKeys(['certificate']);
    }
  };
}

/** What a step returns is what the next state reads: a shape outside the contract is a bug, stopped here. */
function assertOutput(schema: z.ZodMiniType, output: unknown, state: string): void {
  const result = schema.safeParse(output);
  if (result.success) return;
  const issue = result.error.issues[0]!;
  throw new StateOutputInvalid(`${state} returned output outside its contract at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
}

/**
 * The error as it may leave the function: its name (the ASL's Retry/Catch match it)
 * and its class kept, its message and stack redacted, and no cause (a downstream
 * error's text is not ours to pass on).
 */
function redactedError(err: unknown): Error {
  if (!(err instanceof Error)) return new Error(redactText(String(err)));
  if (err instanceof CertpipeError) {
    err.message = redactText(err.message);
    if (err.stack) err.stack = redactText(err.stack);
    delete (err as { cause?: unknown }).cause;
    return err;
  }
  // Anything else (an SDK exception, a bug) keeps its name for the ASL, with its message redacted.
  return Object.assign(new Error(redactText(String(err.message))), { name: err.name || 'Error' });
}
