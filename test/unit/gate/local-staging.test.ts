// The local deploy's staging CA: the second Pebble's directory and root go to the
// issuer that names the canonical staging directory, and only to it.
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../infra/config.js';
import { LOCAL_ACME_DIRECTORY, LOCAL_STAGING_ACME_DIRECTORY, localInventory, synthesizedConfig } from '../../../local/deploy.js';
import type { Inventory } from '../../../functions/lib/inventory.js';

const issuer = (name: string, directoryUrl: string) => ({ name, directoryUrl, accountSecretName: `certpipe/acme-account/${name}` });
const bundled: Inventory = {
  version: 1,
  issuers: [issuer('pebble', LOCAL_ACME_DIRECTORY), issuer('pebble-staging', LOCAL_STAGING_ACME_DIRECTORY)],
  certificates: [],
  hostedZones: [],
  resolvers: [],
  eventBusName: 'default',
  propagationMaxAttempts: 30,
};

describe('local staging CA', () => {
  it('gives the staging issuer the staging Pebble\'s directory and root, the production issuer the other', () => {
    const inventory = localInventory(bundled, {
      zoneIds: new Map(),
      dnsPort: 53,
      root: 'PRODUCTION ROOT',
      acmeDirectoryUrl: 'https://127.0.0.1:30000/dir',
      staging: { directoryUrl: 'https://127.0.0.1:30001/dir', root: 'STAGING ROOT' },
    });
    expect(inventory.issuers.map((i) => [i.name, i.directoryUrl, i.trustedRoots])).toEqual([
      ['pebble', 'https://127.0.0.1:30000/dir', ['PRODUCTION ROOT']],
      ['pebble-staging', 'https://127.0.0.1:30001/dir', ['STAGING ROOT']],
    ]);
  });

  it('synthesizes a test cloud\'s two directories as the canonical ones, so the assembly cache serves every cloud', () => {
    const config = validateConfig({
      issuers: [
        { name: 'pebble', directoryUrl: 'https://127.0.0.1:30000/dir', staging: 'pebble-staging' },
        { name: 'pebble-staging', directoryUrl: 'https://127.0.0.1:30001/dir' },
      ],
      hostedZones: [{ name: 'example.test' }],
      certificates: [{ name: 'web', dnsNames: ['example.test'] }],
    });
    const synthesized = synthesizedConfig(config, 'https://127.0.0.1:30000/dir', 'https://127.0.0.1:30001/dir');
    expect(synthesized.issuers.map((i) => i.directoryUrl)).toEqual([LOCAL_ACME_DIRECTORY, LOCAL_STAGING_ACME_DIRECTORY]);
    expect(synthesizedConfig(config, LOCAL_ACME_DIRECTORY)).toBe(config);
  });
});
