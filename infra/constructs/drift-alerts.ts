// IAM drift paged: EventBridge rules on CloudTrail management events that
// change the pipeline's own roles, keys, hosted zones and secrets, each
// published to the alarm topic with what changed, on what, and who did it.
// One rule per service: each matches its own resource field, and the message
// names the resource from the path CloudTrail puts it at for that service.
import { Annotations, Stack, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { deadLetterQueue } from './dead-letter-queue.js';

export const CLOUDTRAIL_DETAIL_TYPE = 'AWS API Call via CloudTrail';

/** The management events that change what the pipeline's permissions rest on, per CloudTrail event source. */
export const DRIFT_EVENT_NAMES = {
  iam: [
    'PutRolePolicy',
    'DeleteRolePolicy',
    'AttachRolePolicy',
    'DetachRolePolicy',
    'UpdateAssumeRolePolicy',
    'PutRolePermissionsBoundary',
    'DeleteRolePermissionsBoundary',
    'DeleteRole',
  ],
  kms: ['PutKeyPolicy', 'DisableKey', 'ScheduleKeyDeletion'],
  route53: ['DeleteHostedZone'],
  secretsmanager: ['PutResourcePolicy', 'DeleteResourcePolicy'],
} as const;

/** IAM and Route 53 are global: CloudTrail hands their events to EventBridge in us-east-1 only. */
export const GLOBAL_EVENTS_REGION = 'us-east-1';

export interface DriftAlertsProps {
  /** The alarm topic the changes are published to. */
  readonly topic: sns.ITopic;
  /** The topic's key: EventBridge must be let use it to publish to an encrypted topic. */
  readonly topicKey: kms.IKey;
  /** Names of the pipeline's roles (tokens are fine: CloudFormation resolves them in the pattern). */
  readonly roleNames: readonly string[];
  /** ARNs of the pipeline's customer-managed keys. */
  readonly keyArns: readonly string[];
  /** Ids of the hosted zones the pipeline writes (zones the config names without an id are not watched). */
  readonly hostedZoneIds: readonly string[];
  /** Names of the secrets the pipeline owns; each is watched by name and by ARN (Secrets Manager adds a suffix). */
  readonly secretNames: readonly string[];
  /** A rule in us-east-1 forwards IAM and Route 53 events here (CertpipeGlobalEventsStack): no warning. @default false */
  readonly globalEventsForwarded?: boolean;
}

/**
 * Secret names as CloudTrail's `requestParameters.secretId` may carry them: the
 * caller passes a name or an ARN. A shared `<prefix>/` stands for all names
 * under it, so the pattern stays within EventBridge's size limit for any fleet.
 */
export function secretIdPatterns(names: readonly string[], arnPrefix: string): Array<{ prefix: string }> {
  const prefixes = [...new Set(names.map((n) => (n.includes('/') ? `${n.slice(0, n.indexOf('/'))}/` : n)))].sort();
  return prefixes.flatMap((p) => [{ prefix: p }, { prefix: `${arnPrefix}${p}` }]);
}

export class DriftAlerts extends Construct {
  readonly rules: events.Rule[] = [];

  constructor(scope: Construct, id: string, props: DriftAlertsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    // A page EventBridge could not hand to the topic (key or topic policy broken by the very drift it reports) is kept.
    const deadLetters = deadLetterQueue(this, 'DeadLetterQueue');
    const message = (resourcePath: string) =>
      events.RuleTargetInput.fromObject({
        alert: 'certpipe: a change to the pipeline\'s own permissions or resources',
        change: events.EventField.fromPath('$.detail.eventName'),
        resource: events.EventField.fromPath(resourcePath),
        who: events.EventField.fromPath('$.detail.userIdentity.arn'),
        time: events.EventField.fromPath('$.detail.eventTime'),
        account: events.EventField.fromPath('$.account'),
        sourceIp: events.EventField.fromPath('$.detail.sourceIPAddress'),
      });
    const rule = (ruleId: string, source: keyof typeof DRIFT_EVENT_NAMES, matched: Record<string, unknown>, resourcePath: string, description: string) => {
      const r = new events.Rule(this, ruleId, {
        description,
        eventPattern: {
          source: [`aws.${source}`],
          detailType: [CLOUDTRAIL_DETAIL_TYPE],
          detail: { eventSource: [`${source}.amazonaws.com`], eventName: [...DRIFT_EVENT_NAMES[source]], ...matched },
        },
      });
      r.addTarget(new targets.SnsTopic(props.topic, { message: message(resourcePath), deadLetterQueue: deadLetters }));
      this.rules.push(r);
    };

    if (props.roleNames.length > 0) {
      rule('RoleDrift', 'iam', { requestParameters: { roleName: [...props.roleNames] } }, '$.detail.requestParameters.roleName', 'certpipe: a policy or trust change on a pipeline role');
    }
    if (props.keyArns.length > 0) {
      // KMS records the key it acted on in `resources` whatever form (id, ARN, alias) the caller passed.
      rule('KeyDrift', 'kms', { resources: { ARN: [...props.keyArns] } }, '$.detail.resources[0].ARN', 'certpipe: a policy change, disable or deletion of a pipeline key');
    }
    if (props.hostedZoneIds.length > 0) {
      rule('ZoneDrift', 'route53', { requestParameters: { id: [...props.hostedZoneIds] } }, '$.detail.requestParameters.id', 'certpipe: deletion of a hosted zone the pipeline writes');
    }
    if (props.secretNames.length > 0) {
      const arnPrefix = `arn:${stack.partition}:secretsmanager:${stack.region}:${stack.account}:secret:`;
      rule('SecretDrift', 'secretsmanager', { requestParameters: { secretId: secretIdPatterns(props.secretNames, arnPrefix) } }, '$.detail.requestParameters.secretId', 'certpipe: a resource-policy change on a pipeline secret');
    }

    if (this.rules.length > 0) {
      props.topicKey.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'EventBridgeDriftRulesPublish',
          principals: [new iam.ServicePrincipal('events.amazonaws.com')],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
        }),
      );
    }
    if (!props.globalEventsForwarded && (Token.isUnresolved(stack.region) || stack.region !== GLOBAL_EVENTS_REGION)) {
      Annotations.of(this).addWarningV2(
        'certpipe:drift-global-events',
        `IAM and Route 53 CloudTrail events reach EventBridge in ${GLOBAL_EVENTS_REGION} only: the RoleDrift and ZoneDrift rules here see them only when a rule in ${GLOBAL_EVENTS_REGION} forwards aws.iam and aws.route53 events to this region's default event bus (the certpipe app deploys CertpipeGlobalEventsStack for that; with the construct alone, add it or set globalEventsForwarded).`,
      );
    }
  }
}
