import { stepContext } from './lib/context.js';
import { publishInputSchema } from './lib/events.js';
import { stepHandler } from './lib/handler.js';
import { publishCertificate } from './lib/steps/publishCertificate.js';

export const handler = stepHandler('PublishCertificate', publishInputSchema, (input) => publishCertificate(stepContext(), input));
