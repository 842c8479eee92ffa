import { includeRequest, stepContext } from './lib/context.js';
import { stepHandler } from './lib/handler.js';
import { route53Zones } from './lib/ports/route53Zones.js';
import { checkPropagation } from './lib/steps/checkPropagation.js';

const context = stepContext((base) => ({ dns: route53Zones(base.aws, base.inventory) }));
export const handler = stepHandler('CheckPropagation', (input) => {
  const ctx = context();
  return checkPropagation(ctx, input, ctx.inventory.propagationMaxAttempts);
}, { prepare: includeRequest });
