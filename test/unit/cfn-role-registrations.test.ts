// The roles the local deploy registers carry every policy CloudFormation would
// attach: inline ones, AWS::IAM::Policy, and the AWS::IAM::ManagedPolicy CDK adds
// when a role's policy outgrows IAM's size limit (with 30 certificates the
// functions' secret statements spill into one, and the bench ran denied).
import { describe, expect, it } from 'vitest';
import { roleRegistrations, type DeployedResource } from '../../local/cfn/deploy-stack.js';

const ROLE = 'Certpipe-PlaceChallengesRole';
const ROLE_ARN = `arn:aws:iam::000000000000:role/${ROLE}`;
const doc = (sid: string) => ({ Version: '2012-10-17', Statement: [{ Sid: sid, Effect: 'Allow', Action: 'secretsmanager:TagResource', Resource: '*' }] });
const resource = (type: string, physicalId: string, properties: Record<string, unknown>, attributes: Record<string, string> = {}): DeployedResource => ({ type, physicalId, properties, attributes });

describe('roleRegistrations', () => {
  it('attaches inline policies, AWS::IAM::Policy and the overflow AWS::IAM::ManagedPolicy of a role', () => {
    const [role] = roleRegistrations({
      Role: resource('AWS::IAM::Role', ROLE, { AssumeRolePolicyDocument: doc('Trust'), Policies: [{ PolicyName: 'inline', PolicyDocument: doc('Inline') }] }, { Arn: ROLE_ARN }),
      Default: resource('AWS::IAM::Policy', 'DefaultPolicy', { PolicyName: 'DefaultPolicy', Roles: [ROLE], PolicyDocument: doc('Default') }),
      Overflow: resource('AWS::IAM::ManagedPolicy', 'arn:aws:iam::000000000000:policy/Overflow1', { Roles: [ROLE], PolicyDocument: doc('Overflow') }),
      Other: resource('AWS::IAM::ManagedPolicy', 'arn:aws:iam::000000000000:policy/Other', { Roles: ['SomeoneElse'], PolicyDocument: doc('Other') }),
    });
    expect(role!.roleArn).toBe(ROLE_ARN);
    expect(role!.policies.map((p) => (p.document as ReturnType<typeof doc>).Statement[0]!.Sid)).toEqual(['Inline', 'Default', 'Overflow']);
  });

  it('attaches a template managed policy the role names in ManagedPolicyArns', () => {
    const arn = 'arn:aws:iam::000000000000:policy/Named';
    const [role] = roleRegistrations({
      Role: resource('AWS::IAM::Role', ROLE, { AssumeRolePolicyDocument: doc('Trust'), ManagedPolicyArns: [arn] }, { Arn: ROLE_ARN }),
      Named: resource('AWS::IAM::ManagedPolicy', arn, { ManagedPolicyName: 'Named', PolicyDocument: doc('Named') }),
    });
    expect(role!.policies).toEqual([{ name: 'Named', document: doc('Named') }]);
  });
});
