import { describe, expect, it } from 'vitest';
import { AcmeProblem, orderInvalid, parseRetryAfter, refusedReplaces, toAcmeError } from '../../functions/lib/acme/problems.js';
import { accountActionAfterLookup, accountActionForDirectory, accountSuspicion } from '../../functions/lib/acme/recovery.js';

const URL = 'https://ca.example/acme/new-order';
const problem = (status: number, type?: string, detail?: string, retryAfter?: number) =>
  new AcmeProblem(URL, status, type ? `urn:ietf:params:acme:error:${type}` : undefined, detail, retryAfter);

describe('ACME error mapping', () => {
  it.each([
    ['rateLimited with Retry-After', problem(429, 'rateLimited', 'too many certificates', 3600), 'RateLimited'],
    ['a bare 429', problem(429), 'RateLimited'],
    ['badNonce after the client retried', problem(400, 'badNonce'), 'AcmeUnavailable'],
    ['serverInternal', problem(500, 'serverInternal'), 'AcmeUnavailable'],
    ['a 503 without a problem body', problem(503), 'AcmeUnavailable'],
    ['orderNotReady', problem(403, 'orderNotReady'), 'AcmeOrderNotReady'],
    ['unauthorized', problem(403, 'unauthorized', 'account deactivated'), 'AcmeRequestRejected'],
    ['rejectedIdentifier', problem(400, 'rejectedIdentifier'), 'AcmeRequestRejected'],
  ])('%s → %s', (_, err, name) => {
    expect(toAcmeError(err, 'Creating ACME order').name).toBe(name);
  });

  it('keeps the Retry-After of a rate limit', () => {
    const mapped = toAcmeError(problem(429, 'rateLimited', 'slow down', 120), 'x') as { retryAfterSeconds?: number };
    expect(mapped.retryAfterSeconds).toBe(120);
  });

  it('names the URL and the problem type in the message', () => {
    const mapped = toAcmeError(problem(403, 'unauthorized', 'nope'), 'Creating ACME order');
    expect(mapped.message).toContain(URL);
    expect(mapped.message).toContain('urn:ietf:params:acme:error:unauthorized');
    expect(mapped.message).toContain('nope');
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ECONNABORTED', 'ENOTFOUND'])('network code %s → AcmeUnavailable', (code) => {
    const err = Object.assign(new Error(`connect ${code}`), { code, config: { url: URL } });
    const mapped = toAcmeError(err, 'Reading ACME directory');
    expect(mapped.name).toBe('AcmeUnavailable');
    expect(mapped.message).toContain(URL);
  });

  it('a directory 5xx reported as a plain message → AcmeUnavailable', () => {
    const err = new Error('Attempting to read ACME directory returned error 503: https://ca.example/dir');
    expect(toAcmeError(err, 'x').name).toBe('AcmeUnavailable');
  });

  it('an untrusted TLS certificate explains CERTPIPE_ACME_CA_BUNDLE', () => {
    const err = Object.assign(new Error('self-signed certificate'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' });
    const mapped = toAcmeError(err, 'x');
    expect(mapped.name).toBe('AcmeRequestRejected');
    expect(mapped.message).toContain('CERTPIPE_ACME_CA_BUNDLE');
  });

  it('an invalid order carries the reasons', () => {
    const err = orderInvalid('https://ca.example/order/1', ['example.com authorization is invalid (unauthorized: no TXT)']);
    expect(err.name).toBe('AcmeOrderInvalid');
    expect(err.message).toContain('no TXT');
  });
});

describe('refusedReplaces: a newOrder refusal the same order without `replaces` may get past', () => {
  it.each([
    // Let's Encrypt's answers to a `replaces` it cannot honour (RFC 9773 §5).
    ['alreadyReplaced', problem(409, 'alreadyReplaced'), true],
    ["another account's certificate", problem(403, 'unauthorized', "Could not validate ARI 'replaces' field :: requester account did not request the certificate being replaced by this order"), true],
    ['an unknown certificate', problem(404, 'malformed', 'request included `replaces` field, but no current certificate with serial "01" exists'), true],
    ['a certID it cannot parse', problem(400, 'malformed', 'parsing ARI CertID failed'), true],
    // Not about `replaces`, or no better without it.
    ['rateLimited', problem(429, 'rateLimited', 'too many new orders', 60), false],
    ['badNonce', problem(400, 'badNonce'), false],
    ['serverInternal', problem(500, 'serverInternal'), false],
    ['no problem document', new Error('socket hang up'), false],
  ])('%s → %s', (_, err, expected) => {
    expect(refusedReplaces(err)).toBe(expected);
    expect(refusedReplaces(toAcmeError(err, 'Creating ACME order'))).toBe(expected);
  });
});

describe('parseRetryAfter', () => {
  const now = new Date('2025-01-01T00:00:00Z');
  it.each([
    ['120', 120],
    [' 7 ', 7],
    ['Wed, 01 Jan 2025 00:01:00 GMT', 60],
    ['Tue, 31 Dec 2024 23:00:00 GMT', 0],
    ['soon', undefined],
    [undefined, undefined],
  ])('%s → %s', (header, seconds) => {
    expect(parseRetryAfter(header, now)).toBe(seconds);
  });
});

describe('re-register the ACME account or not', () => {
  const facts = (status: number, type?: string) => ({ status, ...(type ? { type: `urn:ietf:params:acme:error:${type}` } : {}) });

  it.each([
    ['accountDoesNotExist (CA reset, account deleted)', facts(400, 'accountDoesNotExist'), 'gone'],
    ['unauthorized (deactivated account, but also CAA or another account\'s order)', facts(403, 'unauthorized'), 'ask'],
    ['malformed', facts(400, 'malformed'), 'unrelated'],
    ['rejectedIdentifier', facts(400, 'rejectedIdentifier'), 'unrelated'],
    ['caa', facts(403, 'caa'), 'unrelated'],
    ['a bare 403 without a type', facts(403), 'unrelated'],
    ['a 404', facts(404, 'malformed'), 'unrelated'],
    ['an unrelated namespace that ends the same', { status: 400, type: 'urn:example:accountDoesNotExist' }, 'unrelated'],
  ])('a refused request: %s → %s', (_, problem, suspicion) => {
    expect(accountSuspicion(problem)).toBe(suspicion);
  });

  it.each([
    ['the account answers valid: the refusal was about something else', { account: { status: 'valid' } }, 'keep'],
    ['the account answers deactivated', { account: { status: 'deactivated' } }, 'newKey'],
    ['the account answers revoked', { account: { status: 'revoked' } }, 'newKey'],
    ['the CA refuses the key on its own account URL', { problem: facts(403, 'unauthorized') }, 'newKey'],
    ['the CA does not know the account', { problem: facts(400, 'accountDoesNotExist') }, 'register'],
    ['the lookup hit a 500', { problem: facts(500, 'serverInternal') }, 'keep'],
    ['the lookup got no answer', { unreachable: true as const }, 'keep'],
  ])('after an unauthorized, %s → %s', (_, lookup, action) => {
    expect(accountActionAfterLookup(lookup)).toBe(action);
  });

  const DIR = 'https://acme.example/dir';
  it.each([
    ['registered at this directory', { directoryUrl: DIR, accountUrl: 'https://acme.example/acct/1' }, 'keep'],
    ['stored but never registered', { directoryUrl: DIR }, 'register'],
    ['registered at another directory', { directoryUrl: 'https://old.example/dir', accountUrl: 'https://old.example/acct/1' }, 'newKey'],
    ['never registered, made for another directory', { directoryUrl: 'https://old.example/dir' }, 'newKey'],
  ])('before any request, an account %s → %s', (_, stored, action) => {
    expect(accountActionForDirectory(stored, DIR)).toBe(action);
  });
});
