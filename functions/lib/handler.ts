// The shape every handler shares: validate the event, add log context, run one
// step of the core, flush metrics, and let typed errors through for the ASL.
import type { Context } from 'aws-lambda';
import type * as z from 'zod/mini';
import { CertpipeError } from './errors.js';
import { parseEvent } from './events.js';
import { logger, publishMetrics, redactText } from './observability.js';

export function stepHandler<S extends z.ZodMiniType, R>(state: string, schema: S, step: (input: z.output<S>) => Promise<R> | R) {
  return async (event: unknown, context?: Context): Promise<R> => {
    if (context) logger.addContext(context);
    logger.appendKeys({ state });
    try {
      const input = parseEvent(schema, event, state) as z.output<S>;
      if (typeof (input as { name?: unknown }).name === 'string') logger.appendKeys({ certificate: (input as { name: string }).name });
      return await step(input);
    } catch (err) {
      const error = err as Error;
      logger.error(`${state} failed`, { error: error.name, detail: redactText(error.message) });
      if (err instanceof CertpipeError) throw err;
      // Anything else (an SDK exception, a bug) keeps its name for the ASL, with its message redacted.
      throw Object.assign(new Error(redactText(String(error.message))), { name: error.name || 'Error' });
    } finally {
      publishMetrics();
      logger.removeKeys(['certificate']);
    }
  };
}
