import { includeRequest, stepContext } from './lib/context.js';
import { stepHandler } from './lib/handler.js';
import { acmeAccounts } from './lib/ports/acmeAccounts.js';
import { route53Zones } from './lib/ports/route53Zones.js';
import { x509Certificates } from './lib/ports/x509Certificates.js';
import { placeChallenges } from './lib/steps/placeChallenges.js';

const context = stepContext((base) => ({
  acme: acmeAccounts(base.aws),
  dns: route53Zones(base.aws, base.inventory),
  certificates: x509Certificates,
}));
export const handler = stepHandler('PlaceChallenges', (item) => placeChallenges(context(), item), { prepare: includeRequest });
