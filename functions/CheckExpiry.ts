import { runObjectsOf, stepContext } from './lib/context.js';
import { stepHandler } from './lib/handler.js';
import { renewalInformation } from './lib/ports/renewalInfo.js';
import { requestSecrets } from './lib/selfService/requestSecrets.js';
import { checkExpiry } from './lib/steps/checkExpiry.js';

const context = stepContext((base) => ({
  ari: renewalInformation(base.aws.secretsManager()),
  requests: requestSecrets(base.aws.secretsManager()),
  runObjects: runObjectsOf(base),
}));
export const handler = stepHandler('CheckExpiry', (input) => checkExpiry(context(), input));
