import { stepContext } from './lib/context.js';
import { stepHandler } from './lib/handler.js';
import { checkPropagation } from './lib/steps/checkPropagation.js';

export const handler = stepHandler('CheckPropagation', (input) => {
  const ctx = stepContext();
  return checkPropagation(ctx, input, ctx.inventory.propagationMaxAttempts);
});
