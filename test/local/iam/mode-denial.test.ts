// CERTPIPE_IAM parsing, and refusals in each service's format.
import { describe, expect, it } from 'vitest';
import { denial } from '../../../local/aws/iam/denial.js';
import { parseIamMode, refuses } from '../../../local/aws/iam/mode.js';

describe('CERTPIPE_IAM', () => {
  it.each([
    [undefined, 'enforce'],
    ['', 'enforce'],
    ['audit', 'audit'],
    [' OFF ', 'off'],
  ])('%j is %s', (raw, mode) => {
    expect(parseIamMode(raw)).toBe(mode);
  });

  it('refuses an unknown mode rather than weakening enforcement', () => {
    expect(() => parseIamMode('permissive')).toThrow('CERTPIPE_IAM must be one of enforce, audit, off');
  });

  it('refuses a denied call only when enforcing; audit lets it through (and records it)', () => {
    expect(refuses('enforce', 'denied')).toBe(true);
    expect(refuses('audit', 'denied')).toBe(false);
    expect(refuses('off', 'denied')).toBe(false);
    expect(refuses('enforce', 'allowed')).toBe(false);
  });
});

describe('denial', () => {
  const session = 'arn:aws:sts::000000000000:assumed-role/certpipe-PlaceChallenges/run-1';

  it('is Route 53\'s AccessDenied, naming principal, action and resource in AWS\'s words', () => {
    expect(denial('route53', session, 'route53:ChangeResourceRecordSets', 'arn:aws:route53:::hostedzone/Z1')).toEqual({
      code: 'AccessDenied',
      status: 403,
      message:
        'User: arn:aws:sts::000000000000:assumed-role/certpipe-PlaceChallenges/run-1 is not authorized to perform: route53:ChangeResourceRecordSets ' +
        'on resource: arn:aws:route53:::hostedzone/Z1 because no identity-based policy allows the route53:ChangeResourceRecordSets action',
    });
  });

  it.each([
    ['secretsmanager', 'AccessDeniedException'],
    ['acm', 'AccessDeniedException'],
    ['states', 'AccessDeniedException'],
    ['events', 'AccessDeniedException'],
    ['sts', 'AccessDenied'],
  ])('%s answers %s', (service, code) => {
    expect(denial(service, session, 'x:Y', '*').code).toBe(code);
  });

  it('says which kind of policy refused', () => {
    expect(denial('sts', session, 'sts:AssumeRole', 'arn:aws:iam::2:role/t', 'no-resource-allow').message).toMatch(/because no resource-based policy allows the sts:AssumeRole action$/);
    expect(denial('acm', session, 'acm:AddTagsToCertificate', 'c', 'identity-deny').message).toMatch(/with an explicit deny in an identity-based policy$/);
  });
});
