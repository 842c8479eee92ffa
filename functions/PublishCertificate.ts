import { includeRequest, stepContext } from './lib/context.js';
import { stepHandler } from './lib/handler.js';
import { awsTargets } from './lib/ports/awsTargets.js';
import { eventBridge } from './lib/ports/eventBridge.js';
import { x509Checks } from './lib/ports/x509Checks.js';
import { publishCertificate } from './lib/steps/publishCertificate.js';

const context = stepContext((base) => ({
  certificates: x509Checks,
  targets: awsTargets(base.aws, base.store, base.now),
  events: eventBridge(base.aws, base.inventory.eventBusName),
}));
export const handler = stepHandler('PublishCertificate', (input) => publishCertificate(context(), input), { prepare: includeRequest });
