// The physical side of each template resource as CloudFormation would give it:
// the name (from the property that sets it, else generated from the stack and
// logical id), what `Ref` returns and the attributes `Fn::GetAtt` reads. Pure
// and deterministic, so every reference is known before anything is created
// and a second deploy lands on the same names.
import { createHash } from 'node:crypto';

export interface StackEnvironment {
  readonly stackName: string;
  readonly accountId: string;
  readonly region: string;
  readonly partition: string;
}

export interface PhysicalResource {
  /** What `Ref` returns. */
  readonly ref: string;
  /** What `Fn::GetAtt` returns, by attribute name. */
  readonly attributes: Readonly<Record<string, string>>;
}

/** CloudFormation's generated names: stack name and logical id, cut to the service's limit. */
function generatedName(env: StackEnvironment, logicalId: string, maxLength: number): string {
  const name = `${env.stackName}-${logicalId}`;
  if (name.length <= maxLength) return name;
  // Keep it unique when cut: the tail becomes a short hash of the whole.
  const hash = digest(name).slice(0, 8);
  return `${name.slice(0, maxLength - 9)}-${hash}`;
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A stable UUID for resources whose id AWS generates (KMS keys). */
function stableUuid(text: string): string {
  const h = digest(text);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/**
 * The physical resource for `logicalId` of `type`. `properties` need only hold
 * the name properties resolved (a name given with an intrinsic is resolved first);
 * a type not listed gets a generated id and no attributes.
 */
export function physicalResource(env: StackEnvironment, logicalId: string, type: string, properties: Readonly<Record<string, unknown>>): PhysicalResource {
  const { accountId: account, region, partition } = env;
  switch (type) {
    case 'AWS::IAM::Role': {
      const name = text(properties.RoleName) ?? generatedName(env, logicalId, 64);
      const path = text(properties.Path) ?? '/';
      return { ref: name, attributes: { Arn: `arn:${partition}:iam::${account}:role${path}${name}`, RoleId: `AROA${digest(`${account}/${name}`).slice(0, 17).toUpperCase()}` } };
    }
    case 'AWS::Lambda::Function': {
      const name = text(properties.FunctionName) ?? generatedName(env, logicalId, 64);
      return { ref: name, attributes: { Arn: `arn:${partition}:lambda:${region}:${account}:function:${name}` } };
    }
    case 'AWS::Logs::LogGroup': {
      const name = text(properties.LogGroupName) ?? generatedName(env, logicalId, 512);
      return { ref: name, attributes: { Arn: `arn:${partition}:logs:${region}:${account}:log-group:${name}:*` } };
    }
    case 'AWS::StepFunctions::StateMachine': {
      const name = text(properties.StateMachineName) ?? `${logicalId}-${digest(`${env.stackName}/${logicalId}`).slice(0, 12)}`;
      const arn = `arn:${partition}:states:${region}:${account}:stateMachine:${name}`;
      return { ref: arn, attributes: { Arn: arn, Name: name } };
    }
    case 'AWS::KMS::Key': {
      const id = stableUuid(`${account}/${region}/${env.stackName}/${logicalId}`);
      return { ref: id, attributes: { Arn: `arn:${partition}:kms:${region}:${account}:key/${id}`, KeyId: id } };
    }
    case 'AWS::KMS::Alias':
      return { ref: text(properties.AliasName) ?? `alias/${generatedName(env, logicalId, 250)}`, attributes: {} };
    case 'AWS::SNS::Topic': {
      const name = text(properties.TopicName) ?? generatedName(env, logicalId, 256);
      const arn = `arn:${partition}:sns:${region}:${account}:${name}`;
      return { ref: arn, attributes: { TopicArn: arn, TopicName: name } };
    }
    case 'AWS::SQS::Queue': {
      const name = text(properties.QueueName) ?? generatedName(env, logicalId, 80);
      return {
        ref: `https://sqs.${region}.amazonaws.com/${account}/${name}`,
        attributes: { Arn: `arn:${partition}:sqs:${region}:${account}:${name}`, QueueName: name, QueueUrl: `https://sqs.${region}.amazonaws.com/${account}/${name}` },
      };
    }
    case 'AWS::Scheduler::Schedule': {
      const name = text(properties.Name) ?? generatedName(env, logicalId, 64);
      const group = text(properties.GroupName) ?? 'default';
      return { ref: name, attributes: { Arn: `arn:${partition}:scheduler:${region}:${account}:schedule/${group}/${name}` } };
    }
    case 'AWS::CloudWatch::Alarm': {
      const name = text(properties.AlarmName) ?? generatedName(env, logicalId, 255);
      return { ref: name, attributes: { Arn: `arn:${partition}:cloudwatch:${region}:${account}:alarm:${name}` } };
    }
    case 'AWS::Events::Rule': {
      const name = text(properties.Name) ?? generatedName(env, logicalId, 64);
      const bus = text(properties.EventBusName);
      const path = bus && bus !== 'default' ? `${bus.replace(/^arn:.*:event-bus\//, '')}/${name}` : name;
      return { ref: name, attributes: { Arn: `arn:${partition}:events:${region}:${account}:rule/${path}` } };
    }
    case 'AWS::S3::Bucket': {
      // CloudFormation's generated bucket names are lower case, with a suffix that keeps them globally unique.
      const name = text(properties.BucketName) ?? `${generatedName(env, logicalId, 50).toLowerCase().replace(/[^a-z0-9.-]/g, '-')}-${digest(`${account}/${region}/${env.stackName}/${logicalId}`).slice(0, 12)}`;
      return {
        ref: name,
        attributes: { Arn: `arn:${partition}:s3:::${name}`, DomainName: `${name}.s3.amazonaws.com`, RegionalDomainName: `${name}.s3.${region}.amazonaws.com` },
      };
    }
    case 'AWS::CloudWatch::Dashboard':
      return { ref: text(properties.DashboardName) ?? generatedName(env, logicalId, 255), attributes: {} };
    default:
      return { ref: generatedName(env, logicalId, 255), attributes: {} };
  }
}

/** The properties that name a resource, per type: resolved before the others, since Refs to it need them. */
export const NAME_PROPERTIES = ['RoleName', 'Path', 'FunctionName', 'LogGroupName', 'StateMachineName', 'AliasName', 'TopicName', 'QueueName', 'Name', 'GroupName', 'AlarmName', 'DashboardName', 'EventBusName', 'BucketName'] as const;
