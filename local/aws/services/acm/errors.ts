// ACM's error shapes, with messages worded the way ACM words them.
import { AwsError } from '../../types.js';

export const validation = (message: string) => new AwsError('ValidationException', message);
export const invalidParameter = (message: string) => new AwsError('InvalidParameterException', message);
export const invalidArn = (arn: string) => new AwsError('InvalidArnException', `String '${arn}' is not a valid ARN.`);
export const notFound = (arn: string) => new AwsError('ResourceNotFoundException', `Could not find certificate ${arn}.`);
export const invalidTag = (message: string) => new AwsError('InvalidTagException', message);
export const tooManyTags = () =>
  new AwsError('TooManyTagsException', 'The request contains too many tags. A certificate can have at most 50 tags.');
export const invalidArgs = (message: string) => new AwsError('InvalidArgsException', message);

/**
 * The service framework's wording for a member that breaks the API model's constraints.
 * `value` is left out for blobs (it could be key material): pass `hidden`.
 */
export function constraint(member: string, rule: string, value: unknown | typeof hidden): AwsError {
  const shown = value === hidden ? '' : value === undefined || value === null ? ' null' : ` '${String(value)}'`;
  return validation(`1 validation error detected: Value${shown} at '${member}' failed to satisfy constraint: ${rule}`);
}
export const hidden = Symbol('hidden');
