import { stepContext } from './lib/context.js';
import { finalizeOrderInputSchema } from './lib/events.js';
import { stepHandler } from './lib/handler.js';
import { finalizeOrder } from './lib/steps/finalizeOrder.js';

export const handler = stepHandler('FinalizeOrder', finalizeOrderInputSchema, (input) => finalizeOrder(stepContext(), input));
