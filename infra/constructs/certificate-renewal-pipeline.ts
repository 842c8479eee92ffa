// CertificateRenewalPipeline: the whole certpipe pipeline in one construct. The
// functions and the workflow definition are the project's own (infra/functions.ts,
// statemachines/renewal.asl.json); the props say what to renew and how to page.
import { Annotations, ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { SCHEDULE } from '../../functions/lib/audit/audit.js';
import type { Inventory } from '../../functions/lib/inventory.js';
import { arnSubstitution, renderDefinition, type TaskFunction } from '../../statemachines/definition.js';
import { configWarnings } from '../config/warnings.js';
import { scheduleIntervalSeconds } from '../config/gate.js';
import { FUNCTIONS, type FunctionSpec } from '../functions.js';
import { deadLetterQueue } from './dead-letter-queue.js';
import { DriftAlerts } from './drift-alerts.js';
import { InfraPropsError } from './errors.js';
import { acknowledge, acknowledgeStatement, justifyWildcard, wildcardFindings } from './nag.js';
import { checkExecutionBudget, route53RunWarning } from './execution-budget.js';
import { NEEDS, PipelinePermissions } from './permissions.js';
import { PipelineMonitoring } from './pipeline-monitoring.js';
import { RenewalFunctions } from './renewal-functions.js';
import {
  checkCount,
  checkDuration,
  checkEmails,
  checkHttpsEndpoints,
  checkInventory,
  checkNumber,
  checkScheduleCadence,
  MAX_INLINE_MAP_CONCURRENCY,
} from './validate-pipeline.js';

/** Environment variable naming the secrets' KMS key (set on Lambda; absent locally = the account's default key). */
export const KMS_KEY_ENV = 'CERTPIPE_KMS_KEY_ID';
/** Environment variable naming the run bucket (the due list and RenewEach's results). */
export const RUN_BUCKET_ENV = 'CERTPIPE_RUN_BUCKET';
/** Where in the run bucket CheckExpiry writes due lists and RenewEach's ResultWriter its results. */
const DUE_PREFIX = 'due/';
const RESULTS_PREFIX = 'results/';

/** The publisher role's default name: the target-account stacks trust it by name. */
export const DEFAULT_PUBLISHER_ROLE_NAME = 'certpipe-publisher';

export type LogLevelName = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export interface CertificateRenewalPipelineProps {
  /**
   * A rule in us-east-1 forwards IAM and Route 53 CloudTrail events to this region's
   * default bus (the app's CertpipeGlobalEventsStack does). Outside us-east-1 the
   * construct warns at synth unless this is set. @default false
   */
  readonly globalEventsForwarded?: boolean;
  /**
   * The certificates, issuers, hosted zones, targets and event bus, resolved
   * (every default applied): `toInventory(config, { region })` from
   * infra/config.ts. Bundled beside every function as `inventory.json`, and the
   * source of every IAM scope.
   */
  readonly inventory: Inventory;

  /**
   * When the expiry check runs. Must fire at least daily: the MinDaysToExpiry
   * alarm treats a day without data as breaching.
   * @default ScheduleExpression.rate(Duration.hours(12))
   */
  readonly schedule?: scheduler.ScheduleExpression;

  /**
   * EventBridge Scheduler's flexible time window: runs start anywhere within it,
   * which spreads load on the CA. Between 1 minute and 1440 minutes.
   * @default Duration.minutes(15)
   */
  readonly scheduleFlexibleWindow?: Duration;

  /**
   * How often Scheduler retries a failed StartExecution before the event goes to the dead-letter queue (0–185).
   * @default 3
   */
  readonly scheduleRetryAttempts?: number;

  /**
   * Certificates renewed at the same time (the RenewEach Map's MaxConcurrency), 1–40.
   * @default 5
   */
  readonly maxConcurrency?: number;

  /**
   * Wait before each DNS propagation check (the WaitForPropagation state), 1 second to 1 hour.
   * @default Duration.seconds(30)
   */
  readonly propagationWait?: Duration;

  /**
   * Maximum duration of one execution; it then fails as timed out (and pages).
   * @default Duration.hours(6)
   */
  readonly executionTimeout?: Duration;

  /**
   * Email addresses subscribed to the alarm topic (each confirms by email).
   * @default - no email subscription
   */
  readonly alarmEmails?: readonly string[];

  /**
   * HTTPS endpoints (a pager's SNS integration URL) subscribed to the alarm topic.
   * @default - no HTTPS subscription
   */
  readonly alarmHttpsEndpoints?: readonly string[];

  /**
   * The MinDaysToExpiry alarm fires when a certificate with under a sixth of its lifetime left is fewer than this many days from expiry (1–365).
   * @default 14
   */
  readonly daysToExpiryAlarmThreshold?: number;

  /**
   * The ACME error-rate alarm fires above this percentage of failed ACME requests in an hour (0–100).
   * @default 25
   */
  readonly acmeErrorRatePercent?: number;

  /**
   * The Lambda-errors alarm fires at this many errors in an hour across all
   * functions. A healthy renewal makes none ("not ready yet" and Retry-After are
   * normal results); a CA's 429 or 5xx without Retry-After is retried as an
   * error and counts, hence a threshold above 1.
   * @default 10
   */
  readonly lambdaErrorsThreshold?: number;

  /**
   * Retention of the functions' and the state machine's log groups.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * What happens to the log groups when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;

  /**
   * The functions' log level (POWERTOOLS_LOG_LEVEL).
   * @default 'INFO'
   */
  readonly logLevel?: LogLevelName;

  /**
   * AWS X-Ray tracing on the state machine and the functions.
   * @default false
   */
  readonly tracing?: boolean;

  /**
   * Name of the publisher's (PublishCertificate's) IAM role. Target-account
   * stacks trust this exact role, so it has a fixed name; change it when two
   * pipelines share an account (IAM role names are global to the account).
   * @default 'certpipe-publisher'
   */
  readonly publisherRoleName?: string;

  /**
   * The functions to deploy: one per Task state of the workflow.
   * @default FUNCTIONS from infra/functions.ts
   */
  readonly functions?: readonly FunctionSpec[];
}

/** The canary's alarm interval: the longer of the schedule and its own `every`. */
function canaryInterval(inventory: Inventory, schedule: string): { canaryIntervalSeconds?: number } {
  const canary = inventory.certificates.find((c) => c.canary)?.canary;
  return canary ? { canaryIntervalSeconds: Math.max(canary.everySeconds, scheduleIntervalSeconds(schedule)) } : {};
}

export class CertificateRenewalPipeline extends Construct {
  /** The renewal workflow (Standard). */
  readonly stateMachine: sfn.StateMachine;
  /** One function per Task state, by state name. */
  readonly functions: RenewalFunctions;
  /** Customer-managed key (rotation on) for the certificate and ACME account secrets. */
  readonly secretsKey: kms.Key;
  /** The role the publisher uses; target-account stacks trust it. */
  readonly publisherRoleArn: string;
  /** The run bucket: CheckExpiry's due list per run, RenewEach's results per map run. */
  readonly runBucket: s3.Bucket;
  readonly schedule: scheduler.Schedule;
  readonly scheduleDeadLetterQueue: sqs.Queue;
  readonly monitoring: PipelineMonitoring;
  /** CloudTrail changes to the pipeline's roles, keys, zones and secrets, paged through the alarm topic. */
  readonly driftAlerts: DriftAlerts;
  /** The inventory as validated and bundled. */
  readonly inventory: Inventory;

  constructor(scope: Construct, id: string, props: CertificateRenewalPipelineProps) {
    super(scope, id);
    const stack = Stack.of(this);

    const inventory = checkInventory(props.inventory);
    this.inventory = inventory;
    const maxConcurrency = checkCount('maxConcurrency', props.maxConcurrency ?? 5, 1, MAX_INLINE_MAP_CONCURRENCY, 'Step Functions runs at most 40 inline Map iterations at once; pick 1–40');
    const propagationWait = checkDuration('propagationWait', props.propagationWait ?? Duration.seconds(30), Duration.seconds(1), Duration.hours(1), 'pick a wait of 1 second to 1 hour (30 seconds suits Route 53)');
    const executionTimeout = checkDuration('executionTimeout', props.executionTimeout ?? Duration.hours(6), Duration.minutes(5), Duration.days(7), 'pick 5 minutes to 7 days');
    const flexibleWindow = checkDuration('scheduleFlexibleWindow', props.scheduleFlexibleWindow ?? Duration.minutes(15), Duration.minutes(1), Duration.minutes(1440), 'EventBridge Scheduler accepts 1 to 1440 minutes');
    const retryAttempts = checkCount('scheduleRetryAttempts', props.scheduleRetryAttempts ?? 3, 0, 185, 'EventBridge Scheduler accepts 0 to 185');
    const daysThreshold = checkNumber('daysToExpiryAlarmThreshold', props.daysToExpiryAlarmThreshold ?? 14, 1, 365, 'pick a number of days from 1 to 365');
    const acmeErrorRatePercent = checkNumber('acmeErrorRatePercent', props.acmeErrorRatePercent ?? 25, 0, 100, 'pick a percentage from 0 to 100');
    const lambdaErrorsThreshold = checkCount('lambdaErrorsThreshold', props.lambdaErrorsThreshold ?? 10, 1, 100_000, 'pick a count of at least 1');
    const alarmEmails = checkEmails('alarmEmails', props.alarmEmails ?? []);
    const alarmHttpsEndpoints = checkHttpsEndpoints('alarmHttpsEndpoints', props.alarmHttpsEndpoints ?? []);
    const schedule = props.schedule ?? scheduler.ScheduleExpression.rate(Duration.hours(12));
    checkScheduleCadence('schedule', schedule.expressionString);
    const specs = props.functions ?? FUNCTIONS;
    const missing = FUNCTIONS.map((f) => f.name).filter((n) => !specs.some((s) => s.name === n));
    if (missing.length > 0) {
      throw new InfraPropsError('CertificateRenewalPipeline', 'functions', `no function for the Task state(s) ${missing.join(', ')}`, 'pass one FunctionSpec per Task state (FUNCTIONS from infra/functions.ts)');
    }
    const tracing = props.tracing ?? false;
    const logRetention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;
    const logRemovalPolicy = props.logRemovalPolicy ?? RemovalPolicy.RETAIN;

    // One object per run (the due list) and the map run's result files: nothing here outlives a few runs.
    this.runBucket = new s3.Bucket(this, 'RunBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(14), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(this.runBucket, {
      'AwsSolutions-S1': 'Holds only the due lists and per-run results certpipe writes itself (names and reasons, no key material); the execution history already records who ran what.',
      'Serverless-S3BucketLogging': 'Holds only the due lists and per-run results certpipe writes itself; the execution history already records who ran what.',
    });

    this.secretsKey = new kms.Key(this, 'SecretsKey', {
      description: 'certpipe: encrypts the certificate and ACME account secrets',
      enableKeyRotation: true,
      // Secrets encrypted with it outlive the stack.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const publisherRoleName = props.publisherRoleName ?? DEFAULT_PUBLISHER_ROLE_NAME;
    this.functions = new RenewalFunctions(this, 'Functions', {
      functions: specs,
      inventory,
      logRetention,
      logRemovalPolicy,
      tracing,
      logLevel: props.logLevel ?? 'INFO',
      // PlaceChallenges: how long an execution may still need the challenge values it holds (store/pendingOrder.ts).
      extraEnvironment: { [KMS_KEY_ENV]: this.secretsKey.keyArn, CERTPIPE_EXECUTION_TIMEOUT_SECONDS: String(executionTimeout.toSeconds()) },
      roleNames: { PublishCertificate: publisherRoleName },
    });
    const permissions = new PipelinePermissions(stack, inventory, this.secretsKey.keyArn);
    // Once per construct, whatever the number of zones or functions the grant lands in.
    for (const w of configWarnings(inventory)) Annotations.of(this).addWarningV2('certpipe:config-warning', `certpipe config: ${w.path}: ${w.message}`);
    for (const spec of specs) {
      const role = this.functions.roles.get(spec.name)!;
      for (const statement of NEEDS[spec.name](permissions)) {
        role.addToPrincipalPolicy(statement);
        acknowledgeStatement(role, statement);
      }
      acknowledge(this.functions.get(spec.name), {
        'AwsSolutions-L1': 'nodejs22.x is the runtime certpipe is built and tested for (Node 20/22 locally); move with the project, not ahead of it.',
        'Serverless-LambdaLatestVersion': 'nodejs22.x is the runtime certpipe is built and tested for (Node 20/22 locally).',
        'Serverless-LambdaDLQ': 'Step Functions invokes the function synchronously and handles failures with Retry/Catch; there is no asynchronous invocation to dead-letter.',
        ...(tracing ? {} : { 'Serverless-LambdaTracing': 'X-Ray is opt-in (the tracing prop); structured logs and EMF metrics cover the default.' }),
      });
    }
    this.publisherRoleArn = this.functions.roles.get('PublishCertificate')!.roleArn;
    // CheckExpiry writes the due list, Summarize reads the results: exactly that, on exactly those prefixes.
    for (const name of ['CheckExpiry', 'Summarize'] as const) this.functions.get(name).addEnvironment(RUN_BUCKET_ENV, this.runBucket.bucketName);
    this.grantRunObjects(this.functions.roles.get('CheckExpiry')!, ['s3:PutObject'], DUE_PREFIX, 'CheckExpiry writes one due-list object per run under due/ (the key is per execution).');
    this.grantRunObjects(this.functions.roles.get('Summarize')!, ['s3:GetObject'], RESULTS_PREFIX, "Summarize reads the manifest and result files RenewEach's ResultWriter wrote under results/ (keys per map run).");

    this.stateMachine = this.buildStateMachine({ maxConcurrency, propagationWait, executionTimeout, tracing, logRetention, logRemovalPolicy });

    this.scheduleDeadLetterQueue = deadLetterQueue(this, 'ScheduleDeadLetterQueue');
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: 'certpipe: check expiry and renew what is due',
      schedule,
      timeWindow: scheduler.TimeWindow.flexible(flexibleWindow),
      target: new targets.StepFunctionsStartExecution(this.stateMachine, {
        // The audit trail names the schedule as what started these runs.
        input: scheduler.ScheduleTargetInput.fromObject({ startedBy: SCHEDULE, why: 'scheduled expiry check' }),
        deadLetterQueue: this.scheduleDeadLetterQueue,
        retryAttempts,
        maxEventAge: Duration.hours(1),
      }),
    });

    this.monitoring = new PipelineMonitoring(this, 'Monitoring', {
      stateMachine: this.stateMachine,
      functions: specs.map((s) => ({ name: s.name, fn: this.functions.get(s.name) })),
      deadLetterQueue: this.scheduleDeadLetterQueue,
      alarmEmails,
      alarmHttpsEndpoints,
      daysToExpiryThreshold: daysThreshold,
      acmeErrorRatePercent,
      lambdaErrorsThreshold,
      expectExpiryData: inventory.certificates.length > 0,
      stagingGate: inventory.certificates.some((c) => c.stagingGate),
      ...canaryInterval(inventory, schedule.expressionString),
    });
    this.driftAlerts = new DriftAlerts(this, 'DriftAlerts', {
      topic: this.monitoring.topic,
      topicKey: this.monitoring.topicKey,
      roleNames: [...this.functions.roles.values(), this.stateMachine.role].map((r) => r.roleName),
      keyArns: [this.secretsKey.keyArn, this.monitoring.topicKey.keyArn],
      hostedZoneIds: inventory.hostedZones.flatMap((z) => (z.id ? [z.id] : [])),
      secretNames: [...inventory.certificates.map((c) => c.secretName), ...inventory.issuers.map((i) => i.accountSecretName)],
      globalEventsForwarded: props.globalEventsForwarded ?? false,
    });

  }

  private buildStateMachine(o: {
    maxConcurrency: number;
    propagationWait: Duration;
    executionTimeout: Duration;
    tracing: boolean;
    logRetention: logs.RetentionDays;
    logRemovalPolicy: RemovalPolicy;
  }): sfn.StateMachine {
    const definition = renderDefinition({ maxConcurrency: o.maxConcurrency, propagationWaitSeconds: o.propagationWait.toSeconds(), executionTimeoutSeconds: o.executionTimeout.toSeconds() });
    checkExecutionBudget(JSON.parse(definition), {
      propagationMaxAttempts: this.inventory.propagationMaxAttempts,
      propagationWaitSeconds: o.propagationWait.toSeconds(),
      executionTimeoutSeconds: o.executionTimeout.toSeconds(),
    });
    const route53 = route53RunWarning(this.inventory, o.executionTimeout.toSeconds());
    if (route53) Annotations.of(this).addWarningV2('certpipe:route53-run-time', route53);
    const substitutions: Record<string, string> = {};
    for (const fn of FUNCTIONS) substitutions[arnSubstitution(fn.name as TaskFunction)] = this.functions.get(fn.name).functionArn;
    substitutions.RunBucketName = this.runBucket.bucketName;
    // A placeholder without a value would reach CloudFormation and fail the deploy: fail the synth instead.
    for (const [, key] of definition.matchAll(/\$\{(\w+)\}/g)) {
      if (!(key! in substitutions)) {
        throw new InfraPropsError('CertificateRenewalPipeline', 'functions', `statemachines/renewal.asl.json uses \${${key}} but no function provides it`, 'add the function to FUNCTIONS in infra/functions.ts or remove the placeholder');
      }
    }

    const logGroup = new logs.LogGroup(this, 'StateMachineLogs', {
      // The /aws/vendedlogs/ prefix keeps CloudWatch Logs' resource policy small as log groups grow.
      logGroupName: `/aws/vendedlogs/states/certpipe-${Stack.of(this).stackName}`,
      retention: o.logRetention,
      removalPolicy: o.logRemovalPolicy,
    });
    const stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(definition),
      definitionSubstitutions: substitutions,
      timeout: o.executionTimeout,
      tracingEnabled: o.tracing,
      // Execution data stays out of the logs: inputs and outputs belong in the execution history only.
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    for (const fn of this.functions.all) fn.grantInvoke(stateMachine);
    this.grantDistributedMap(stateMachine);
    const invokeWildcards = wildcardFindings(stateMachine.role, this.functions.all.map((fn) => `${fn.functionArn}:*`));
    acknowledge(stateMachine.role, {
      'AwsSolutions-IAM5[Resource::*]':
        'Added by CDK for Step Functions log delivery (logs:CreateLogDelivery and friends have no resource-level permissions)' + (o.tracing ? ' and X-Ray (xray:PutTraceSegments)' : '') + '.',
      ...Object.fromEntries(
        invokeWildcards.map((finding) => [
          `AwsSolutions-IAM5[Resource::${finding}]`,
          'lambda:InvokeFunction on the versions and aliases of a function of this stack (CDK grantInvoke); the workflow calls the unqualified ARN.',
        ]),
      ),
    });
    if (!o.tracing) {
      acknowledge(stateMachine, {
        'AwsSolutions-SF2': 'X-Ray is opt-in (the tracing prop); the execution history and CloudWatch Logs (level ALL) show every step.',
        'Serverless-StepFunctionStateMachineXray': 'X-Ray is opt-in (the tracing prop); the execution history and CloudWatch Logs (level ALL) show every step.',
      });
    }
    return stateMachine;
  }

  private grantRunObjects(role: iam.IRole, actions: string[], prefix: string, why: string): iam.PolicyStatement {
    const statement = justifyWildcard(new iam.PolicyStatement({ actions, resources: [this.runBucket.arnForObjects(`${prefix}*`)] }), why);
    role.addToPrincipalPolicy(statement);
    acknowledgeStatement(role, statement);
    return statement;
  }

  /**
   * What a Distributed Map needs of its role (what CDK's DistributedMap grants):
   * start child executions of this state machine, describe and stop them, read
   * the items, write the results. A separate policy, as CDK does, so the role
   * does not depend on the state machine that depends on the role.
   */
  private grantDistributedMap(stateMachine: sfn.StateMachine): void {
    const policy = new iam.Policy(this, 'DistributedMapPolicy');
    stateMachine.role.attachInlinePolicy(policy);
    const executions = Stack.of(this).formatArn({ service: 'states', resource: 'execution', resourceName: `${stateMachine.stateMachineName}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const statements = [
      new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [stateMachine.stateMachineArn] }),
      justifyWildcard(
        new iam.PolicyStatement({ actions: ['states:DescribeExecution', 'states:StopExecution'], resources: [executions] }),
        "The map run's child executions of this state machine (`<name>/<map run>:<id>`); their names are chosen by Step Functions.",
      ),
      justifyWildcard(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [this.runBucket.arnForObjects(`${DUE_PREFIX}*`)] }), "RenewEach's ItemReader reads the due list CheckExpiry wrote for this run."),
      justifyWildcard(
        new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'], resources: [this.runBucket.arnForObjects(`${RESULTS_PREFIX}*`)] }),
        "RenewEach's ResultWriter writes the map run's manifest and result files (keys per map run).",
      ),
    ];
    for (const statement of statements) {
      policy.addStatements(statement);
      acknowledgeStatement(policy, statement);
    }
  }
}

/** A dead-letter queue needs no dead-letter queue of its own. */

