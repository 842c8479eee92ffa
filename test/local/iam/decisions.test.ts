// The decision log and the per-role report.
import { describe, expect, it } from 'vitest';
import { DecisionLog, iamReport, type DecisionRecord } from '../../../local/aws/iam/decisions.js';

const entry = (n: number, over: Partial<DecisionRecord> = {}): DecisionRecord => ({
  time: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
  principal: 'arn:aws:sts::111111111111:assumed-role/certpipe-PlaceChallenges/s',
  action: 'route53:GetChange',
  resource: `arn:aws:route53:::change/C${n}`,
  decision: 'allowed',
  statement: 'policy#Route53ChangeStatusAndZoneLookup',
  ...over,
});

describe('DecisionLog', () => {
  it('keeps the most recent decisions, oldest first, as GET /_certpipe/iam/decisions returns them', () => {
    const log = new DecisionLog(3);
    for (let n = 1; n <= 5; n++) log.record(entry(n));
    expect(log.list().map((d) => d.resource)).toEqual(['arn:aws:route53:::change/C3', 'arn:aws:route53:::change/C4', 'arn:aws:route53:::change/C5']);
    expect(JSON.parse(JSON.stringify(log))).toEqual({ decisions: log.list() });
    log.clear();
    expect(log.list()).toEqual([]);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new DecisionLog(0)).toThrow(/positive integer/);
  });
});

describe('iamReport', () => {
  const roleArn = 'arn:aws:iam::111111111111:role/certpipe-PlaceChallenges';
  const policies = {
    [roleArn]: [
      {
        name: 'policy',
        document: {
          Statement: [
            { Effect: 'Allow', Action: 'logs:PutLogEvents', Resource: '*' },
            { Sid: 'Route53ChangeStatusAndZoneLookup', Effect: 'Allow', Action: 'route53:GetChange', Resource: '*' },
            { Sid: 'ChallengeRecordsWrite', Effect: 'Allow', Action: 'route53:ChangeResourceRecordSets', Resource: '*' },
          ],
        },
      },
    ],
    'arn:aws:iam::111111111111:role/idle': [],
  };

  it('lists per role the actions used with their statement, the denials, and the statements nothing used', () => {
    const decisions = [
      entry(1),
      entry(2),
      entry(3, { action: 'secretsmanager:GetSecretValue', resource: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:team/db-AbCdEf', decision: 'denied', statement: undefined }),
      entry(4, { principal: 'arn:aws:iam::111111111111:root', statement: 'local:account-root' }),
    ];
    expect(iamReport(decisions, policies)).toEqual([
      {
        roleArn,
        used: [{ action: 'route53:GetChange', statement: 'policy#Route53ChangeStatusAndZoneLookup', calls: 2 }],
        denied: [{ action: 'secretsmanager:GetSecretValue', resource: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:team/db-AbCdEf', calls: 1 }],
        unusedStatements: ['policy#0', 'policy#ChallengeRecordsWrite'],
      },
      { roleArn: 'arn:aws:iam::111111111111:role/idle', used: [], denied: [], unusedStatements: [] },
    ]);
  });
});
