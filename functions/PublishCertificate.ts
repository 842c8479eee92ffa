import { stepContext } from './lib/context.js';
import { stepHandler } from './lib/handler.js';
import { publishCertificate } from './lib/steps/publishCertificate.js';

export const handler = stepHandler('PublishCertificate', (input) => publishCertificate(stepContext(), input));
