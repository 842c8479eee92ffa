import { stepContext } from './lib/context.js';
import { stepHandler } from './lib/handler.js';
import { checkExpiry } from './lib/steps/checkExpiry.js';

const context = stepContext();
export const handler = stepHandler('CheckExpiry', (input) => checkExpiry(context(), input));
