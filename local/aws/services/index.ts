// The service modules the local endpoint serves, one per AWS service certpipe calls.
import type { ServiceFactory } from '../types.js';
import acm from './acm/service.js';
import cloudwatch from './cloudwatch/service.js';
import events from './events/service.js';
import route53 from './route53/service.js';
import s3 from './s3/service.js';
import secretsmanager from './secretsmanager/service.js';
import sns from './sns/service.js';
import lambda from './lambda/service.js';
import stepfunctions from './stepfunctions/service.js';
import sts from './sts/service.js';

// Lambda before Step Functions: the endpoint closes them in reverse, the caller first.
const SERVICES: readonly ServiceFactory[] = [secretsmanager, route53, s3, acm, sts, events, sns, cloudwatch, lambda, stepfunctions];

export async function loadServices(): Promise<readonly ServiceFactory[]> {
  return SERVICES;
}
