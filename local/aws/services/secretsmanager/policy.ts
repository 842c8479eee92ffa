// Resource policies on secrets: parsed and checked well enough to decide whether
// another account may call an action on a secret. Conditions and KMS grants are
// not evaluated; an explicit Deny for the caller still wins over any Allow.
import { AwsError } from '../../types.js';

interface Statement {
  Effect?: unknown;
  Principal?: unknown;
  Action?: unknown;
}

const list = (value: unknown): unknown[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

function statementsOf(policy: string): Statement[] {
  let doc: unknown;
  try {
    doc = JSON.parse(policy);
  } catch {
    throw new AwsError('MalformedPolicyDocumentException', 'This resource policy contains a syntax error.');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new AwsError('MalformedPolicyDocumentException', 'This resource policy must be a JSON object.');
  }
  const statements = list((doc as { Statement?: unknown }).Statement);
  if (statements.length === 0) {
    throw new AwsError('MalformedPolicyDocumentException', 'This resource policy has no Statement.');
  }
  for (const s of statements) {
    const effect = (s as Statement | null)?.Effect;
    if (effect !== 'Allow' && effect !== 'Deny') {
      throw new AwsError('MalformedPolicyDocumentException', 'Each statement of a resource policy needs an Effect of Allow or Deny.');
    }
  }
  return statements as Statement[];
}

/** Throws MalformedPolicyDocumentException unless `policy` is a usable policy document. */
export function validatePolicy(policy: string): void {
  statementsOf(policy);
}

function principals(statement: Statement): string[] {
  const p = statement.Principal;
  if (p === '*') return ['*'];
  if (typeof p === 'object' && p !== null) return list((p as { AWS?: unknown }).AWS).map(String);
  return [];
}

/** True when an Allow statement grants access to anyone (AWS's BlockPublicPolicy check, simplified). */
export function isPublic(policy: string): boolean {
  return statementsOf(policy).some((s) => s.Effect === 'Allow' && principals(s).includes('*'));
}

function principalCovers(principal: string, accountId: string): boolean {
  return principal === '*' || principal === accountId || principal.split(':')[4] === accountId;
}

function actionCovers(pattern: string, action: string): boolean {
  const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return regex.test(action);
}

/** Whether the policy lets principals of `accountId` perform `action` (e.g. `secretsmanager:GetSecretValue`). */
export function policyAllows(policy: string | undefined, accountId: string, action: string): boolean {
  if (!policy) return false;
  const applicable = statementsOf(policy).filter(
    (s) =>
      principals(s).some((p) => principalCovers(p, accountId)) &&
      list(s.Action).some((a) => actionCovers(String(a), action)),
  );
  return applicable.some((s) => s.Effect === 'Allow') && !applicable.some((s) => s.Effect === 'Deny');
}
