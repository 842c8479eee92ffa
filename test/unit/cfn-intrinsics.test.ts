// The intrinsic resolver of the local deploy: each function CloudFormation gives,
// against a fixed set of local resources.
import { describe, expect, it } from 'vitest';
import { evaluateConditions, resolveValue, UnresolvableIntrinsic, type ResolveContext } from '../../local/cfn/intrinsics.js';
import { physicalResource } from '../../local/cfn/physical.js';

const resources: Record<string, { ref: string; attributes: Record<string, string> }> = {
  FnRole: { ref: 'Certpipe-FnRole', attributes: { Arn: 'arn:aws:iam::000000000000:role/Certpipe-FnRole' } },
  Queue: { ref: 'https://sqs.us-east-1.amazonaws.com/000000000000/q', attributes: { Arn: 'arn:aws:sqs:us-east-1:000000000000:q', QueueName: 'q' } },
};

const ctx: ResolveContext = {
  pseudo: {
    'AWS::AccountId': '000000000000',
    'AWS::Region': 'us-east-1',
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': 'Certpipe',
  },
  parameters: { Env: 'prod', Zones: ['a.test', 'b.test'] },
  ref: (id) => resources[id]?.ref,
  attribute: (id, attr) => resources[id]?.attributes[attr],
  condition: (name) => name === 'IsProd',
};

describe('resolveValue', () => {
  it.each<[string, unknown, unknown]>([
    ['a literal stays', 'plain', 'plain'],
    ['Ref of a pseudo parameter', { Ref: 'AWS::Partition' }, 'aws'],
    ['Ref of AWS::AccountId', { Ref: 'AWS::AccountId' }, '000000000000'],
    ['Ref of AWS::URLSuffix', { Ref: 'AWS::URLSuffix' }, 'amazonaws.com'],
    ['Ref of AWS::StackName', { Ref: 'AWS::StackName' }, 'Certpipe'],
    ['Ref of a parameter', { Ref: 'Env' }, 'prod'],
    ['Ref of a resource is its physical id', { Ref: 'FnRole' }, 'Certpipe-FnRole'],
    ['Fn::GetAtt as a list', { 'Fn::GetAtt': ['Queue', 'Arn'] }, 'arn:aws:sqs:us-east-1:000000000000:q'],
    ['Fn::GetAtt as a dotted string', { 'Fn::GetAtt': 'Queue.QueueName' }, 'q'],
    ['Fn::Join of literals and intrinsics', { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root']] }, 'arn:aws:iam::000000000000:root'],
    ['Fn::Join with a separator', { 'Fn::Join': [',', ['a', 'b', 'c']] }, 'a,b,c'],
    ['Fn::Sub, string form, with pseudo, resource and attribute', { 'Fn::Sub': 'arn:${AWS::Partition}:x:${AWS::Region}:${FnRole}:${Queue.Arn}' }, 'arn:aws:x:us-east-1:Certpipe-FnRole:arn:aws:sqs:us-east-1:000000000000:q'],
    ['Fn::Sub, list form, with its own variables', { 'Fn::Sub': ['${Name}-${AWS::Region}', { Name: { Ref: 'Env' } }] }, 'prod-us-east-1'],
    ['Fn::Sub keeps ${!Literal} as ${Literal}', { 'Fn::Sub': '${!NotAVariable}' }, '${NotAVariable}'],
    ['Fn::Select of a list', { 'Fn::Select': [1, ['x', 'y', 'z']] }, 'y'],
    ['Fn::Select of a parameter list', { 'Fn::Select': ['0', { Ref: 'Zones' }] }, 'a.test'],
    ['Fn::Split', { 'Fn::Split': [':', 'arn:aws:sqs'] }, ['arn', 'aws', 'sqs']],
    ['Fn::Select over Fn::Split', { 'Fn::Select': [5, { 'Fn::Split': [':', { 'Fn::GetAtt': ['FnRole', 'Arn'] }] }] }, 'role/Certpipe-FnRole'],
    ['Fn::If on a condition that holds', { 'Fn::If': ['IsProd', 'p', 'd'] }, 'p'],
    ['Fn::If on one that does not', { 'Fn::If': ['IsDev', 'p', 'd'] }, 'd'],
    ['nested objects and lists', { A: [{ Ref: 'FnRole' }, { B: { 'Fn::GetAtt': ['Queue', 'Arn'] } }] }, { A: ['Certpipe-FnRole', { B: 'arn:aws:sqs:us-east-1:000000000000:q' }] }],
    ['AWS::NoValue drops the property', { Keep: 1, Drop: { 'Fn::If': ['IsDev', 'x', { Ref: 'AWS::NoValue' }] } }, { Keep: 1 }],
    ['AWS::NoValue drops a list item', ['a', { 'Fn::If': ['IsDev', 'b', { Ref: 'AWS::NoValue' }] }], ['a']],
  ])('%s', (_case, value, expected) => {
    expect(resolveValue(value, ctx)).toEqual(expected);
  });

  it.each<[string, unknown, RegExp]>([
    ['a Ref to nothing', { Ref: 'Missing' }, /Ref to Missing/],
    ['an attribute not known', { 'Fn::GetAtt': ['FnRole', 'RoleId'] }, /FnRole\.RoleId/],
    ['an intrinsic not served', { 'Fn::ImportValue': 'x' }, /Fn::ImportValue is not served/],
    ['Fn::Select out of range', { 'Fn::Select': [3, ['a']] }, /outside a list of 1/],
  ])('fails, naming it, on %s', (_case, value, message) => {
    expect(() => resolveValue(value, ctx, 'Certpipe/X.Properties')).toThrow(UnresolvableIntrinsic);
    expect(() => resolveValue(value, ctx, 'Certpipe/X.Properties')).toThrow(message);
  });
});

describe('evaluateConditions', () => {
  const holds = evaluateConditions(
    {
      IsProd: { 'Fn::Equals': [{ Ref: 'Env' }, 'prod'] },
      IsUsEast: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'us-east-1'] },
      Both: { 'Fn::And': [{ Condition: 'IsProd' }, { Condition: 'IsUsEast' }] },
      NotProd: { 'Fn::Not': [{ Condition: 'IsProd' }] },
      Either: { 'Fn::Or': [{ Condition: 'NotProd' }, { Condition: 'IsUsEast' }] },
    },
    ctx,
  );
  it.each([
    ['IsProd', true],
    ['Both', true],
    ['NotProd', false],
    ['Either', true],
  ])('%s is %s', (name, expected) => expect(holds(name as string)).toBe(expected));
});

describe('physicalResource', () => {
  const env = { stackName: 'Certpipe', accountId: '000000000000', region: 'us-east-1', partition: 'aws' };
  it('names what the template does not name from the stack and logical id, within the service limit', () => {
    const fn = physicalResource(env, 'PipelineFunctionsCheckExpiryAD815B92', 'AWS::Lambda::Function', {});
    expect(fn.ref).toBe('Certpipe-PipelineFunctionsCheckExpiryAD815B92');
    expect(fn.attributes.Arn).toBe('arn:aws:lambda:us-east-1:000000000000:function:Certpipe-PipelineFunctionsCheckExpiryAD815B92');
    const long = physicalResource(env, 'X'.repeat(80), 'AWS::IAM::Role', {});
    expect(long.ref.length).toBe(64);
    expect(long.ref).not.toBe(physicalResource(env, `${'X'.repeat(79)}Y`, 'AWS::IAM::Role', {}).ref);
  });
  it('takes the name the template gives, with the path in a role ARN', () => {
    expect(physicalResource(env, 'R', 'AWS::IAM::Role', { RoleName: 'certpipe-publisher', Path: '/ops/' }).attributes.Arn).toBe('arn:aws:iam::000000000000:role/ops/certpipe-publisher');
  });
  it('gives a KMS key the same id at every deploy, and a state machine its ARN as Ref', () => {
    expect(physicalResource(env, 'Key', 'AWS::KMS::Key', {}).ref).toBe(physicalResource(env, 'Key', 'AWS::KMS::Key', {}).ref);
    expect(physicalResource(env, 'Key', 'AWS::KMS::Key', {}).ref).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
    const sm = physicalResource(env, 'StateMachine', 'AWS::StepFunctions::StateMachine', {});
    expect(sm.ref).toBe(sm.attributes.Arn);
    expect(sm.ref).toMatch(/^arn:aws:states:us-east-1:000000000000:stateMachine:StateMachine-[0-9a-f]{12}$/);
  });
});
