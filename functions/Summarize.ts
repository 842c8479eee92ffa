import { stepHandler } from './lib/handler.js';
import { summarize } from './lib/steps/summarize.js';

export const handler = stepHandler('Summarize', (input) => summarize(input));
