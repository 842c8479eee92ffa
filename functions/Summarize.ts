import { runObjectsOf, stepContext } from './lib/context.js';
import { stepHandler } from './lib/handler.js';
import { summarize } from './lib/steps/summarize.js';

const context = stepContext((base) => ({ runObjects: runObjectsOf(base) }));
export const handler = stepHandler('Summarize', (input) => summarize(context(), input));
