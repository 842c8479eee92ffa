import { runObjectsOf, stepContext } from './lib/context.js';
import { stepHandler } from './lib/handler.js';
import { checkExpiry } from './lib/steps/checkExpiry.js';

const context = stepContext((base) => ({ runObjects: runObjectsOf(base) }));
export const handler = stepHandler('CheckExpiry', (input) => checkExpiry(context(), input));
