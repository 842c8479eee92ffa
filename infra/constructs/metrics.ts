// The CloudWatch metrics the alarms and the dashboard read. The functions emit
// them in Embedded Metric Format through Powertools, which adds the `service`
// dimension (POWERTOOLS_SERVICE_NAME) to every metric: an alarm must name the
// exact dimension set a metric is published with, so it is part of the contract.
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { FUNCTIONS, functionEnvironment } from '../functions.js';

const probe = functionEnvironment(FUNCTIONS[0]!, { inventoryPath: '' });
/** `Certpipe`: read from the functions' own environment, so the two cannot drift apart. */
export const METRICS_NAMESPACE = probe.POWERTOOLS_METRICS_NAMESPACE!;
/** The `service` dimension value Powertools puts on every metric. */
export const SERVICE_DIMENSION = { service: probe.POWERTOOLS_SERVICE_NAME! };

export const METRIC = {
  /** Days until the soonest expiry across all certificates (CheckExpiry, every run). Dimensions: service. */
  minDaysToExpiry: 'MinDaysToExpiry',
  /** Days until expiry per certificate. Dimensions: service, Certificate. */
  daysToExpiry: 'DaysToExpiry',
  /** Certificates that failed in a run (Summarize). Dimensions: service. */
  renewalsFailed: 'RenewalsFailed',
  /** ACME HTTP requests. Dimensions: service, Status (the HTTP status code, or `error` when no response came back). */
  acmeRequests: 'AcmeRequests',
} as const;

/**
 * The Status values the ACME error-rate alarm adds up. An alarm's math may use
 * at most 10 metrics, so these are the statuses an ACME server answers with:
 * success (200 OK, 201 Created, 204 No Content), and the failures that matter
 * (no response, 400 malformed/badNonce, 403 unauthorized, 404, 429 rate
 * limited, 500, 503 maintenance).
 */
export const ACME_OK_STATUSES = ['200', '201', '204'] as const;
export const ACME_ERROR_STATUSES = ['error', '400', '403', '404', '429', '500', '503'] as const;

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
