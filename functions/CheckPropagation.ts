import { stepContext } from './lib/context.js';
import { checkPropagationInputSchema } from './lib/events.js';
import { stepHandler } from './lib/handler.js';
import { checkPropagation } from './lib/steps/checkPropagation.js';

export const handler = stepHandler('CheckPropagation', checkPropagationInputSchema, (input) => {
  const ctx = stepContext();
  return checkPropagation(ctx, input, ctx.inventory.propagationMaxAttempts);
});
