// The CloudWatch metrics the alarms and the dashboard read. The functions emit
// them in Embedded Metric Format through Powertools, which adds the `service`
// dimension (POWERTOOLS_SERVICE_NAME) to every metric: an alarm must name the
// exact dimension set a metric is published with, so it is part of the contract.
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../functions/lib/workflow/metrics.js';

export { ACME_ERROR_STATUSES, ACME_OK_STATUSES, METRIC, METRICS_NAMESPACE } from '../../functions/lib/workflow/metrics.js';
/** The `service` dimension Powertools puts on every metric. */
export const SERVICE_DIMENSION = { service: SERVICE_NAME };

export function certpipeMetric(
  metricName: string,
  options: { statistic: string; period: Duration; dimensions?: Record<string, string>; label?: string },
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { ...SERVICE_DIMENSION, ...options.dimensions },
    statistic: options.statistic,
    period: options.period,
    ...(options.label ? { label: options.label } : {}),
  });
}
