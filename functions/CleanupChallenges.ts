import { stepContext } from './lib/context.js';
import { cleanupInputSchema } from './lib/events.js';
import { stepHandler } from './lib/handler.js';
import { cleanupChallenges } from './lib/steps/cleanupChallenges.js';

export const handler = stepHandler('CleanupChallenges', cleanupInputSchema, (input) => cleanupChallenges(stepContext(), input));
