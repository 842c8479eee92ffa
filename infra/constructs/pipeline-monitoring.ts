// Paging and the dashboard: an encrypted SNS topic with the configured email and
// HTTPS subscribers, the alarms that publish to it (and publish again when they
// recover, so a pager can auto-resolve), and one dashboard showing the same.
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { deadLetterQueue } from './dead-letter-queue.js';
import { gateAndCanaryAlarms } from './gate-monitoring.js';
import { ACME_ERROR_STATUSES, ACME_OK_STATUSES, certpipeMetric, METRIC, METRICS_NAMESPACE, SERVICE_DIMENSION } from './metrics.js';

export interface PipelineMonitoringProps {
  readonly stateMachine: sfn.IStateMachine;
  /** The workflow's functions, by state name (the name labels the dashboard lines). */
  readonly functions: ReadonlyArray<{ readonly name: string; readonly fn: lambda.IFunction }>;
  readonly deadLetterQueue: sqs.IQueue;
  readonly alarmEmails: readonly string[];
  readonly alarmHttpsEndpoints: readonly string[];
  readonly daysToExpiryThreshold: number;
  readonly acmeErrorRatePercent: number;
  readonly lambdaErrorsThreshold: number;
  /**
   * False when no certificate is configured: nothing reports MinDaysToExpiry
   * then, and missing data must not page.
   */
  readonly expectExpiryData: boolean;
  /** True when some certificate has a staging gate: a blocked gate pages. */
  readonly stagingGate?: boolean;
  /** Seconds between canary issuances (the longer of the schedule and `canary.every`); absent = no canary. */
  readonly canaryIntervalSeconds?: number;
}

const FIVE_MINUTES = Duration.minutes(5);
const ONE_HOUR = Duration.hours(1);
// The checker runs at least daily (the pipeline enforces it), so a day without a
// MinDaysToExpiry datapoint means it stopped: missing data pages.
const EXPIRY_PERIOD = Duration.days(1);

export class PipelineMonitoring extends Construct {
  readonly topic: sns.Topic;
  readonly topicKey: kms.Key;
  /** Notifications SNS could not deliver to a subscriber (kept 14 days). */
  readonly deliveryDeadLetterQueue?: sqs.Queue;
  readonly alarms: Record<
    'executionsFailed' | 'executionsTimedOut' | 'executionsThrottled' | 'minDaysToExpiry' | 'acmeErrorRate' | 'lambdaErrors' | 'schedulerDlqNotEmpty',
    cloudwatch.Alarm
  > &
    Partial<Record<'stagingGateBlocked' | 'canaryFailing', cloudwatch.Alarm>>;
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: PipelineMonitoringProps) {
    super(scope, id);

    // CloudWatch publishes to an encrypted topic only when the key lets it: the
    // AWS-managed aws/sns key cannot, so the topic has its own key.
    this.topicKey = new kms.Key(this, 'TopicKey', {
      description: 'certpipe: encrypts the alarm topic',
      enableKeyRotation: true,
    });
    this.topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'certpipe alarms',
      masterKey: this.topicKey,
      enforceSSL: true,
    });
    if (props.alarmEmails.length + props.alarmHttpsEndpoints.length > 0) {
      // A page SNS could not deliver (pager endpoint down) is kept instead of dropped.
      const deadLetters = deadLetterQueue(this, 'DeliveryDeadLetterQueue');
      this.deliveryDeadLetterQueue = deadLetters;
      for (const email of props.alarmEmails) this.topic.addSubscription(new subscriptions.EmailSubscription(email, { deadLetterQueue: deadLetters }));
      for (const url of props.alarmHttpsEndpoints) {
        this.topic.addSubscription(new subscriptions.UrlSubscription(url, { protocol: sns.SubscriptionProtocol.HTTPS, deadLetterQueue: deadLetters }));
      }
    }

    const sm = props.stateMachine;
    const countAtLeastOnce = (metric: cloudwatch.IMetric, alarmId: string, description: string) =>
      this.alarm(alarmId, {
        metric,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });

    const executionsFailed = countAtLeastOnce(
      sm.metricFailed({ period: FIVE_MINUTES, statistic: 'Sum' }),
      'ExecutionsFailed',
      'A renewal execution failed: at least one certificate was not renewed. Open the execution in Step Functions; the RenewEach results name each failed certificate and its error.',
    );
    const executionsTimedOut = countAtLeastOnce(
      sm.metricTimedOut({ period: FIVE_MINUTES, statistic: 'Sum' }),
      'ExecutionsTimedOut',
      'A renewal execution timed out. Check the CA and Route 53 propagation for the certificates it was renewing.',
    );
    const executionsThrottled = countAtLeastOnce(
      sm.metricThrottled({ period: FIVE_MINUTES, statistic: 'Sum' }),
      'ExecutionsThrottled',
      'Step Functions throttled the renewal workflow. Lower pipeline.maxConcurrency or raise the account quota.',
    );

    // No label: a labelled metric turns the alarm into a math alarm; the dashboard adds one.
    const minDays = certpipeMetric(METRIC.MinDaysToExpiry, { statistic: 'Minimum', period: EXPIRY_PERIOD });
    // Days left counted only for certificates under a sixth of their lifetime (functions/lib/expiryRisk.ts):
    // a healthy 6-day certificate always has fewer than 14 days, and must not page.
    const minDaysAtRisk = certpipeMetric(METRIC.MinDaysToExpiryAtRisk, { statistic: 'Minimum', period: EXPIRY_PERIOD });
    const minDaysToExpiry = this.alarm('MinDaysToExpiry', {
      metric: minDaysAtRisk,
      threshold: props.daysToExpiryThreshold,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: props.expectExpiryData ? cloudwatch.TreatMissingData.BREACHING : cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `A certificate expires in less than ${props.daysToExpiryThreshold} days with under a sixth of its lifetime left (it should have renewed), or the expiry check has not reported for a day (missing data pages). Run \`certpipe status\`.`,
    });

    const acmeMetrics: Record<string, cloudwatch.IMetric> = {};
    const acmeCount = (statuses: readonly string[], prefix: string) =>
      statuses.map((status, i) => {
        acmeMetrics[`${prefix}${i}`] = certpipeMetric(METRIC.AcmeRequests, { statistic: 'Sum', period: ONE_HOUR, dimensions: { Status: status } });
        return `FILL(${prefix}${i}, 0)`;
      });
    const errors = `(${acmeCount(ACME_ERROR_STATUSES, 'err').join(' + ')})`;
    const ok = `(${acmeCount(ACME_OK_STATUSES, 'ok').join(' + ')})`;
    const acmeErrorRateMetric = new cloudwatch.MathExpression({
      expression: `IF((${errors} + ${ok}) > 0, 100 * ${errors} / (${errors} + ${ok}), 0)`,
      usingMetrics: acmeMetrics,
      period: ONE_HOUR,
      label: 'ACME error rate (%)',
    });
    const acmeErrorRate = this.alarm('AcmeErrorRate', {
      metric: acmeErrorRateMetric,
      threshold: props.acmeErrorRatePercent,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `More than ${props.acmeErrorRatePercent}% of ACME requests failed in an hour. Check the CA's status page, rate limits and the PlaceChallenges/FinalizeOrder logs.`,
    });

    const errorMetrics: Record<string, cloudwatch.IMetric> = {};
    props.functions.forEach(({ fn }, i) => {
      errorMetrics[`e${i}`] = fn.metricErrors({ period: ONE_HOUR, statistic: 'Sum' });
    });
    const lambdaErrorsMetric = new cloudwatch.MathExpression({
      expression: Object.keys(errorMetrics).map((k) => `FILL(${k}, 0)`).join(' + ') || '0',
      usingMetrics: errorMetrics,
      period: ONE_HOUR,
      label: 'Function errors (all functions)',
    });
    // "Not ready yet" and a CA's Retry-After are normal results, not errors; a 429 or
    // 5xx without Retry-After is retried as an error, which the threshold leaves room for.
    const lambdaErrors = this.alarm('LambdaErrors', {
      metric: lambdaErrorsMetric,
      threshold: props.lambdaErrorsThreshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `certpipe functions raised ${props.lambdaErrorsThreshold} or more errors in an hour. Read the functions' log groups for the error names.`,
    });

    const schedulerDlqNotEmpty = countAtLeastOnce(
      props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum' }),
      'SchedulerDlqNotEmpty',
      'EventBridge Scheduler could not start the renewal workflow; the failed invocations are in the dead-letter queue. Check the schedule role and the state machine.',
    );

    const gate = gateAndCanaryAlarms(props, (id, alarmProps) => this.alarm(id, alarmProps));

    this.alarms = {
      executionsFailed,
      executionsTimedOut,
      executionsThrottled,
      minDaysToExpiry,
      acmeErrorRate,
      lambdaErrors,
      schedulerDlqNotEmpty,
      ...gate.alarms,
    };

    this.dashboard = this.buildDashboard(props, { minDays, acmeErrorRateMetric });
    for (const widget of gate.widgets) this.dashboard.addWidgets(widget);
  }

  private alarm(id: string, props: cloudwatch.CreateAlarmOptions & { metric: cloudwatch.IMetric }): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, props);
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    alarm.addOkAction(new actions.SnsAction(this.topic));
    return alarm;
  }

  private buildDashboard(
    props: PipelineMonitoringProps,
    m: { minDays: cloudwatch.Metric; acmeErrorRateMetric: cloudwatch.IMetric },
  ): cloudwatch.Dashboard {
    const sm = props.stateMachine;
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.days(7),
    });
    const period = FIVE_MINUTES;
    // One line per certificate without listing them (10,000 certificates fit): a metric search.
    const perCertificate = new cloudwatch.MathExpression({
      expression: `SEARCH('{${METRICS_NAMESPACE},Certificate,service} MetricName="${METRIC.DaysToExpiry}" service="${SERVICE_DIMENSION.service}"', 'Minimum', 86400)`,
      usingMetrics: {},
      period: EXPIRY_PERIOD,
      label: '',
    });
    dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({
        title: 'certpipe alarms',
        alarms: Object.values(this.alarms),
        width: 24,
        height: 3,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Renewal executions',
        left: [
          sm.metricStarted({ period, statistic: 'Sum' }),
          sm.metricSucceeded({ period, statistic: 'Sum' }),
          sm.metricFailed({ period, statistic: 'Sum' }),
          sm.metricTimedOut({ period, statistic: 'Sum' }),
          sm.metricThrottled({ period, statistic: 'Sum' }),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Days to expiry (soonest)',
        left: [m.minDays.with({ label: 'Soonest expiry (days)' })],
        leftAnnotations: [{ value: props.daysToExpiryThreshold, label: 'Alarm threshold', color: cloudwatch.Color.RED }],
        width: 12,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Days to expiry per certificate', left: [perCertificate], width: 12 }),
      new cloudwatch.GraphWidget({
        title: 'Renewals failed',
        left: [certpipeMetric(METRIC.RenewalsFailed, { statistic: 'Sum', period: ONE_HOUR })],
        width: 12,
      }),
    );
    const acmeByStatus = new cloudwatch.MathExpression({
      expression: `SEARCH('{${METRICS_NAMESPACE},Status,service} MetricName="${METRIC.AcmeRequests}" service="${SERVICE_DIMENSION.service}"', 'Sum', 300)`,
      usingMetrics: {},
      period,
      label: '',
    });
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'ACME requests by HTTP status',
        left: [acmeByStatus],
        right: [m.acmeErrorRateMetric],
        rightAnnotations: [{ value: props.acmeErrorRatePercent, label: 'Alarm threshold', color: cloudwatch.Color.RED }],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Dead-letter queues',
        left: [
          props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum', label: 'Schedule: runs not started' }),
          ...(this.deliveryDeadLetterQueue
            ? [this.deliveryDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum', label: 'Alarm topic: undelivered pages' })]
            : []),
        ],
        width: 12,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Function errors',
        left: props.functions.map(({ name, fn }) => fn.metricErrors({ period, statistic: 'Sum', label: name })),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Function duration (p99)',
        left: props.functions.map(({ name, fn }) => fn.metricDuration({ period, statistic: 'p99', label: name })),
        width: 12,
      }),
    );
    return dashboard;
  }
}
