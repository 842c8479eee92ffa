// Every dead-letter queue of the stacks: what a schedule, a subscription or a rule
// could not deliver is kept 14 days, encrypted (SQS-managed), reachable over TLS only.
import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { acknowledge } from './nag.js';

export function deadLetterQueue(scope: Construct, id: string): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  acknowledge(queue, {
    'AwsSolutions-SQS3': 'This queue is itself a dead-letter queue.',
    'Serverless-SQSRedrivePolicy': 'This queue is itself a dead-letter queue; nothing consumes it to fail again.',
  });
  return queue;
}
