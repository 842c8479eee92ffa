import { stepContext } from './lib/context.js';
import { stepHandler } from './lib/handler.js';
import { placeChallenges } from './lib/steps/placeChallenges.js';

export const handler = stepHandler('PlaceChallenges', (item) => placeChallenges(stepContext(), item));
