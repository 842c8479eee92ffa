// What AWS authorizes for each operation the local endpoint serves: the IAM
// action, the resource ARN(s) built from the request, and the condition keys
// AWS sets for it. Pure: the stored state it needs (a secret's full ARN and
// tags, a certificate's tags) comes through the `ResourceTags` port.
// README.md beside this file is generated from OPERATIONS (see operationsMarkdown).
import { normalizeName } from '../services/route53/names.js';

export type ContextValue = string | string[];

/** Who calls and where: the caller's account and the signed region. */
export interface RequestScope {
  readonly accountId: string;
  readonly region: string;
}

/** Which resource-based policy the caller must supply for the evaluation, if any. */
export type ResourcePolicyKind = 'secret' | 'kms-key' | 'role-trust';

export interface AuthorizationRequest {
  readonly action: string;
  /** Every ARN must be allowed (one per event bus of a PutEvents, else one). `*` for actions without resource-level permissions. */
  readonly resources: readonly string[];
  /** The account that owns the resources (the caller's for Route 53 and `*`). */
  readonly resourceAccountId: string;
  readonly context: Readonly<Record<string, ContextValue>>;
  readonly resourcePolicy?: ResourcePolicyKind;
  /** AWS allows GetCallerIdentity to everyone: nothing to evaluate. */
  readonly alwaysAllowed?: true;
  /** Calls the service makes on the caller's behalf, each authorized too (KMS through Secrets Manager). */
  readonly onBehalf?: readonly AuthorizationRequest[];
}

/** A stored resource as the authorization needs it. */
export interface StoredResource {
  readonly arn: string;
  readonly tags: Readonly<Record<string, string>>;
  /** Secrets: the customer-managed key, as stored (ARN, key id or alias). */
  readonly kmsKeyId?: string;
}

/** The narrow port to the services' stores: a secret by name or ARN, a certificate or state machine by ARN. */
export interface ResourceTags {
  /** `kmsKey` resolves an alias or key id to the key's ARN (KMS authorizes on the key, never the alias). */
  find(kind: 'secret' | 'certificate' | 'stateMachine' | 'kmsKey', id: string, scope: RequestScope): StoredResource | undefined;
}

export const NO_RESOURCES: ResourceTags = { find: () => undefined };

/** One recorded change of a Route 53 ChangeBatch, as read from the request body. */
export interface RecordChange {
  readonly action: string;
  readonly name: string;
  readonly type: string;
}

/** The request as each protocol family presents it. */
export type OperationInput =
  | { readonly protocol: 'json'; readonly body: Readonly<Record<string, unknown>> }
  | { readonly protocol: 'query'; readonly params: URLSearchParams }
  | { readonly protocol: 'rest-xml'; readonly id?: string; readonly changes?: readonly RecordChange[]; readonly bucket?: string; readonly key?: string };

/** One row of the documented table. */
export interface OperationRule {
  readonly service: string;
  readonly operation: string;
  readonly action: string;
  /** The resource ARN pattern, for the table. */
  readonly resource: string;
  /** Condition keys the request sets (besides the global aws:PrincipalArn/aws:PrincipalAccount), for the table. */
  readonly conditionKeys: readonly string[];
}

// ---------------------------------------------------------------------------
// Shared helpers

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
/** `{ key: value }` when the request has the value, else nothing: AWS leaves absent keys unset. */
const present = (key: string, value: ContextValue | undefined): Record<string, ContextValue> => (value === undefined ? {} : { [key]: value });
const accountOfArn = (arn: string, fallback: string): string => /^arn:[^:]*:[^:]*:[^:]*:(\d{12}):/.exec(arn)?.[1] ?? fallback;

/** `aws:RequestTag/<k>` and `aws:TagKeys` from a list of tags (ACM/Secrets Manager `Key`/`Value`, Step Functions `key`/`value`). */
export function requestTagContext(tags: unknown): Record<string, ContextValue> {
  if (!Array.isArray(tags) || tags.length === 0) return {};
  const context: Record<string, ContextValue> = {};
  const keys: string[] = [];
  for (const tag of tags as Array<Record<string, unknown>>) {
    const key = str(tag?.Key) ?? str(tag?.key);
    if (key === undefined) continue;
    keys.push(key);
    context[`aws:RequestTag/${key}`] = String(tag.Value ?? tag.value ?? '');
  }
  context['aws:TagKeys'] = keys;
  return context;
}

/**
 * `aws:ResourceTag/<k>` from stored tags. Secrets Manager's older alias
 * `secretsmanager:ResourceTag/<k>` is not set: the evaluator's service data
 * knows it only as a literal key name and refuses per-key values, so a policy
 * must use `aws:ResourceTag/<k>` (certpipe's do) to be judged locally.
 */
export function resourceTagContext(tags: Readonly<Record<string, string>> | undefined): Record<string, ContextValue> {
  const context: Record<string, ContextValue> = {};
  for (const [key, value] of Object.entries(tags ?? {})) context[`aws:ResourceTag/${key}`] = value;
  return context;
}

/**
 * Route 53's condition-key form of a record name: lower case, no trailing dot,
 * every character other than a-z 0-9 - _ as a `\ooo` octal escape (so a
 * wildcard is `\052`), escapes already in the request decoded first.
 */
export function normalizedRecordName(name: string): string {
  return normalizeName(name).slice(0, -1);
}

/** The three Route 53 ChangeResourceRecordSets keys, each the distinct values of the batch. */
export function changeBatchContext(changes: readonly RecordChange[]): Record<string, ContextValue> {
  const distinct = (values: string[]) => [...new Set(values)];
  return {
    'route53:ChangeResourceRecordSetsNormalizedRecordNames': distinct(changes.map((c) => normalizedRecordName(c.name))),
    'route53:ChangeResourceRecordSetsRecordTypes': distinct(changes.map((c) => c.type.toUpperCase())),
    'route53:ChangeResourceRecordSetsActions': distinct(changes.map((c) => c.action.toUpperCase())),
  };
}

// ---------------------------------------------------------------------------
// Secrets Manager (AWS JSON 1.1)

/**
 * A secret not stored yet has no suffix; AWS picks the six random characters
 * before it authorizes, so the request names `<name>-` + six characters and a
 * policy's `<name>-??????` matches it.
 */
const PENDING_SUFFIX = 'xxxxxx';

function secretArn(id: string, scope: RequestScope): string {
  if (id.startsWith('arn:')) return id;
  return `arn:aws:secretsmanager:${scope.region}:${scope.accountId}:secret:${id}-${PENDING_SUFFIX}`;
}

function kmsKeyArn(keyId: string, scope: RequestScope): string {
  if (keyId.startsWith('arn:')) return keyId;
  return keyId.startsWith('alias/')
    ? `arn:aws:kms:${scope.region}:${scope.accountId}:${keyId}`
    : `arn:aws:kms:${scope.region}:${scope.accountId}:key/${keyId}`;
}

/** The KMS call Secrets Manager makes for the caller when the secret has a customer-managed key. */
function kmsOnBehalf(action: 'kms:GenerateDataKey' | 'kms:Decrypt', keyId: string | undefined, scope: RequestScope, resources: ResourceTags): AuthorizationRequest[] {
  if (!keyId || keyId === 'alias/aws/secretsmanager') return [];
  const arn = resources.find('kmsKey', keyId, scope)?.arn ?? kmsKeyArn(keyId, scope);
  return [{
    action,
    resources: [arn],
    resourceAccountId: accountOfArn(arn, scope.accountId),
    context: { 'kms:ViaService': `secretsmanager.${scope.region}.amazonaws.com`, 'kms:CallerAccount': scope.accountId },
    resourcePolicy: 'kms-key',
  }];
}

type JsonRule = OperationRule & {
  readonly authorize: (body: Readonly<Record<string, any>>, scope: RequestScope, resources: ResourceTags) => AuthorizationRequest;
};

/** An operation on one existing secret named by `SecretId`. */
function onSecret(
  operation: string,
  extra: (body: Readonly<Record<string, any>>) => Record<string, ContextValue> = () => ({}),
  kms?: 'kms:GenerateDataKey' | 'kms:Decrypt',
  extraKeys: readonly string[] = [],
): JsonRule {
  return {
    service: 'secretsmanager',
    operation,
    action: `secretsmanager:${operation}`,
    resource: 'arn:aws:secretsmanager:{region}:{account}:secret:{SecretId}-{suffix}',
    conditionKeys: ['secretsmanager:SecretId', ...extraKeys, 'aws:ResourceTag/*', ...(kms ? [`${kms} via kms:ViaService`] : [])],
    authorize(body, scope, resources) {
      const id = str(body.SecretId) ?? '';
      const stored = resources.find('secret', id, scope);
      const arn = stored?.arn ?? secretArn(id, scope);
      return {
        action: `secretsmanager:${operation}`,
        resources: [arn],
        resourceAccountId: accountOfArn(arn, scope.accountId),
        context: { 'secretsmanager:SecretId': arn, ...resourceTagContext(stored?.tags), ...extra(body) },
        resourcePolicy: 'secret',
        ...(kms && stored ? { onBehalf: kmsOnBehalf(kms, stored.kmsKeyId, scope, resources) } : {}),
      };
    },
  };
}

const everything = (service: string, operation: string, action: string, context: (body: Readonly<Record<string, any>>) => Record<string, ContextValue> = () => ({}), conditionKeys: readonly string[] = []): JsonRule => ({
  service,
  operation,
  action,
  resource: '*',
  conditionKeys,
  authorize: (body, scope) => ({ action, resources: ['*'], resourceAccountId: scope.accountId, context: context(body) }),
});

const versionContext = (body: Readonly<Record<string, any>>) => ({
  ...present('secretsmanager:VersionId', str(body.VersionId)),
  ...present('secretsmanager:VersionStage', str(body.VersionStage)),
});

const SECRETS_MANAGER: JsonRule[] = [
  {
    service: 'secretsmanager',
    operation: 'CreateSecret',
    action: 'secretsmanager:CreateSecret',
    resource: 'arn:aws:secretsmanager:{region}:{account}:secret:{Name}-{suffix}',
    conditionKeys: ['secretsmanager:Name', 'secretsmanager:KmsKeyId', 'aws:RequestTag/*', 'aws:TagKeys', 'kms:GenerateDataKey via kms:ViaService'],
    authorize(body, scope, resources) {
      const name = str(body.Name) ?? '';
      const arn = secretArn(name, scope);
      return {
        action: 'secretsmanager:CreateSecret',
        resources: [arn],
        resourceAccountId: scope.accountId,
        context: {
          'secretsmanager:Name': name,
          ...present('secretsmanager:KmsKeyId', str(body.KmsKeyId)),
          ...requestTagContext(body.Tags),
        },
        onBehalf: kmsOnBehalf('kms:GenerateDataKey', str(body.KmsKeyId), scope, resources),
      };
    },
  },
  onSecret('PutSecretValue', () => ({}), 'kms:GenerateDataKey'),
  onSecret('GetSecretValue', versionContext, 'kms:Decrypt', ['secretsmanager:VersionId', 'secretsmanager:VersionStage']),
  onSecret('DescribeSecret'),
  everything('secretsmanager', 'ListSecrets', 'secretsmanager:ListSecrets'),
  onSecret('ListSecretVersionIds'),
  onSecret('UpdateSecretVersionStage', (b) => present('secretsmanager:VersionStage', str(b.VersionStage)), undefined, ['secretsmanager:VersionStage']),
  onSecret('TagResource', (b) => requestTagContext(b.Tags), undefined, ['aws:RequestTag/*', 'aws:TagKeys']),
  onSecret('UntagResource', (b) => present('aws:TagKeys', Array.isArray(b.TagKeys) ? (b.TagKeys as unknown[]).map(String) : undefined), undefined, ['aws:TagKeys']),
];

// ---------------------------------------------------------------------------
// ACM (AWS JSON 1.1)

/** A certificate not imported yet has no id; any id matches the same `certificate/*` patterns. */
const PENDING_CERTIFICATE_ID = '00000000-0000-0000-0000-000000000000';

function onCertificate(operation: string, extra: (body: Readonly<Record<string, any>>) => Record<string, ContextValue> = () => ({}), extraKeys: readonly string[] = []): JsonRule {
  return {
    service: 'acm',
    operation,
    action: `acm:${operation}`,
    resource: '{CertificateArn}',
    conditionKeys: [...extraKeys, 'aws:ResourceTag/*'],
    authorize(body, scope, resources) {
      const arn = str(body.CertificateArn) ?? '';
      const stored = resources.find('certificate', arn, scope);
      return {
        action: `acm:${operation}`,
        resources: [arn],
        resourceAccountId: accountOfArn(arn, scope.accountId),
        context: { ...resourceTagContext(stored?.tags), ...extra(body) },
      };
    },
  };
}

const ACM: JsonRule[] = [
  {
    service: 'acm',
    operation: 'ImportCertificate',
    action: 'acm:ImportCertificate',
    resource: '{CertificateArn} (re-import), else arn:aws:acm:{region}:{account}:certificate/{new id}',
    conditionKeys: ['aws:RequestTag/*', 'aws:TagKeys', 'aws:ResourceTag/* (re-import)'],
    authorize(body, scope, resources) {
      const given = str(body.CertificateArn);
      const stored = given ? resources.find('certificate', given, scope) : undefined;
      const arn = given ?? `arn:aws:acm:${scope.region}:${scope.accountId}:certificate/${PENDING_CERTIFICATE_ID}`;
      return {
        action: 'acm:ImportCertificate',
        resources: [arn],
        resourceAccountId: accountOfArn(arn, scope.accountId),
        context: { ...resourceTagContext(stored?.tags), ...requestTagContext(body.Tags) },
      };
    },
  },
  onCertificate('DescribeCertificate'),
  onCertificate('GetCertificate'),
  everything('acm', 'ListCertificates', 'acm:ListCertificates'),
  onCertificate('AddTagsToCertificate', (b) => requestTagContext(b.Tags), ['aws:RequestTag/*', 'aws:TagKeys']),
  onCertificate('RemoveTagsFromCertificate', (b) => present('aws:TagKeys', Array.isArray(b.Tags) ? (b.Tags as Array<Record<string, unknown>>).map((t) => String(t.Key)) : undefined), ['aws:TagKeys']),
  onCertificate('ListTagsForCertificate'),
  onCertificate('DeleteCertificate'),
];

// ---------------------------------------------------------------------------
// EventBridge, CloudWatch (AWS JSON 1.1 / 1.0)

function eventBusArn(nameOrArn: string, scope: RequestScope): string {
  return nameOrArn.startsWith('arn:') ? nameOrArn : `arn:aws:events:${scope.region}:${scope.accountId}:event-bus/${nameOrArn}`;
}

/** A rule's ARN: rules on the default bus are `rule/<name>`, on another bus `rule/<bus>/<name>`. */
function ruleArn(name: string, bus: string | undefined, scope: RequestScope): string {
  const busName = bus?.replace(/^arn:.*:event-bus\//, '');
  return `arn:aws:events:${scope.region}:${scope.accountId}:rule/${busName && busName !== 'default' ? `${busName}/` : ''}${name}`;
}

const EVENTS: JsonRule[] = [
  {
    service: 'events',
    operation: 'PutRule',
    action: 'events:PutRule',
    resource: 'arn:aws:events:{region}:{account}:rule/[{EventBusName}/]{Name}',
    conditionKeys: [],
    authorize: (body, scope) => ({ action: 'events:PutRule', resources: [ruleArn(str(body.Name) ?? '', str(body.EventBusName), scope)], resourceAccountId: scope.accountId, context: {} }),
  },
  {
    service: 'events',
    operation: 'PutTargets',
    action: 'events:PutTargets',
    resource: 'arn:aws:events:{region}:{account}:rule/[{EventBusName}/]{Rule}',
    conditionKeys: [],
    authorize: (body, scope) => ({ action: 'events:PutTargets', resources: [ruleArn(str(body.Rule) ?? '', str(body.EventBusName), scope)], resourceAccountId: scope.accountId, context: {} }),
  },
  {
    service: 'events',
    operation: 'PutEvents',
    action: 'events:PutEvents',
    resource: 'arn:aws:events:{region}:{account}:event-bus/{EventBusName of each entry, default "default"}',
    conditionKeys: [],
    authorize(body, scope) {
      const entries = Array.isArray(body.Entries) ? (body.Entries as Array<Record<string, unknown>>) : [];
      const buses = [...new Set(entries.map((e) => eventBusArn(str(e?.EventBusName) ?? 'default', scope)))];
      const resources = buses.length ? buses : [eventBusArn('default', scope)];
      return { action: 'events:PutEvents', resources, resourceAccountId: accountOfArn(resources[0]!, scope.accountId), context: {} };
    },
  },
];

const CLOUDWATCH: JsonRule[] = [
  everything('monitoring', 'PutMetricData', 'cloudwatch:PutMetricData', (b) => present('cloudwatch:namespace', str(b.Namespace)), ['cloudwatch:namespace']),
  everything('monitoring', 'ListMetrics', 'cloudwatch:ListMetrics'),
  everything('monitoring', 'GetMetricData', 'cloudwatch:GetMetricData'),
  onAlarms('PutMetricAlarm', (b) => [str(b.AlarmName) ?? '']),
  onAlarms('DeleteAlarms', (b) => (Array.isArray(b.AlarmNames) ? b.AlarmNames.map(String) : [])),
  onAlarms('DescribeAlarms', () => ['*']),
];

function onAlarms(operation: string, names: (body: Readonly<Record<string, any>>) => string[]): JsonRule {
  const arn = (scope: RequestScope, name: string) => `arn:aws:cloudwatch:${scope.region}:${scope.accountId}:alarm:${name}`;
  return {
    service: 'monitoring',
    operation,
    action: `cloudwatch:${operation}`,
    resource: operation === 'DescribeAlarms' ? 'arn:aws:cloudwatch:{region}:{account}:alarm:*' : 'arn:aws:cloudwatch:{region}:{account}:alarm:{AlarmName}',
    conditionKeys: [],
    authorize: (body, scope) => {
      const resources = names(body).map((n) => arn(scope, n));
      return { action: `cloudwatch:${operation}`, resources: resources.length ? resources : [arn(scope, '*')], resourceAccountId: scope.accountId, context: {} };
    },
  };
}

// ---------------------------------------------------------------------------
// Step Functions (AWS JSON 1.0) and the Task state's Lambda invoke

function onStates(operation: string, member: 'stateMachineArn' | 'executionArn'): JsonRule {
  return {
    service: 'states',
    operation,
    action: `states:${operation}`,
    resource: `{${member}}`,
    conditionKeys: member === 'stateMachineArn' ? ['aws:ResourceTag/*'] : [],
    authorize(body, scope, resources) {
      const arn = str(body[member]) ?? '';
      const stored = member === 'stateMachineArn' ? resources.find('stateMachine', arn, scope) : undefined;
      return {
        action: `states:${operation}`,
        resources: [arn],
        resourceAccountId: accountOfArn(arn, scope.accountId),
        context: resourceTagContext(stored?.tags),
      };
    },
  };
}

const STEP_FUNCTIONS: JsonRule[] = [
  {
    service: 'states',
    operation: 'CreateStateMachine',
    action: 'states:CreateStateMachine',
    resource: 'arn:aws:states:{region}:{account}:stateMachine:{name}',
    conditionKeys: ['aws:RequestTag/*', 'aws:TagKeys'],
    authorize(body, scope) {
      const arn = `arn:aws:states:${scope.region}:${scope.accountId}:stateMachine:${str(body.name) ?? ''}`;
      return { action: 'states:CreateStateMachine', resources: [arn], resourceAccountId: scope.accountId, context: requestTagContext(body.tags) };
    },
  },
  onStates('UpdateStateMachine', 'stateMachineArn'),
  onStates('DescribeStateMachine', 'stateMachineArn'),
  everything('states', 'ListStateMachines', 'states:ListStateMachines'),
  onStates('StartExecution', 'stateMachineArn'),
  onStates('DescribeExecution', 'executionArn'),
  {
    // Of a state machine, or of one map run (its child executions): the resource is the one named.
    ...onStates('ListExecutions', 'stateMachineArn'),
    resource: '{stateMachineArn} or {mapRunArn}',
    authorize(body, scope, resources) {
      const mapRunArn = str(body.mapRunArn);
      if (!mapRunArn) return onStates('ListExecutions', 'stateMachineArn').authorize(body, scope, resources);
      return { action: 'states:ListExecutions', resources: [mapRunArn], resourceAccountId: accountOfArn(mapRunArn, scope.accountId), context: {} };
    },
  },
  onStates('GetExecutionHistory', 'executionArn'),
  onStates('StopExecution', 'executionArn'),
];

const LAMBDA: JsonRule[] = [
  {
    service: 'lambda',
    operation: 'Invoke',
    action: 'lambda:InvokeFunction',
    resource: 'arn:aws:lambda:{region}:{account}:function:{FunctionName}[:{Qualifier}] (the Task state, as the state machine role)',
    conditionKeys: [],
    authorize(body, scope) {
      const name = str(body.FunctionName) ?? '';
      const qualifier = str(body.Qualifier);
      const base = name.startsWith('arn:') ? name : `arn:aws:lambda:${scope.region}:${scope.accountId}:function:${name}`;
      const arn = qualifier && !/:function:[^:]+:/.test(base) ? `${base}:${qualifier}` : base;
      return { action: 'lambda:InvokeFunction', resources: [arn], resourceAccountId: accountOfArn(arn, scope.accountId), context: {} };
    },
  },
];

// ---------------------------------------------------------------------------
// STS (AWS Query)

type QueryRule = OperationRule & { readonly authorize: (params: URLSearchParams, scope: RequestScope) => AuthorizationRequest };

const STS: QueryRule[] = [
  {
    service: 'sts',
    operation: 'AssumeRole',
    action: 'sts:AssumeRole',
    resource: '{RoleArn} (evaluated with the role trust policy)',
    conditionKeys: ['sts:ExternalId', 'sts:RoleSessionName', 'aws:PrincipalArn'],
    authorize(params, scope) {
      const roleArn = params.get('RoleArn') ?? '';
      const externalId = params.get('ExternalId');
      const sessionName = params.get('RoleSessionName');
      return {
        action: 'sts:AssumeRole',
        resources: [roleArn],
        resourceAccountId: accountOfArn(roleArn, scope.accountId),
        context: {
          ...present('sts:ExternalId', externalId ?? undefined),
          ...present('sts:RoleSessionName', sessionName ?? undefined),
        },
        resourcePolicy: 'role-trust',
      };
    },
  },
  {
    service: 'sts',
    operation: 'GetCallerIdentity',
    action: 'sts:GetCallerIdentity',
    resource: '* (AWS requires no permission)',
    conditionKeys: [],
    authorize: (_params, scope) => ({ action: 'sts:GetCallerIdentity', resources: ['*'], resourceAccountId: scope.accountId, context: {}, alwaysAllowed: true }),
  },
];

// SNS (AWS Query): the alarm topic.
const topicArn = (scope: RequestScope, name: string) => `arn:aws:sns:${scope.region}:${scope.accountId}:${name}`;
const SNS: QueryRule[] = [
  {
    service: 'sns',
    operation: 'CreateTopic',
    action: 'sns:CreateTopic',
    resource: 'arn:aws:sns:{region}:{account}:{Name}',
    conditionKeys: [],
    authorize: (params, scope) => ({ action: 'sns:CreateTopic', resources: [topicArn(scope, params.get('Name') ?? '')], resourceAccountId: scope.accountId, context: {} }),
  },
  {
    service: 'sns',
    operation: 'ListTopics',
    action: 'sns:ListTopics',
    resource: '*',
    conditionKeys: [],
    authorize: (_params, scope) => ({ action: 'sns:ListTopics', resources: ['*'], resourceAccountId: scope.accountId, context: {} }),
  },
  {
    service: 'sns',
    operation: 'Publish',
    action: 'sns:Publish',
    resource: '{TopicArn}',
    conditionKeys: [],
    authorize: (params, scope) => {
      const arn = params.get('TopicArn') ?? params.get('TargetArn') ?? '';
      return { action: 'sns:Publish', resources: [arn], resourceAccountId: accountOfArn(arn, scope.accountId), context: {} };
    },
  },
];

// ---------------------------------------------------------------------------
// Route 53 (REST-XML). Global: ARNs carry neither region nor account.

type RestXmlInput = { id?: string; changes?: readonly RecordChange[]; bucket?: string; key?: string };
type RestXmlRule = OperationRule & {
  readonly authorize: (input: RestXmlInput, scope: RequestScope) => AuthorizationRequest;
};

const bare = (id: string | undefined) => (id ?? '').replace(/^\/?(hostedzone|change)\//, '');

function onZone(operation: string, keys: readonly string[] = []): RestXmlRule {
  return {
    service: 'route53',
    operation,
    action: `route53:${operation}`,
    resource: 'arn:aws:route53:::hostedzone/{Id}',
    conditionKeys: keys,
    authorize: (input, scope) => ({
      action: `route53:${operation}`,
      resources: [`arn:aws:route53:::hostedzone/${bare(input.id)}`],
      resourceAccountId: scope.accountId,
      context: operation === 'ChangeResourceRecordSets' ? changeBatchContext(input.changes ?? []) : {},
    }),
  };
}

const anyRoute53 = (operation: string): RestXmlRule => ({
  service: 'route53',
  operation,
  action: `route53:${operation}`,
  resource: '*',
  conditionKeys: [],
  authorize: (_input, scope) => ({ action: `route53:${operation}`, resources: ['*'], resourceAccountId: scope.accountId, context: {} }),
});

const ROUTE53: RestXmlRule[] = [
  anyRoute53('CreateHostedZone'),
  onZone('GetHostedZone'),
  onZone('DeleteHostedZone'),
  anyRoute53('ListHostedZones'),
  anyRoute53('ListHostedZonesByName'),
  onZone('ChangeResourceRecordSets', [
    'route53:ChangeResourceRecordSetsNormalizedRecordNames',
    'route53:ChangeResourceRecordSetsRecordTypes',
    'route53:ChangeResourceRecordSetsActions',
  ]),
  onZone('ListResourceRecordSets'),
  {
    service: 'route53',
    operation: 'GetChange',
    action: 'route53:GetChange',
    resource: 'arn:aws:route53:::change/{Id}',
    conditionKeys: [],
    authorize: (input, scope) => ({ action: 'route53:GetChange', resources: [`arn:aws:route53:::change/${bare(input.id)}`], resourceAccountId: scope.accountId, context: {} }),
  },
];

// ---------------------------------------------------------------------------
// S3 (REST-XML, path-style): the bucket a Distributed Map reads its items from and
// writes its results to. Object actions are on `bucket/key`, bucket actions on the bucket.

function onObject(operation: string, action: string): RestXmlRule {
  return {
    service: 's3',
    operation,
    action,
    resource: 'arn:aws:s3:::{Bucket}/{Key}',
    conditionKeys: [],
    authorize: (input, scope) => ({ action, resources: [`arn:aws:s3:::${input.bucket ?? ''}/${input.key ?? ''}`], resourceAccountId: scope.accountId, context: {} }),
  };
}

function onBucket(operation: string, action: string, keys: readonly string[] = []): RestXmlRule {
  return {
    service: 's3',
    operation,
    action,
    resource: 'arn:aws:s3:::{Bucket}',
    conditionKeys: keys,
    authorize: (input, scope) => ({ action, resources: [`arn:aws:s3:::${input.bucket ?? ''}`], resourceAccountId: scope.accountId, context: {} }),
  };
}

const S3: RestXmlRule[] = [
  onBucket('CreateBucket', 's3:CreateBucket'),
  onBucket('HeadBucket', 's3:ListBucket'),
  { service: 's3', operation: 'ListBuckets', action: 's3:ListAllMyBuckets', resource: '*', conditionKeys: [], authorize: (_input, scope) => ({ action: 's3:ListAllMyBuckets', resources: ['*'], resourceAccountId: scope.accountId, context: {} }) },
  onBucket('ListObjectsV2', 's3:ListBucket'),
  onObject('PutObject', 's3:PutObject'),
  onObject('GetObject', 's3:GetObject'),
  onObject('HeadObject', 's3:GetObject'),
  onObject('DeleteObject', 's3:DeleteObject'),
];

// ---------------------------------------------------------------------------
// The table and one entry point per protocol family

const JSON_RULES = [...SECRETS_MANAGER, ...ACM, ...EVENTS, ...CLOUDWATCH, ...STEP_FUNCTIONS, ...LAMBDA];

/** Every operation the local endpoint serves, keyed `<signing name> <Operation>`. */
export const OPERATIONS: readonly OperationRule[] = [...ROUTE53, ...S3, ...SECRETS_MANAGER, ...ACM, ...STS, ...SNS, ...EVENTS, ...CLOUDWATCH, ...STEP_FUNCTIONS, ...LAMBDA];

const byKey = <R extends OperationRule>(rules: readonly R[]) => new Map(rules.map((r) => [`${r.service} ${r.operation}`, r]));
const JSON_BY_KEY = byKey(JSON_RULES);
const QUERY_BY_KEY = byKey([...STS, ...SNS]);
const REST_XML_BY_KEY = byKey([...ROUTE53, ...S3]);

/** Thrown for an operation the table does not know: the endpoint must not serve what it cannot authorize. */
export class UnmappedOperation extends Error {
  override readonly name = 'UnmappedOperation';
}

function ruleOf<R extends OperationRule>(table: Map<string, R>, service: string, operation: string): R {
  const rule = table.get(`${service} ${operation}`);
  if (!rule) throw new UnmappedOperation(`No IAM mapping for ${service} ${operation}: add it to local/aws/iam/operations.ts`);
  return rule;
}

export function jsonAuthorization(service: string, operation: string, body: Readonly<Record<string, unknown>>, scope: RequestScope, resources: ResourceTags = NO_RESOURCES): AuthorizationRequest {
  return ruleOf(JSON_BY_KEY, service, operation).authorize(body, scope, resources);
}

export function queryAuthorization(service: string, operation: string, params: URLSearchParams, scope: RequestScope): AuthorizationRequest {
  return ruleOf(QUERY_BY_KEY, service, operation).authorize(params, scope);
}

export function restXmlAuthorization(service: string, operation: string, input: RestXmlInput, scope: RequestScope): AuthorizationRequest {
  return ruleOf(REST_XML_BY_KEY, service, operation).authorize(input, scope);
}

/** What to authorize for one request to the local endpoint (`service` is the SigV4 signing name, or `lambda` for a Task's invoke). */
export function authorizationRequest(service: string, operation: string, input: OperationInput, scope: RequestScope, resources: ResourceTags = NO_RESOURCES): AuthorizationRequest {
  switch (input.protocol) {
    case 'json':
      return jsonAuthorization(service, operation, input.body, scope, resources);
    case 'query':
      return queryAuthorization(service, operation, input.params, scope);
    case 'rest-xml':
      return restXmlAuthorization(service, operation, input, scope);
  }
}

/** The table as README.md shows it. */
export function operationsMarkdown(): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const rows = OPERATIONS.map((r) =>
    `| ${r.service} | ${r.operation} | \`${r.action}\` | ${cell(r.resource)} | ${r.conditionKeys.length ? r.conditionKeys.map((k) => `\`${k}\``).join(', ') : '—'} |`,
  );
  return ['| Service | Operation | IAM action | Resource ARN | Condition keys set |', '|---|---|---|---|---|', ...rows].join('\n');
}
