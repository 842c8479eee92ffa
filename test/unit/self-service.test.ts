// Self-service requests: which request secrets the pipeline adopts, and the
// reason it gives for each one it refuses. Pure: tags in, decisions out.
import { describe, expect, it } from 'vitest';
import { toInventory, validateConfig } from '../../infra/config.js';
import { decideRequest, decideRequests, type RequestSecret, type SelfServicePolicy } from '../../functions/lib/selfService/requests.js';

const POLICY: SelfServicePolicy = {
  prefix: 'certpipe/teams/',
  zones: ['example.test', 'shop.example.org'],
  issuers: ['pebble', 'staging'],
  maxNamesPerCertificate: 3,
  maxCertificates: 2,
  acmRegions: ['eu-west-1', 'us-east-1'],
  renewal: { renewAtFractionLeft: 1 / 3 },
};

const request = (name: string, tags: Record<string, string>): RequestSecret => ({ name, arn: `arn:aws:secretsmanager:us-east-1:000000000000:secret:${name}-AbCdEf`, tags });

describe('decideRequest', () => {
  const configured = new Set(['www.example.test']);
  it.each([
    ['names outside every zone', { 'certpipe:dns-names': 'api.example.test,evil.example.com' }, 'evil.example.com is in none of the allowed zones'],
    ['a zone suffix that is not a label boundary', { 'certpipe:dns-names': 'badexample.test' }, 'badexample.test is in none of the allowed zones'],
    ['too many names', { 'certpipe:dns-names': 'a.example.test,b.example.test,c.example.test,d.example.test' }, '4 names, more than the 3 allowed'],
    ['no names', { 'certpipe:dns-names': ' , ' }, 'names no DNS name'],
    ['a malformed name', { 'certpipe:dns-names': 'a..example.test' }, 'a..example.test is not a DNS name'],
    ['a name the config already serves', { 'certpipe:dns-names': 'WWW.example.test' }, 'www.example.test belongs to a certificate of the pipeline\'s config'],
    ['an issuer not allowed', { 'certpipe:dns-names': 'a.example.test', 'certpipe:issuer': 'letsencrypt' }, 'issuer letsencrypt is not allowed'],
    ['an unknown key algorithm', { 'certpipe:dns-names': 'a.example.test', 'certpipe:key-algorithm': 'dsa-1024' }, 'key algorithm dsa-1024'],
    ['a malformed ACM region', { 'certpipe:dns-names': 'a.example.test', 'certpipe:acm-regions': 'mars-1' }, 'mars-1 is not an AWS region'],
    ['an ACM region the config does not open to requests', { 'certpipe:dns-names': 'a.example.test', 'certpipe:acm-regions': 'eu-west-1,ap-south-1' }, 'ap-south-1 is not one of the ACM regions requests may use (eu-west-1, us-east-1)'],
  ])('refuses %s, saying why', (_case, tags, reason) => {
    const decision = decideRequest(request('certpipe/teams/shop', tags), POLICY, configured);
    expect(decision.adopted).toBe(false);
    expect(decision.status).toContain(reason);
    expect(decision.status.startsWith('refused: ')).toBe(true);
  });

  it('refuses every ACM region when the config opens none to requests, naming the setting', () => {
    const decision = decideRequest(request('certpipe/teams/shop', { 'certpipe:dns-names': 'a.example.test', 'certpipe:acm-regions': 'eu-west-1' }), { ...POLICY, acmRegions: [] }, configured);
    expect(decision).toMatchObject({ adopted: false, status: 'refused: eu-west-1: requests may not publish to ACM (selfService.acmRegions is empty)' });
  });

  it('adopts names in the zones (wildcards and the apex included) into a spec that issues into the request secret', () => {
    const decision = decideRequest(
      request('certpipe/teams/shop', { 'certpipe:dns-names': 'shop.example.org, *.shop.example.org api.example.test', 'certpipe:issuer': 'staging', 'certpipe:key-algorithm': 'rsa-2048', 'certpipe:acm-regions': 'eu-west-1,us-east-1' }),
      POLICY,
      configured,
    );
    expect(decision).toMatchObject({
      adopted: true,
      status: 'adopted issuer=staging key=rsa-2048',
      spec: {
        name: 'certpipe/teams/shop',
        secretName: 'certpipe/teams/shop',
        dnsNames: ['shop.example.org', '*.shop.example.org', 'api.example.test'],
        issuer: 'staging',
        keyAlgorithm: 'rsa-2048',
        targets: [{ type: 'acm', region: 'eu-west-1' }, { type: 'acm', region: 'us-east-1' }],
      },
    });
  });

  it('defaults to the first issuer and ECDSA P-256; once issued, keeps the issuer it adopted with (the store tags the CA there)', () => {
    const fresh = decideRequest(request('certpipe/teams/a', { 'certpipe:dns-names': 'a.example.test' }), POLICY, configured);
    expect(fresh).toMatchObject({ adopted: true, spec: { issuer: 'pebble', keyAlgorithm: 'ecdsa-p256' } });
    const issued = decideRequest(
      request('certpipe/teams/a', { 'certpipe:dns-names': 'a.example.test', 'certpipe:managed': 'true', 'certpipe:issuer': 'CN=Pebble Intermediate CA 1a2b3c', 'certpipe:status': 'adopted issuer=staging key=ecdsa-p256' }),
      POLICY,
      configured,
    );
    expect(issued).toMatchObject({ adopted: true, spec: { issuer: 'staging' } });
  });
});

describe('decideRequests', () => {
  it('adopts at most maxCertificates, the same ones from run to run (by name), and refuses the rest with the limit', () => {
    const requests = ['c', 'a', 'b'].map((n) => request(`certpipe/teams/${n}`, { 'certpipe:dns-names': `${n}.example.test` }));
    const decisions = decideRequests(requests, { certificates: [], selfService: POLICY });
    expect(decisions.map((d) => [d.request.name, d.adopted])).toEqual([
      ['certpipe/teams/a', true],
      ['certpipe/teams/b', true],
      ['certpipe/teams/c', false],
    ]);
    expect(decisions[2]!.status).toBe('refused: the pipeline already serves 2 self-service certificates, its limit');
  });

  it('refused requests do not count against the limit; no policy, no decisions', () => {
    const requests = [request('certpipe/teams/a', { 'certpipe:dns-names': 'x.other.test' }), request('certpipe/teams/b', { 'certpipe:dns-names': 'b.example.test' }), request('certpipe/teams/c', { 'certpipe:dns-names': 'c.example.test' })];
    expect(decideRequests(requests, { certificates: [], selfService: POLICY }).map((d) => d.adopted)).toEqual([false, true, true]);
    expect(decideRequests(requests, { certificates: [] })).toEqual([]);
  });
});

describe('selfService in the config', () => {
  const doc = (selfService: Record<string, unknown>) => ({
    issuers: [{ name: 'pebble', directoryUrl: 'https://127.0.0.1:14000/dir' }],
    hostedZones: [{ name: 'example.test' }],
    certificates: [{ name: 'web', dnsNames: ['www.example.test'] }],
    selfService,
  });

  it('reaches the inventory with its defaults (prefix certpipe/teams/, 10 names, 100 certificates)', () => {
    const inventory = toInventory(validateConfig(doc({ zones: ['Example.Test.'], issuers: ['pebble'] }), 'test'), { region: 'us-east-1' });
    expect(inventory.selfService).toMatchObject({ prefix: 'certpipe/teams/', zones: ['example.test'], issuers: ['pebble'], maxNamesPerCertificate: 10, maxCertificates: 100 });
    expect(toInventory(validateConfig({ ...doc({}), selfService: undefined }, 'test'), { region: 'us-east-1' }).selfService).toBeUndefined();
  });

  it.each([
    [{ zones: ['other.test'], issuers: ['pebble'] }, 'selfService.zones[0]: "other.test" is not in hostedZones'],
    [{ zones: ['example.test'], issuers: ['letsencrypt'] }, 'selfService.issuers[0]: "letsencrypt" is not an issuer'],
    [{ zones: ['example.test'], issuers: ['pebble'], prefix: 'teams' }, 'selfService.prefix: "teams" is not a secret-name prefix'],
    [{ zones: [], issuers: ['pebble'] }, 'selfService.zones'],
  ])('refuses %j naming the field', (selfService, message) => {
    expect(() => validateConfig(doc(selfService), 'test')).toThrow(message);
  });
});
