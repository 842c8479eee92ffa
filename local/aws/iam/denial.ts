// A refusal as the service sends it: the JSON services' AccessDeniedException,
// Route 53's and STS's AccessDenied in their XML <ErrorResponse>, with AWS's
// wording naming the principal, the action, the resource and which kind of
// policy refused. The message never carries request data beyond those three.
import type { DenialReason } from './evaluate.js';

/** Error code and HTTP status per SigV4 signing name. */
const CODES: Readonly<Record<string, string>> = {
  route53: 'AccessDenied',
  sts: 'AccessDenied',
  secretsmanager: 'AccessDeniedException',
  acm: 'AccessDeniedException',
  events: 'AccessDeniedException',
  monitoring: 'AccessDenied',
  states: 'AccessDeniedException',
  s3: 'AccessDenied',
  lambda: 'AccessDeniedException',
};

const WHY: Readonly<Record<DenialReason, (action: string) => string>> = {
  'no-identity-allow': (action) => `because no identity-based policy allows the ${action} action`,
  'identity-deny': () => 'with an explicit deny in an identity-based policy',
  'no-resource-allow': (action) => `because no resource-based policy allows the ${action} action`,
  'resource-deny': () => 'with an explicit deny in a resource-based policy',
};

export interface Denial {
  readonly code: string;
  readonly status: 403;
  readonly message: string;
}

/**
 * `User: <principal> is not authorized to perform: <action> on resource: <arn> because no identity-based policy allows the <action> action`.
 * CloudWatch's Query-compatible JSON answers `AccessDenied` too, as its SDK maps it.
 */
export function denial(service: string, principal: string, action: string, resource: string, reason: DenialReason = 'no-identity-allow'): Denial {
  const code = CODES[service] ?? 'AccessDeniedException';
  return { code, status: 403, message: `User: ${principal} is not authorized to perform: ${action} on resource: ${resource} ${WHY[reason](action)}` };
}
