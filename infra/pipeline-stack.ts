// The pipeline account's stack: the user's config, resolved into an inventory,
// handed to CertificateRenewalPipeline. Errors from the construct are re-stated
// in terms of the config file's fields, which is what the user edits.
import { CfnOutput, Duration, Stack, Token, type StackProps } from 'aws-cdk-lib';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type { Construct } from 'constructs';
import { toInventory, type CertpipeConfig } from './config.js';
import { CertificateRenewalPipeline, type CertificateRenewalPipelineProps } from './constructs/certificate-renewal-pipeline.js';
import { InfraPropsError } from './constructs/errors.js';

export interface CertpipePipelineStackProps extends StackProps {
  /** The validated config (loadConfig()). */
  readonly config: CertpipeConfig;
  /** The pipeline's region: secret targets without a region default to it, so it must be known at synth. */
  readonly region: string;
  /** Anything the config does not say (log retention, tracing, …). */
  readonly overrides?: Partial<Omit<CertificateRenewalPipelineProps, 'inventory'>>;
}

/** Construct prop → the config field it comes from. */
const CONFIG_FIELD: Record<string, string> = {
  schedule: 'pipeline.schedule',
  maxConcurrency: 'pipeline.maxConcurrency',
  propagationWait: 'pipeline.propagation.waitSeconds',
  alarmEmails: 'alarms.email',
  alarmHttpsEndpoints: 'alarms.https',
  daysToExpiryAlarmThreshold: 'alarms.daysToExpiry',
};

export class CertpipePipelineStack extends Stack {
  readonly pipeline: CertificateRenewalPipeline;

  constructor(scope: Construct, id: string, props: CertpipePipelineStackProps) {
    super(scope, id, {
      description: 'certpipe: ACME certificate renewal (Step Functions, Lambda, Route 53 DNS-01, Secrets Manager, ACM)',
      ...props,
      env: { ...props.env, region: props.region },
    });
    const { config } = props;
    const account = this.account;
    const inventory = toInventory(config, { region: props.region, ...(Token.isUnresolved(account) ? {} : { accountId: account }) });
    try {
      this.pipeline = new CertificateRenewalPipeline(this, 'Pipeline', {
        inventory,
        schedule: scheduler.ScheduleExpression.expression(config.pipeline.schedule),
        maxConcurrency: config.pipeline.maxConcurrency,
        propagationWait: Duration.seconds(config.pipeline.propagation.waitSeconds),
        alarmEmails: config.alarms.email,
        alarmHttpsEndpoints: config.alarms.https,
        daysToExpiryAlarmThreshold: config.alarms.daysToExpiry,
        ...props.overrides,
      });
    } catch (err) {
      if (err instanceof InfraPropsError) {
        const field = CONFIG_FIELD[err.prop] ?? err.prop.replace(/^inventory\./, '');
        throw new InfraPropsError('certpipe config', field, err.problem, err.fix);
      }
      throw err;
    }
    // Stack-level outputs keep their names (no hash): the CLI and the README read them.
    const p = this.pipeline;
    new CfnOutput(this, 'StateMachineArn', { value: p.stateMachine.stateMachineArn, description: 'The renewal workflow (certpipe status/renew use it)' });
    new CfnOutput(this, 'AlarmTopicArn', { value: p.monitoring.topic.topicArn, description: 'Subscribe a pager here' });
    new CfnOutput(this, 'SecretsKeyArn', { value: p.secretsKey.keyArn, description: 'KMS key of the certificate secrets' });
    new CfnOutput(this, 'PublisherRoleArn', { value: p.publisherRoleArn, description: 'Role the target-account stacks trust' });
    new CfnOutput(this, 'DashboardName', { value: p.monitoring.dashboard.dashboardName });
  }
}
