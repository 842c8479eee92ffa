// Certificate ARNs: arn:<partition>:acm:<region>:<account>:certificate/<id>.
import { constraint, invalidArn } from './errors.js';

export interface CertificateAddress {
  readonly region: string;
  readonly accountId: string;
  readonly id: string;
}

function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

export function certificateArn({ region, accountId, id }: CertificateAddress): string {
  return `arn:${partitionOf(region)}:acm:${region}:${accountId}:certificate/${id}`;
}

const ARN = /^arn:aws(?:-cn|-us-gov)?:acm:([a-z0-9-]+):(\d{12}):certificate\/([A-Za-z0-9-]+)$/;

/** Parses the `CertificateArn` member; ACM answers InvalidArnException for anything else. */
export function parseCertificateArn(value: unknown, member = 'certificateArn'): CertificateAddress {
  if (value === undefined || value === null) throw constraint(member, 'Member must not be null', null);
  const arn = String(value);
  if (arn.length < 20 || arn.length > 2048) {
    throw constraint(member, `Member must have length ${arn.length < 20 ? 'greater than or equal to 20' : 'less than or equal to 2048'}`, arn);
  }
  const m = ARN.exec(arn);
  if (!m) throw invalidArn(arn);
  return { region: m[1]!, accountId: m[2]!, id: m[3]! };
}
