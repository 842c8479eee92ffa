import { stepContext } from './lib/context.js';
import { checkExpiryInputSchema } from './lib/events.js';
import { stepHandler } from './lib/handler.js';
import { checkExpiry } from './lib/steps/checkExpiry.js';

export const handler = stepHandler('CheckExpiry', checkExpiryInputSchema, (input) => checkExpiry(stepContext(), input));
