// The shape every handler shares: validate the event, add log context, run one
// step of the core, flush metrics, and let typed errors through for the ASL.
import type { Context } from 'aws-lambda';
import type * as z from 'zod/mini';
import { CertpipeError } from './errors.js';
import { parseEvent } from './events.js';
import { assertNoKeyMaterial, logger, publishMetrics, redactText } from './observability.js';

export function stepHandler<S extends z.ZodMiniType, R>(state: string, schema: S, step: (input: z.output<S>) => Promise<R> | R) {
  return async (event: unknown, context?: Context): Promise<R> => {
    if (context) logger.addContext(context);
    logger.appendKeys({ state });
    try {
      const input = parseEvent(schema, event, state) as z.output<S>;
      if (typeof (input as { name?: unknown }).name === 'string') logger.appendKeys({ certificate: (input as { name: string }).name });
      const output = await step(input);
      // The execution history is readable by anyone with states:GetExecutionHistory.
      assertNoKeyMaterial(output, `${state} output`);
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
