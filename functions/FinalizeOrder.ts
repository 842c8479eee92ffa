import { stepContext } from './lib/context.js';
import { stepHandler } from './lib/handler.js';
import { finalizeOrder } from './lib/steps/finalizeOrder.js';

export const handler = stepHandler('FinalizeOrder', (input) => finalizeOrder(stepContext(), input));
