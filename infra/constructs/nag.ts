// cdk-nag acknowledgements, each with its reason, recorded on the construct they
// concern (never on the whole stack). A wildcard a statement needs is justified
// where the statement is built (`justifyWildcard`) and acknowledged when the
// statement lands in a role, so the reason travels with the grant.
import { Stack, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

const reasons = new WeakMap<iam.PolicyStatement, string>();

/** Record why `statement` needs a wildcard resource; returns the statement. */
export function justifyWildcard(statement: iam.PolicyStatement, reason: string): iam.PolicyStatement {
  reasons.set(statement, reason);
  return statement;
}

/** The wildcard finding ids cdk-nag's IAM5 rule reports for these resources. */
export function wildcardFindings(scope: IConstruct, resources: readonly string[]): string[] {
  return resources.map((r) => flatten(Stack.of(scope).resolve(r))).filter((r) => r.includes('*'));
}

/**
 * Acknowledge the AwsSolutions-IAM5 findings of a justified statement on the
 * construct whose policy holds it. An unjustified wildcard stays a finding.
 */
export function acknowledgeStatement(scope: IConstruct, statement: iam.PolicyStatement): void {
  const reason = reasons.get(statement);
  if (!reason) return;
  for (const finding of wildcardFindings(scope, statement.resources)) {
    Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${finding}]`, reason });
  }
}

export function acknowledge(scope: IConstruct, rules: Record<string, string>): void {
  for (const [id, reason] of Object.entries(rules)) Validations.of(scope).acknowledge({ id, reason });
}

/** A resolved CloudFormation value as one string, in the notation cdk-nag reports (`<Logical.Attr>`, `<AWS::Region>`). */
function flatten(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (Array.isArray(value)) return value.map(flatten).join('');
  const node = value as Record<string, unknown>;
  if ('Fn::Join' in node) {
    const [sep, parts] = node['Fn::Join'] as [string, unknown[]];
    return parts.map(flatten).join(sep);
  }
  if ('Fn::Sub' in node) return flatten(node['Fn::Sub']);
  if ('Fn::GetAtt' in node) {
    const [resource, attribute] = node['Fn::GetAtt'] as [unknown, unknown];
    return `<${flatten(resource)}.${flatten(attribute)}>`;
  }
  if ('Fn::ImportValue' in node) return flatten(node['Fn::ImportValue']);
  if ('Ref' in node) return `<${flatten(node.Ref)}>`;
  return JSON.stringify(value);
}
