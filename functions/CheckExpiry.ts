import { stepContext } from './lib/context.js';
import { stepHandler } from './lib/handler.js';
import { checkExpiry } from './lib/steps/checkExpiry.js';

export const handler = stepHandler('CheckExpiry', (input) => checkExpiry(stepContext(), input));
