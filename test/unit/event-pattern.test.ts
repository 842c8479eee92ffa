// The local EventBridge's pattern matching and input transformer, against
// EventBridge's documented behaviour for the operators the local cloud accepts.
import { describe, expect, it } from 'vitest';
import { matchesPattern, patternProblem } from '../../local/aws/services/events/pattern.js';
import { targetPayload, valueAtPath } from '../../local/aws/services/events/transform.js';

const EVENT = {
  source: 'aws.kms',
  'detail-type': 'AWS API Call via CloudTrail',
  account: '000000000000',
  detail: {
    eventName: 'PutKeyPolicy',
    userIdentity: { arn: 'arn:aws:iam::000000000000:user/mallory' },
    resources: [{ ARN: 'arn:aws:kms:us-east-1:000000000000:key/other' }, { ARN: 'arn:aws:kms:us-east-1:000000000000:key/ours' }],
    requestParameters: { secretId: 'certpipe/web', empty: null },
  },
};

describe('matchesPattern', () => {
  it.each([
    ['exact values, any of a list', { source: ['aws.iam', 'aws.kms'] }, true],
    ['a value not listed', { source: ['aws.iam'] }, false],
    ['nested fields', { detail: { eventName: ['PutKeyPolicy'] } }, true],
    ['any element of an array of objects', { detail: { resources: { ARN: ['arn:aws:kms:us-east-1:000000000000:key/ours'] } } }, true],
    ['no element of an array matching', { detail: { resources: { ARN: ['arn:aws:kms:us-east-1:000000000000:key/none'] } } }, false],
    ['prefix', { detail: { requestParameters: { secretId: [{ prefix: 'certpipe/' }] } } }, true],
    ['prefix not matching', { detail: { requestParameters: { secretId: [{ prefix: 'arn:' }] } } }, false],
    ['anything-but', { detail: { eventName: [{ 'anything-but': ['DisableKey'] }] } }, true],
    ['anything-but the value', { detail: { eventName: [{ 'anything-but': 'PutKeyPolicy' }] } }, false],
    ['exists: false on an absent field', { detail: { absent: [{ exists: false }] } }, true],
    ['exists: true on an absent field', { detail: { absent: [{ exists: true }] } }, false],
    ['null matches a null value', { detail: { requestParameters: { empty: [null] } } }, true],
    ['a field the event lacks', { detail: { eventSource: ['kms.amazonaws.com'] } }, false],
  ])('%s', (_case, pattern, expected) => {
    expect(patternProblem(pattern)).toBeUndefined();
    expect(matchesPattern(pattern, EVENT)).toBe(expected);
  });

  it.each([
    [{ detail: { n: [{ numeric: ['>', 1] }] } }, 'Unsupported matcher'],
    [{ $or: [{ source: ['a'] }] }, 'Operator $or'],
    [{ source: 'aws.kms' }, 'must be an array or an object'],
    [{ source: [] }, 'Empty array'],
  ])('refuses %j', (pattern, problem) => {
    expect(patternProblem(pattern)).toContain(problem);
  });
});

describe('targetPayload', () => {
  it('fills placeholders as JSON outside strings and as text inside them; an absent path is null or empty', () => {
    const payload = targetPayload(
      {
        InputTransformer: {
          InputPathsMap: { who: '$.detail.userIdentity.arn', what: '$.detail.eventName', key: '$.detail.resources[1].ARN', none: '$.detail.nothing' },
          InputTemplate: '{"who":<who>,"line":"<what> on <key> by <who>","none":<none>,"quoted":"<none>"}',
        },
      },
      EVENT,
    );
    expect(JSON.parse(payload)).toEqual({
      who: 'arn:aws:iam::000000000000:user/mallory',
      line: 'PutKeyPolicy on arn:aws:kms:us-east-1:000000000000:key/ours by arn:aws:iam::000000000000:user/mallory',
      none: null,
      quoted: '',
    });
  });

  it('delivers a constant Input, an InputPath or the whole event', () => {
    expect(targetPayload({ Input: '{"a":1}' }, EVENT)).toBe('{"a":1}');
    expect(JSON.parse(targetPayload({ InputPath: '$.detail.userIdentity' }, EVENT))).toEqual(EVENT.detail.userIdentity);
    expect(JSON.parse(targetPayload({}, EVENT))).toEqual(EVENT);
    expect(valueAtPath(EVENT, '$')).toBe(EVENT);
  });
});
