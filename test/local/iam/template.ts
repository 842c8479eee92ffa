// Test support: the IAM roles of a synthesized template with the intrinsics
// their policies use resolved against a fixed account, region and ids (the
// local deploy resolves them against the local resources; here fixed values
// are enough to evaluate the real statements).
import type { NamedPolicy } from '../../../local/aws/iam/evaluate.js';

export interface TemplateScope {
  readonly accountId: string;
  readonly region: string;
}

type Resources = Record<string, { Type: string; Properties?: Record<string, any> }>;

function attributeArn(resources: Resources, id: string, scope: TemplateScope): string {
  const { accountId: a, region: r } = scope;
  const resource = resources[id];
  switch (resource?.Type) {
    case 'AWS::KMS::Key':
      return `arn:aws:kms:${r}:${a}:key/${id}`;
    case 'AWS::Lambda::Function':
      return `arn:aws:lambda:${r}:${a}:function:${resource.Properties?.FunctionName ?? id}`;
    case 'AWS::IAM::Role':
      return `arn:aws:iam::${a}:role/${resource.Properties?.RoleName ?? id}`;
    case 'AWS::Logs::LogGroup':
      return `arn:aws:logs:${r}:${a}:log-group:${id}:*`;
    case 'AWS::SQS::Queue':
      return `arn:aws:sqs:${r}:${a}:${id}`;
    case 'AWS::StepFunctions::StateMachine':
      return `arn:aws:states:${r}:${a}:stateMachine:${id}`;
    case 'AWS::S3::Bucket':
      return `arn:aws:s3:::${id.toLowerCase()}`;
    default:
      return `arn:aws:cloudformation:${r}:${a}:${id}`;
  }
}

function ref(resources: Resources, id: string, scope: TemplateScope, parameters: Record<string, string>): string {
  const pseudo: Record<string, string> = {
    'AWS::Partition': 'aws',
    'AWS::AccountId': scope.accountId,
    'AWS::Region': scope.region,
    'AWS::URLSuffix': 'amazonaws.com',
  };
  if (pseudo[id] !== undefined) return pseudo[id]!;
  if (parameters[id] !== undefined) return parameters[id]!;
  const resource = resources[id];
  if (resource?.Type === 'AWS::IAM::Role') return resource.Properties?.RoleName ?? id;
  if (resource?.Type === 'AWS::StepFunctions::StateMachine') return attributeArn(resources, id, scope);
  if (resource?.Type === 'AWS::S3::Bucket') return id.toLowerCase();
  return id;
}

/** Ref, Fn::GetAtt (Arn), Fn::Join, Fn::Sub, Fn::Select, Fn::Split, recursively. */
export function resolveIntrinsics(value: unknown, resources: Resources, scope: TemplateScope, parameters: Record<string, string> = {}): any {
  const again = (v: unknown) => resolveIntrinsics(v, resources, scope, parameters);
  if (Array.isArray(value)) return value.map(again);
  if (value === null || typeof value !== 'object') return value;
  const object = value as Record<string, any>;
  const keys = Object.keys(object);
  if (keys.length === 1) {
    const [key] = keys;
    const arg = object[key!];
    if (key === 'Ref') return ref(resources, arg, scope, parameters);
    if (key === 'Fn::GetAtt') return attributeArn(resources, arg[0], scope);
    if (key === 'Fn::Join') return (again(arg[1]) as string[]).join(arg[0]);
    if (key === 'Fn::Select') return again(arg[1])[Number(again(arg[0]))];
    if (key === 'Fn::Split') return String(again(arg[1])).split(arg[0]);
    if (key === 'Fn::Sub') {
      const [text, vars] = typeof arg === 'string' ? [arg, {}] : [arg[0], again(arg[1])];
      return (text as string).replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
        if (vars[name] !== undefined) return vars[name];
        const [id, attr] = name.split('.');
        return attr ? attributeArn(resources, id!, scope) : ref(resources, id!, scope, parameters);
      });
    }
  }
  return Object.fromEntries(keys.map((k) => [k, again(object[k])]));
}

export interface TemplateRole {
  readonly logicalId: string;
  readonly roleArn: string;
  readonly policies: NamedPolicy[];
  readonly trust: NamedPolicy;
}

/** Every IAM role of the template with its inline and attached AWS::IAM::Policy documents, resolved. */
export function templateRoles(template: { Resources: Resources; Parameters?: Record<string, any> }, scope: TemplateScope, parameters: Record<string, string> = {}): TemplateRole[] {
  const resources = template.Resources;
  const resolve = (v: unknown) => resolveIntrinsics(v, resources, scope, parameters);
  return Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::IAM::Role')
    .map(([logicalId, role]) => {
      const inline = (role.Properties?.Policies ?? []).map((p: any) => ({ name: p.PolicyName, document: resolve(p.PolicyDocument) }));
      const attached = Object.entries(resources)
        .filter(([, r]) => r.Type === 'AWS::IAM::Policy' && (r.Properties?.Roles ?? []).some((x: any) => x?.Ref === logicalId))
        .map(([, r]) => ({ name: r.Properties!.PolicyName as string, document: resolve(r.Properties!.PolicyDocument) }));
      return {
        logicalId,
        roleArn: attributeArn(resources, logicalId, scope),
        policies: [...inline, ...attached],
        trust: { name: 'trust', document: resolve(role.Properties?.AssumeRolePolicyDocument) },
      };
    });
}

/** The role of the Lambda function whose CERTPIPE_FUNCTION is `name`. */
export function functionRole(template: { Resources: Resources }, roles: readonly TemplateRole[], name: string): TemplateRole {
  const fn = Object.values(template.Resources).find(
    (r) => r.Type === 'AWS::Lambda::Function' && r.Properties?.Environment?.Variables?.CERTPIPE_FUNCTION === name,
  );
  const roleId = fn?.Properties?.Role?.['Fn::GetAtt']?.[0];
  const role = roles.find((r) => r.logicalId === roleId);
  if (!role) throw new Error(`no role for function ${name}`);
  return role;
}
