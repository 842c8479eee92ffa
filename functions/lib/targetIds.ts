// How certpipe names where a certificate lives: the account of a role ARN, the
// label a target keeps in the publish-pending tag, the id a published target
// reports, and the short form the CLI prints. One module, so the tag written by
// PublishCertificate, the ids in its output and `certpipe status` agree.
import type { Target } from './inventory.js';

export const ROLE_ARN_PATTERN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/[\w+=,.@/-]{1,512}$/;

/** The account a role ARN lives in; undefined when it is no role ARN. */
export function roleAccount(roleArn: string): string | undefined {
  return ROLE_ARN_PATTERN.exec(roleArn)?.[1];
}

/** `arn:aws:iam::123456789012:role/name` → `123456789012`; throws for anything else. */
export function accountOfRoleArn(roleArn: string): string {
  const account = roleAccount(roleArn);
  if (!account) throw new Error(`"${roleArn}" is not an IAM role ARN with an account id`);
  return account;
}

/** A target as known from the config alone (no STS call): `secretsmanager:[<account>:]<region>:<name>`, `acm:[<account>:]<region>`. */
export function targetLabel(target: Target): string {
  const account = target.roleArn ? roleAccount(target.roleArn) ?? target.roleArn : undefined;
  const where = account ? `${account}:${target.region}` : target.region;
  return target.type === 'secretsmanager' ? `secretsmanager:${where}:${target.name}` : `acm:${where}`;
}

/** A target that now holds the certificate: `secretsmanager:<account>:<region>:<name>` or `acm:<account>:<region>:<arn>`. */
export function publishedTargetId(
  where: { type: 'secretsmanager'; accountId: string; region: string; secretName: string } | { type: 'acm'; accountId: string; region: string; certificateArn: string },
): string {
  return where.type === 'secretsmanager'
    ? `secretsmanager:${where.accountId}:${where.region}:${where.secretName}`
    : `acm:${where.accountId}:${where.region}:${where.certificateArn}`;
}

/** The CLI's short form: `acm 111111111111:eu-west-1`, `secret eu-west-1/certpipe/web`. */
export function describeTarget(target: Target): string {
  const account = target.roleArn ? `${roleAccount(target.roleArn) ?? target.roleArn}:` : '';
  return target.type === 'acm' ? `acm ${account}${target.region}` : `secret ${account}${target.region}/${target.name}`;
}
