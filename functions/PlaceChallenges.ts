import { stepContext } from './lib/context.js';
import { renewalItemSchema } from './lib/events.js';
import { stepHandler } from './lib/handler.js';
import { placeChallenges } from './lib/steps/placeChallenges.js';

export const handler = stepHandler('PlaceChallenges', renewalItemSchema, (item) => placeChallenges(stepContext(), item));
