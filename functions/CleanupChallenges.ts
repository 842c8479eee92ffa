import { includeRequest, stepContext } from './lib/context.js';
import { stepHandler } from './lib/handler.js';
import { route53Zones } from './lib/ports/route53Zones.js';
import { cleanupChallenges } from './lib/steps/cleanupChallenges.js';

const context = stepContext((base) => ({ dns: route53Zones(base.aws, base.inventory) }));
export const handler = stepHandler('CleanupChallenges', (input) => cleanupChallenges(context(), input), { prepare: includeRequest });
