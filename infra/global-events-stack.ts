// IAM and Route 53 are global services: CloudTrail hands their management events
// to EventBridge in us-east-1 only. When the pipeline runs in another region, this
// stack (in us-east-1, same account) forwards the ones the drift rules match to the
// pipeline region's default bus, where RoleDrift and ZoneDrift page as they do in
// us-east-1. It forwards by event name only: the pipeline's role names and zone ids
// live in the other region's stack, and the rules there narrow to them.
import { ArnFormat, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type { Construct } from 'constructs';
import { CLOUDTRAIL_DETAIL_TYPE, DRIFT_EVENT_NAMES, GLOBAL_EVENTS_REGION } from './constructs/drift-alerts.js';
import { deadLetterQueue } from './constructs/dead-letter-queue.js';

export interface CertpipeGlobalEventsStackProps extends Omit<StackProps, 'env'> {
  /** The pipeline's region, whose default event bus receives the events. */
  readonly pipelineRegion: string;
  /** The pipeline's account; absent = the account the stack is deployed to (env-agnostic). */
  readonly account?: string;
}

const FORWARDED = ['iam', 'route53'] as const;

export class CertpipeGlobalEventsStack extends Stack {
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: CertpipeGlobalEventsStackProps) {
    super(scope, id, {
      description: `certpipe: forwards IAM and Route 53 CloudTrail events from ${GLOBAL_EVENTS_REGION} to the pipeline in ${props.pipelineRegion}`,
      ...props,
      env: { region: GLOBAL_EVENTS_REGION, ...(props.account ? { account: props.account } : {}) },
    });
    const pipelineBus = events.EventBus.fromEventBusArn(
      this,
      'PipelineRegionBus',
      this.formatArn({ service: 'events', region: props.pipelineRegion, resource: 'event-bus', resourceName: 'default', arnFormat: ArnFormat.SLASH_RESOURCE_NAME }),
    );
    // An event EventBridge could not hand to the other region is kept here.
    const deadLetters = deadLetterQueue(this, 'DeadLetterQueue');
    this.rule = new events.Rule(this, 'ForwardGlobalEvents', {
      description: `certpipe: IAM and Route 53 changes the drift rules in ${props.pipelineRegion} match`,
      eventPattern: {
        source: FORWARDED.map((s) => `aws.${s}`),
        detailType: [CLOUDTRAIL_DETAIL_TYPE],
        detail: {
          eventSource: FORWARDED.map((s) => `${s}.amazonaws.com`),
          eventName: FORWARDED.flatMap((s) => [...DRIFT_EVENT_NAMES[s]]),
        },
      },
    });
    this.rule.addTarget(new targets.EventBus(pipelineBus, { deadLetterQueue: deadLetters }));
  }
}
