// The few local-only adjustments of the local deploy, each a pure function of
// the synthesized inventory and the local cloud's facts.
import { describe, expect, it } from 'vitest';
import type { Inventory } from '../../functions/lib/inventory.js';
import type { CertpipeConfig } from '../../infra/config.js';
import { LOCAL_ACME_DIRECTORY, localInventory, synthesizedConfig, zoneIdRewrite } from '../../local/deploy.js';

const bundled = {
  version: 1,
  issuers: [
    { name: 'pebble', directoryUrl: LOCAL_ACME_DIRECTORY, accountSecretName: 'certpipe/acme-account/pebble' },
    { name: 'pinned', directoryUrl: 'https://ca.example/dir', trustedRoots: ['PINNED ROOT'], accountSecretName: 'certpipe/acme-account/pinned' },
  ],
  certificates: [
    {
      name: 'web',
      dnsNames: ['example.test'],
      issuer: 'pebble',
      keyAlgorithm: 'ecdsa-p256',
      privateKeyRotation: 'always',
      renewal: { renewAtFractionLeft: 0.33 },
      secretName: 'certpipe/web',
      hostedZoneIds: { 'www.example.org.test': 'ZCONFIGCERT' },
      targets: [],
    },
  ],
  hostedZones: [{ name: 'example.test', id: 'ZCONFIGZONE' }, { name: 'example.org.test' }],
  resolvers: [],
  eventBusName: 'default',
  propagationMaxAttempts: 30,
} as unknown as Inventory;

const zoneIds = new Map([
  ['example.test', 'LOCALA'],
  ['example.org.test', 'LOCALB'],
]);

describe('localInventory', () => {
  const local = localInventory(bundled, { zoneIds, root: 'PEBBLE ROOT', dnsPort: 5353, acmeDirectoryUrl: 'https://127.0.0.1:40000/dir' });

  it.each([
    ['the local CA issuer gets the cloud’s directory and Pebble’s root', 'pebble', { directoryUrl: 'https://127.0.0.1:40000/dir', trustedRoots: ['PEBBLE ROOT'] }],
    ['an issuer with its own directory and roots keeps both', 'pinned', { directoryUrl: 'https://ca.example/dir', trustedRoots: ['PINNED ROOT'] }],
  ])('%s', (_case, name, expected) => {
    expect(local.issuers.find((i) => i.name === name)).toMatchObject(expected);
  });

  it('takes the local zones’ ids, drops the ids the config pinned per name, and asks the local DNS server', () => {
    expect(local.hostedZones).toEqual([{ name: 'example.test', id: 'LOCALA' }, { name: 'example.org.test', id: 'LOCALB' }]);
    expect(local.certificates[0]!.hostedZoneIds).toEqual({});
    expect(local.resolvers).toEqual(['127.0.0.1:5353']);
  });

  it('changes nothing else', () => {
    const { issuers: _i, hostedZones: _h, certificates, resolvers: _r, ...rest } = local;
    const { issuers: _bi, hostedZones: _bh, certificates: bc, resolvers: _br, ...bundledRest } = bundled;
    expect(rest).toEqual(bundledRest);
    expect({ ...certificates[0], hostedZoneIds: undefined }).toEqual({ ...bc[0], hostedZoneIds: undefined });
  });
});

describe('synthesizedConfig', () => {
  const config = { issuers: [{ name: 'pebble', directoryUrl: 'https://127.0.0.1:40000/dir' }, { name: 'le', preset: 'letsencrypt' }] } as unknown as CertpipeConfig;
  it.each<[string, string | undefined, string]>([
    ['a test cloud’s Pebble directory becomes the canonical local one', 'https://127.0.0.1:40000/dir', LOCAL_ACME_DIRECTORY],
    ['another directory is left as written', 'https://127.0.0.1:50000/dir', 'https://127.0.0.1:40000/dir'],
    ['no local cloud directory: as written', undefined, 'https://127.0.0.1:40000/dir'],
  ])('%s', (_case, cloudDirectory, expected) => {
    const out = synthesizedConfig(config, cloudDirectory);
    expect((out.issuers[0] as { directoryUrl: string }).directoryUrl).toBe(expected);
    expect(out.issuers[1]).toEqual(config.issuers[1]);
  });
});

describe('zoneIdRewrite', () => {
  const rewrite = zoneIdRewrite(bundled, zoneIds);
  it.each([
    ['a zone id the config pinned', 'arn:aws:route53:::hostedzone/ZCONFIGZONE', 'arn:aws:route53:::hostedzone/LOCALA'],
    ['a per-name id, by its zone', 'arn:aws:route53:::hostedzone/ZCONFIGCERT', 'arn:aws:route53:::hostedzone/LOCALB'],
    ['the wildcard stays', 'arn:aws:route53:::hostedzone/*', 'arn:aws:route53:::hostedzone/*'],
    ['an id nobody pinned stays', 'arn:aws:route53:::hostedzone/ZOTHER', 'arn:aws:route53:::hostedzone/ZOTHER'],
  ])('%s', (_case, resource, expected) => {
    expect(rewrite({ Statement: [{ Resource: [resource] }] })).toEqual({ Statement: [{ Resource: [expected] }] });
  });
});
