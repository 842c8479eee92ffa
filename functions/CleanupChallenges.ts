import { stepContext } from './lib/context.js';
import { stepHandler } from './lib/handler.js';
import { cleanupChallenges } from './lib/steps/cleanupChallenges.js';

export const handler = stepHandler('CleanupChallenges', (input) => cleanupChallenges(stepContext(), input));
