// The staging gate's and the canary's alarms and dashboard widgets (PipelineMonitoring adds them).
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { certpipeMetric, METRIC } from './metrics.js';

/** CloudWatch evaluates an alarm over at most 7 days. */
const MAX_ALARM_PERIOD_S = 7 * 86_400;

type AlarmMaker = (id: string, props: cloudwatch.CreateAlarmOptions & { metric: cloudwatch.IMetric }) => cloudwatch.Alarm;

export function gateAndCanaryAlarms(
  props: { stagingGate?: boolean; canaryIntervalSeconds?: number },
  alarm: AlarmMaker,
): { alarms: { stagingGateBlocked?: cloudwatch.Alarm; canaryFailing?: cloudwatch.Alarm }; widgets: cloudwatch.IWidget[] } {
  const alarms: { stagingGateBlocked?: cloudwatch.Alarm; canaryFailing?: cloudwatch.Alarm } = {};
  const widgets: cloudwatch.IWidget[] = [];
  if (props.stagingGate) {
    const blocked = certpipeMetric(METRIC.StagingGateBlocked, { statistic: 'Sum', period: Duration.minutes(5) });
    alarms.stagingGateBlocked = alarm('StagingGateBlocked', {
      metric: blocked,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription:
        'A certificate failed on its staging CA, so it was not ordered from production. `certpipe status` shows the gate and its reason; see the runbook, "Staging gate blocked".',
    });
    widgets.push(new cloudwatch.GraphWidget({ title: 'Staging gate: certificates blocked', left: [blocked.with({ label: 'blocked' })], width: 12 }));
  }
  if (props.canaryIntervalSeconds !== undefined) {
    // Two intervals without a success (a failure, or no canary run at all) page: missing data breaches.
    const period = Math.min(MAX_ALARM_PERIOD_S, Math.ceil((2 * props.canaryIntervalSeconds) / 60) * 60);
    const succeeded = certpipeMetric(METRIC.CanarySucceeded, { statistic: 'Minimum', period: Duration.seconds(period) });
    alarms.canaryFailing = alarm('CanaryFailing', {
      metric: succeeded,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      alarmDescription:
        'The canary certificate failed, or has not succeeded for two schedule intervals: the pipeline itself is broken (DNS, IAM, CA reachability) before any production certificate is due. See the runbook, "Canary failing".',
    });
    widgets.push(
      new cloudwatch.GraphWidget({
        title: 'Canary',
        left: [certpipeMetric(METRIC.CanarySucceeded, { statistic: 'Minimum', period: Duration.hours(1), label: 'succeeded (1) / failed (0)' })],
        right: [certpipeMetric(METRIC.CanaryDurationSeconds, { statistic: 'Maximum', period: Duration.hours(1), label: 'duration (s)' })],
        width: 12,
      }),
    );
  }
  return { alarms, widgets };
}
