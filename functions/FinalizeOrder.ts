import { includeRequest, stepContext } from './lib/context.js';
import { stepHandler } from './lib/handler.js';
import { acmeAccounts } from './lib/ports/acmeAccounts.js';
import { x509Certificates } from './lib/ports/x509Certificates.js';
import { finalizeOrder } from './lib/steps/finalizeOrder.js';

const context = stepContext((base) => ({ acme: acmeAccounts(base.aws), certificates: x509Certificates }));
export const handler = stepHandler('FinalizeOrder', (input) => finalizeOrder(context(), input), { prepare: includeRequest });
