// The service modules the local endpoint serves, one per AWS service certpipe calls.
import type { ServiceFactory } from '../types.js';
import acm from './acm.js';
import cloudwatch from './cloudwatch.js';
import events from './events.js';
import route53 from './route53.js';
import secretsmanager from './secretsmanager.js';
import stepfunctions from './stepfunctions.js';
import sts from './sts.js';

const SERVICES: readonly ServiceFactory[] = [secretsmanager, route53, acm, sts, events, cloudwatch, stepfunctions];

export async function loadServices(): Promise<readonly ServiceFactory[]> {
  return SERVICES;
}
