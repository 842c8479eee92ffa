// The pipeline stack's template, built once from the fixture config (esbuild is
// skipped here; bundling.test.ts bundles for real). Each test names the property
// of the template it guards.
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { CfnElement, type App } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderDefinition, TASK_FUNCTIONS } from '../../statemachines/definition.js';
import { FUNCTIONS } from '../../infra/functions.js';
import { CertpipePipelineStack } from '../../infra/pipeline-stack.js';
import { acknowledgements, acmGuardViolations, allStates, fixtureConfig, fixtureConfigDocument, nagFindings, normaliseTemplate, PIPELINE_ACCOUNT, REGION, TARGET_ROLE_ARN, testApp } from './support.js';

let app: App;
let stack: CertpipePipelineStack;
let template: Template;
let resources: Record<string, any>;

beforeAll(() => {
  app = testApp();
  stack = new CertpipePipelineStack(app, 'Certpipe', { config: fixtureConfig(), region: REGION, env: { account: PIPELINE_ACCOUNT } });
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources;
});

/** Logical id of the CloudFormation resource at a construct path. */
function logicalIdOf(path: string): string | undefined {
  const node = stack.node.findAll().find((c) => c.node.path === path);
  return node instanceof CfnElement ? stack.resolve(node.logicalId) : undefined;
}
const functionLogicalId = (name: string) => logicalIdOf(`Certpipe/Pipeline/Functions/${name}/Resource`)!;
/** The statements of the inline policy of a function's role, by Sid. */
function statementsOf(fn: string): Record<string, any> {
  const policyId = logicalIdOf(`Certpipe/Pipeline/Functions/${fn}Role/DefaultPolicy/Resource`)!;
  const statements: any[] = resources[policyId].Properties.PolicyDocument.Statement;
  return Object.fromEntries(statements.map((s, i) => [s.Sid ?? `#${i}`, s]));
}
const alarm = (id: string) => resources[logicalIdOf(`Certpipe/Pipeline/Monitoring/${id}/Resource`)!].Properties;

describe('functions', () => {
  it('runs every Task function on nodejs22.x arm64 with the sizes of infra/functions.ts', () => {
    for (const spec of FUNCTIONS) {
      const props = resources[functionLogicalId(spec.name)].Properties;
      expect(props).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: spec.memoryMb,
        Timeout: spec.timeoutSeconds,
      });
    }
    template.resourceCountIs('AWS::Lambda::Function', TASK_FUNCTIONS.length);
  });

  it('gives each function the environment of functionEnvironment(), with the bundled inventory and the KMS key', () => {
    const props = resources[functionLogicalId('FinalizeOrder')].Properties;
    expect(props.Environment.Variables).toEqual({
      CERTPIPE_INVENTORY: 'inventory.json',
      POWERTOOLS_SERVICE_NAME: 'certpipe',
      POWERTOOLS_METRICS_NAMESPACE: 'Certpipe',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      CERTPIPE_FUNCTION: 'FinalizeOrder',
      CERTPIPE_KMS_KEY_ID: { 'Fn::GetAtt': [logicalIdOf('Certpipe/Pipeline/SecretsKey/Resource'), 'Arn'] },
      CERTPIPE_EXECUTION_TIMEOUT_SECONDS: String(6 * 3600),
    });
  });

  it('logs each function to its own log group with a retention', () => {
    for (const spec of FUNCTIONS) {
      const props = resources[functionLogicalId(spec.name)].Properties;
      const logGroupId = props.LoggingConfig.LogGroup.Ref;
      expect(resources[logGroupId].Type).toBe('AWS::Logs::LogGroup');
      expect(resources[logGroupId].Properties.RetentionInDays).toBe(90);
      expect(resources[logGroupId].DeletionPolicy).toBe('Retain');
    }
  });

  it('uses roles without managed policies (only its own log group for logs)', () => {
    for (const spec of FUNCTIONS) {
      const roleId = logicalIdOf(`Certpipe/Pipeline/Functions/${spec.name}Role/Resource`)!;
      expect(resources[roleId].Properties.ManagedPolicyArns).toBeUndefined();
    }
    const logs = Object.values(statementsOf('Summarize'));
    expect(logs).toEqual([
      {
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [resources[functionLogicalId('Summarize')].Properties.LoggingConfig.LogGroup.Ref, 'Arn'] },
      },
      runObjectsStatement('s3:GetObject', 'results/*'),
    ]);
  });
});

/** A statement on the run bucket's objects under `prefix`. */
const runBucketId = () => logicalIdOf('Certpipe/Pipeline/RunBucket/Resource')!;
const runObjectsStatement = (action: string | string[], prefix: string) => ({
  Action: action,
  Effect: 'Allow',
  Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [runBucketId(), 'Arn'] }, `/${prefix}`]] },
});

describe('the run bucket (RenewEach is a Distributed Map)', () => {
  it('is private, encrypted, TLS-only and expires what it holds', () => {
    const bucket = resources[runBucketId()].Properties;
    expect(bucket.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
    expect(bucket.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(bucket.LifecycleConfiguration.Rules[0]).toMatchObject({ ExpirationInDays: 14, Status: 'Enabled' });
    const [policy] = Object.values(template.findResources('AWS::S3::BucketPolicy')) as any[];
    expect(JSON.stringify(policy.Properties.PolicyDocument)).toContain('aws:SecureTransport');
  });

  it('is named to CheckExpiry and Summarize only, which may write the due list and read the results, nothing else', () => {
    for (const spec of FUNCTIONS) {
      const env = resources[functionLogicalId(spec.name)].Properties.Environment.Variables;
      expect([spec.name, env.CERTPIPE_RUN_BUCKET]).toEqual([spec.name, ['CheckExpiry', 'Summarize'].includes(spec.name) ? { Ref: runBucketId() } : undefined]);
      const s3 = Object.values(statementsOf(spec.name)).filter((s: any) => JSON.stringify(s.Action).includes('s3:'));
      const expected = spec.name === 'CheckExpiry' ? [runObjectsStatement('s3:PutObject', 'due/*')] : spec.name === 'Summarize' ? [runObjectsStatement('s3:GetObject', 'results/*')] : [];
      expect([spec.name, s3]).toEqual([spec.name, expected]);
    }
  });

  it('lets the state machine start, describe and stop its own child executions, read the due list and write the results', () => {
    const policyId = logicalIdOf('Certpipe/Pipeline/DistributedMapPolicy/Resource')!;
    const policy = resources[policyId].Properties;
    const machineId = logicalIdOf('Certpipe/Pipeline/StateMachine/Resource')!;
    expect(policy.Roles).toEqual([{ Ref: logicalIdOf('Certpipe/Pipeline/StateMachine/Role/Resource') }]);
    const statements = policy.PolicyDocument.Statement;
    expect(statements[0]).toEqual({ Action: 'states:StartExecution', Effect: 'Allow', Resource: { Ref: machineId } });
    expect(statements[1].Action).toEqual(['states:DescribeExecution', 'states:StopExecution']);
    expect(JSON.stringify(statements[1].Resource)).toContain(':execution:');
    expect(JSON.stringify(statements[1].Resource)).toContain(machineId);
    expect(statements.slice(2)).toEqual([
      runObjectsStatement('s3:GetObject', 'due/*'),
      runObjectsStatement(['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'], 'results/*'),
    ]);
  });

  it('reads the items from the object CheckExpiry names and writes the results to the run bucket', () => {
    const machine = resources[logicalIdOf('Certpipe/Pipeline/StateMachine/Resource')!].Properties;
    expect(machine.DefinitionSubstitutions.RunBucketName).toEqual({ Ref: runBucketId() });
  });
});

describe('IAM', () => {
  it('limits ChangeResourceRecordSets to TXT _acme-challenge names in the configured zones, CREATE and DELETE only', () => {
    for (const fn of ['PlaceChallenges', 'CleanupChallenges']) {
      const write = statementsOf(fn).ChallengeRecordsWrite;
      expect(write.Action).toBe('route53:ChangeResourceRecordSets');
      expect(write.Resource).toEqual([
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':route53:::hostedzone/Z0EXAMPLECOM']] },
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':route53:::hostedzone/Z0EXAMPLEORG']] },
      ]);
      expect(write.Condition).toEqual({
        'ForAllValues:StringLike': {
          'route53:ChangeResourceRecordSetsNormalizedRecordNames': [
            '_acme-challenge.*.example.com',
            '_acme-challenge.*.example.org',
            '_acme-challenge.example.com',
            '_acme-challenge.example.org',
          ],
        },
        'ForAllValues:StringEquals': {
          'route53:ChangeResourceRecordSetsRecordTypes': ['TXT'],
          'route53:ChangeResourceRecordSetsActions': ['CREATE', 'DELETE'],
        },
      });
    }
  });

  it('lets no other function write DNS records', () => {
    for (const fn of ['CheckExpiry', 'CheckPropagation', 'FinalizeOrder', 'PublishCertificate', 'Summarize']) {
      const actions = Object.values(statementsOf(fn)).flatMap((s) => [s.Action].flat());
      expect(actions, fn).not.toContain('route53:ChangeResourceRecordSets');
    }
  });

  it("scopes Secrets Manager to certpipe's secrets by name", () => {
    const arn = (name: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:secretsmanager:${REGION}:${PIPELINE_ACCOUNT}:secret:${name}-??????`]] });
    const place = statementsOf('PlaceChallenges');
    expect(place.CertificateSecretsReadWrite.Resource).toEqual([arn('certpipe/partner'), arn('certpipe/web')]);
    expect(place.AcmeAccountSecretsReadWrite.Resource).toEqual([arn('certpipe/acme-account/letsencrypt'), arn('certpipe/acme-account/zerossl')]);
    expect(place.EabHmacSecretsRead).toMatchObject({ Action: 'secretsmanager:GetSecretValue', Resource: arn('certpipe/eab/zerossl') });
    expect(place.CertificateSecretsTag.Condition).toEqual({ 'ForAllValues:StringLike': { 'aws:TagKeys': ['certpipe:*'] } });
    // The expiry check lists metadata only and reads no secret value.
    expect(Object.values(statementsOf('CheckExpiry'))).toContainEqual({ Sid: 'ListSecretsMetadata', Action: 'secretsmanager:ListSecrets', Effect: 'Allow', Resource: '*' });
    const checkActions = Object.values(statementsOf('CheckExpiry')).flatMap((s) => [s.Action].flat());
    expect(checkActions).not.toContain('secretsmanager:GetSecretValue');
  });

  it('lets CleanupChallenges read no secret value, no ACME account and no KMS key: only describe and tag the certificate secrets', () => {
    const arn = (name: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:secretsmanager:${REGION}:${PIPELINE_ACCOUNT}:secret:${name}-??????`]] });
    const cleanup = statementsOf('CleanupChallenges');
    const actions = Object.values(cleanup).flatMap((s) => [s.Action].flat());
    expect(actions).not.toContain('secretsmanager:GetSecretValue');
    expect(actions.filter((a) => a.startsWith('kms:'))).toEqual([]);
    expect(actions.filter((a) => a.startsWith('secretsmanager:')).sort()).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:TagResource',
      'secretsmanager:UntagResource',
    ]);
    expect(cleanup.CertificateSecretsDescribe.Resource).toEqual([arn('certpipe/partner'), arn('certpipe/web')]);
    expect(cleanup.CertificateSecretsTag).toMatchObject({
      Resource: [arn('certpipe/partner'), arn('certpipe/web')],
      Condition: { 'ForAllValues:StringLike': { 'aws:TagKeys': ['certpipe:*'] } },
    });
  });

  it("gives PlaceChallenges the execution timeout, the longest a holder may need its challenge values", () => {
    const env = resources[functionLogicalId('PlaceChallenges')].Properties.Environment.Variables;
    expect(env.CERTPIPE_EXECUTION_TIMEOUT_SECONDS).toBe(String(6 * 3600));
  });

  it('uses the secrets key only through Secrets Manager in the stack region', () => {
    expect(statementsOf('FinalizeOrder').SecretsKeyViaSecretsManager.Condition).toEqual({
      StringEquals: { 'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com` },
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true, Description: Match.stringLikeRegexp('certificate and ACME account secrets') });
  });

  it('imports into ACM only certificates tagged certpipe:managed, in the configured regions', () => {
    const publish = statementsOf('PublishCertificate');
    const acmArn = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:acm:us-east-1:${PIPELINE_ACCOUNT}:certificate/*`]] };
    expect(publish.AcmImportNewTagged).toMatchObject({
      Action: 'acm:ImportCertificate',
      Resource: acmArn,
      Condition: { StringEquals: { 'aws:RequestTag/certpipe:managed': 'true' }, 'ForAllValues:StringLike': { 'aws:TagKeys': ['certpipe:*'] } },
    });
    expect(publish.AcmManagedOnly).toMatchObject({
      Action: ['acm:ImportCertificate', 'acm:AddTagsToCertificate', 'acm:DescribeCertificate', 'acm:ListTagsForCertificate'],
      Resource: acmArn,
      Condition: { StringEquals: { 'aws:ResourceTag/certpipe:managed': 'true' }, 'ForAllValues:StringLike': { 'aws:TagKeys': ['certpipe:*'] } },
    });
  });

  it("never lets the publisher tag or re-import an ACM certificate that is not certpipe's (tag a foreign one, then import over it)", () => {
    const publish = Object.values(statementsOf('PublishCertificate'));
    expect(publish.some((s) => [s.Action].flat().includes('acm:AddTagsToCertificate'))).toBe(true);
    expect(acmGuardViolations(publish)).toEqual([]);
  });

  it('assumes only the configured target roles and puts events only on the configured bus', () => {
    const publish = statementsOf('PublishCertificate');
    expect(publish.AssumeTargetRoles).toMatchObject({ Action: 'sts:AssumeRole', Resource: TARGET_ROLE_ARN });
    expect(publish.PutRenewedEvents).toMatchObject({
      Action: 'events:PutEvents',
      Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:events:${REGION}:${PIPELINE_ACCOUNT}:event-bus/default`]] },
    });
    for (const fn of ['CheckExpiry', 'PlaceChallenges', 'CheckPropagation', 'FinalizeOrder', 'CleanupChallenges', 'Summarize']) {
      const actions = Object.values(statementsOf(fn)).flatMap((s) => [s.Action].flat());
      expect(actions, fn).not.toContain('sts:AssumeRole');
      expect(actions, fn).not.toContain('events:PutEvents');
    }
  });

  it('gives the publisher the fixed role name the target stacks trust', () => {
    const roleId = logicalIdOf('Certpipe/Pipeline/Functions/PublishCertificateRole/Resource')!;
    expect(resources[roleId].Properties.RoleName).toBe('certpipe-publisher');
  });
});

describe('state machine', () => {
  const props = () => template.findResources('AWS::StepFunctions::StateMachine');

  it('is a Standard workflow whose definition (visible in the template) is renewal.asl.json with the config numbers', () => {
    const [sm] = Object.values(props()) as any[];
    expect(sm.Properties.StateMachineType).toBe('STANDARD');
    const definition = JSON.parse(sm.Properties.DefinitionString);
    expect(definition).toEqual(JSON.parse(renderDefinition({ maxConcurrency: 7, propagationWaitSeconds: 20, executionTimeoutSeconds: 6 * 3600 })));
    const states = Object.fromEntries(allStates(definition));
    expect(states.RenewEach.MaxConcurrency).toBe(7);
    expect(states.WaitForPropagation.Seconds).toBe(20);
  });

  it('carries the execution timeout in the definition (CDK drops the timeout prop of a string definition) and hands it to each certificate', () => {
    const [sm] = Object.values(props()) as any[];
    const definition = JSON.parse(sm.Properties.DefinitionString);
    expect(definition.TimeoutSeconds).toBe(6 * 3600);
    expect(definition.States.RenewEach.ItemSelector.execution).toEqual({ 'id.$': '$$.Execution.Id', 'startTime.$': '$$.Execution.StartTime', timeoutSeconds: 6 * 3600 });
  });

  it('resolves every Task resource to a function of this stack', () => {
    const [sm] = Object.values(props()) as any[];
    const definition = JSON.parse(sm.Properties.DefinitionString);
    const substitutions: Record<string, any> = sm.Properties.DefinitionSubstitutions;
    const tasks = allStates(definition).filter(([, s]) => s.Type === 'Task');
    expect(tasks.length).toBeGreaterThanOrEqual(TASK_FUNCTIONS.length);
    for (const [name, state] of tasks) {
      const key = /^\$\{(\w+)\}$/.exec(state.Resource)?.[1];
      expect(key, `${name}.Resource`).toBeDefined();
      const value = substitutions[key!];
      expect(value, key).toEqual({ 'Fn::GetAtt': [expect.any(String), 'Arn'] });
      expect(resources[value['Fn::GetAtt'][0]].Type, key).toBe('AWS::Lambda::Function');
      // The state named after a handler runs that handler's function.
      if ((TASK_FUNCTIONS as readonly string[]).includes(name)) expect(value['Fn::GetAtt'][0]).toBe(functionLogicalId(name));
    }
    expect(JSON.stringify(definition).match(/\$\{(\w+)\}/g)?.every((p) => p.slice(2, -1) in substitutions)).toBe(true);
  });

  it('logs to CloudWatch at level ALL without execution data, and X-Ray is off by default', () => {
    const [sm] = Object.values(props()) as any[];
    expect(sm.Properties.LoggingConfiguration).toMatchObject({ IncludeExecutionData: false, Level: 'ALL' });
    expect(sm.Properties.TracingConfiguration).toEqual({ Enabled: false });
    const logGroupArn = sm.Properties.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn;
    expect(resources[logGroupArn['Fn::GetAtt'][0]].Properties.RetentionInDays).toBe(90);
  });

  it('may invoke only the functions of this stack', () => {
    const policyId = logicalIdOf('Certpipe/Pipeline/StateMachine/Role/DefaultPolicy/Resource')!;
    const invoke = resources[policyId].Properties.PolicyDocument.Statement.filter((s: any) => s.Action === 'lambda:InvokeFunction');
    const targets = invoke.flatMap((s: any) => s.Resource).map((r: any) => JSON.stringify(r));
    for (const fn of FUNCTIONS) expect(targets.some((t: string) => t.includes(functionLogicalId(fn.name)))).toBe(true);
    expect(targets.every((t: string) => FUNCTIONS.some((fn) => t.includes(functionLogicalId(fn.name))))).toBe(true);
  });
});

describe('schedule', () => {
  it('starts the workflow, naming the schedule as what started it, on the config schedule, in a flexible window, with retries and a dead-letter queue', () => {
    const [schedule] = Object.values(template.findResources('AWS::Scheduler::Schedule')) as any[];
    const p = schedule.Properties;
    expect(p.ScheduleExpression).toBe('rate(6 hours)');
    expect(p.State).toBe('ENABLED');
    expect(p.FlexibleTimeWindow).toEqual({ Mode: 'FLEXIBLE', MaximumWindowInMinutes: 15 });
    expect(p.Target.Arn).toEqual({ Ref: logicalIdOf('Certpipe/Pipeline/StateMachine/Resource') });
    expect(JSON.parse(p.Target.Input)).toEqual({ startedBy: 'schedule', why: 'scheduled expiry check' });
    expect(p.Target.RetryPolicy).toEqual({ MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 });
    expect(p.Target.DeadLetterConfig.Arn).toEqual({ 'Fn::GetAtt': [logicalIdOf('Certpipe/Pipeline/ScheduleDeadLetterQueue/Resource'), 'Arn'] });
  });
});

describe('alarms and paging', () => {
  it('subscribes the configured email and HTTPS endpoints to an encrypted topic', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'https', Endpoint: 'https://events.example.com/integration/certpipe' });
  });

  it.each([
    ['ExecutionsFailed', 'ExecutionsFailed'],
    ['ExecutionsTimedOut', 'ExecutionsTimedOut'],
    ['ExecutionsThrottled', 'ExecutionThrottled'],
  ])('%s pages on one %s execution, and missing data is not breaching', (id, metric) => {
    expect(alarm(id)).toMatchObject({
      Namespace: 'AWS/States',
      MetricName: metric,
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: logicalIdOf('Certpipe/Pipeline/StateMachine/Resource') } }],
    });
  });

  it('MinDaysToExpiry pages under alarms.daysToExpiry for a certificate at risk (MinDaysToExpiryAtRisk), and a day without data (the checker stopped) is breaching', () => {
    expect(alarm('MinDaysToExpiry')).toMatchObject({
      Namespace: 'Certpipe',
      MetricName: 'MinDaysToExpiryAtRisk',
      Dimensions: [{ Name: 'service', Value: 'certpipe' }],
      Statistic: 'Minimum',
      Period: 86400,
      Threshold: 21,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
  });

  it('AcmeErrorRate computes failed / all ACME requests per hour by Status', () => {
    const a = alarm('AcmeErrorRate');
    expect(a).toMatchObject({ Threshold: 25, ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'notBreaching' });
    const statuses = a.Metrics.filter((m: any) => m.MetricStat).map((m: any) => m.MetricStat.Metric.Dimensions.find((d: any) => d.Name === 'Status').Value);
    expect(statuses.sort()).toEqual(['200', '201', '204', '400', '403', '404', '429', '500', '503', 'error']);
    expect(a.Metrics.length).toBeLessThanOrEqual(11);
    for (const m of a.Metrics.filter((x: any) => x.MetricStat)) {
      expect(m.MetricStat).toMatchObject({ Metric: { Namespace: 'Certpipe', MetricName: 'AcmeRequests' }, Period: 3600, Stat: 'Sum' });
    }
  });

  it('LambdaErrors adds up the errors of every function', () => {
    const a = alarm('LambdaErrors');
    expect(a).toMatchObject({ Threshold: 10, TreatMissingData: 'notBreaching' });
    const names = a.Metrics.filter((m: any) => m.MetricStat).map((m: any) => m.MetricStat.Metric.Dimensions[0].Value.Ref);
    expect(names.sort()).toEqual(FUNCTIONS.map((f) => functionLogicalId(f.name)).sort());
  });

  it('SchedulerDlqNotEmpty pages on one message in the schedule dead-letter queue', () => {
    expect(alarm('SchedulerDlqNotEmpty')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
      TreatMissingData: 'notBreaching',
    });
  });

  it('sends every alarm and its recovery to the topic', () => {
    const topic = { Ref: logicalIdOf('Certpipe/Pipeline/Monitoring/AlarmTopic/Resource') };
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as any[];
    expect(alarms).toHaveLength(7);
    for (const a of alarms) {
      expect(a.Properties.AlarmActions).toEqual([topic]);
      expect(a.Properties.OKActions).toEqual([topic]);
      expect(a.Properties.AlarmDescription.length).toBeGreaterThan(20);
    }
  });

  it('has a dashboard showing the alarms', () => {
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard')) as any[];
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const text of ['MinDaysToExpiry', 'DaysToExpiry', 'AcmeRequests', 'RenewalsFailed', 'ApproximateNumberOfMessagesVisible']) expect(body).toContain(text);
  });
});

describe('synth warnings', () => {
  const warningsOf = (s: CertpipePipelineStack) =>
    Annotations.fromStack(s).findWarning('*', Match.stringLikeRegexp('hostedzone/\\*')).map((w) => String(w.entry.data));

  it('warns once, naming hostedzone/* and the fix, when a hosted zone has no id', () => {
    const doc = fixtureConfigDocument();
    doc.hostedZones = [{ name: 'example.com' }, { name: 'example.org' }];
    const noIds = new CertpipePipelineStack(testApp(), 'Certpipe', { config: fixtureConfig(doc), region: REGION, env: { account: PIPELINE_ACCOUNT } });
    const warnings = warningsOf(noIds);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('zones "example.com", "example.org" have no id');
    expect(warnings[0]).toContain("add each zone's id");
  });

  it('says nothing when every zone has its id', () => {
    expect(warningsOf(stack)).toEqual([]);
  });
});

it('names its outputs for the CLI and the README (no hash in the key)', () => {
  const outputs = template.toJSON().Outputs;
  expect(Object.keys(outputs).sort()).toEqual(['AlarmTopicArn', 'DashboardName', 'PublisherRoleArn', 'SecretsKeyArn', 'StateMachineArn']);
  expect(outputs.StateMachineArn.Value).toEqual({ Ref: logicalIdOf('Certpipe/Pipeline/StateMachine/Resource') });
});

describe('cdk-nag', () => {
  it('reports nothing unacknowledged for AwsSolutions and Serverless', () => {
    expect(nagFindings(app)).toEqual([]);
  });

  it('gives every acknowledgement a reason', () => {
    const acks = acknowledgements(stack);
    expect(acks.length).toBeGreaterThan(0);
    for (const a of acks) expect(a.reason.length, `${a.path} ${a.id}`).toBeGreaterThan(30);
  });
});

it('matches the snapshot (asset hashes normalised)', () => {
  expect(normaliseTemplate(template.toJSON())).toMatchSnapshot();
});
