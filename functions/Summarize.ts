import { summarizeInputSchema } from './lib/events.js';
import { stepHandler } from './lib/handler.js';
import { summarize } from './lib/steps/summarize.js';

export const handler = stepHandler('Summarize', summarizeInputSchema, (input) => summarize(input));
