// The certificate store against the local Secrets Manager: pending claims and the
// race for them, promotion and rollback, the inventory scan, and copies to
// another account through an assumed role.
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsClients } from '../../functions/lib/aws.js';
import { clientsFor } from '../../functions/lib/targets.js';
import type { CertificateSpec } from '../../functions/lib/inventory.js';
import {
  CertificateStore,
  publishSecretCopy,
  scanInventory,
  type IssuedCertificate,
} from '../../functions/lib/store/certificateStore.js';
import { startTestCloud, type TestCloud } from '../support/cloud.js';
import { recordCalls } from '../support/sdk-calls.js';

let tc: TestCloud;
let sm: SecretsManagerClient;
let store: CertificateStore;

const now = new Date('2025-06-01T00:00:00Z');

function specFor(name: string, dnsNames = [`${name}.store.test`]): CertificateSpec {
  return {
    name,
    dnsNames,
    issuer: 'pebble',
    keyAlgorithm: 'ecdsa-p256',
    privateKeyRotation: 'always',
    renewal: { renewAtFractionLeft: 1 / 3 },
    secretName: `certpipe/${name}`,
    hostedZoneIds: {},
    targets: [],
  };
}

/** Stand-in PEM strings: Secrets Manager stores them as they are. */
function issuedFor(spec: CertificateSpec, serial: string, orderUrl = `https://ca.test/order/${serial}`): IssuedCertificate {
  return {
    certificate: `LEAF-${serial}`,
    chain: 'CHAIN',
    fullchain: `LEAF-${serial}CHAIN`,
    privateKey: `KEY-${serial}`,
    notBefore: '2025-06-01T00:00:00.000Z',
    notAfter: '2025-08-30T00:00:00.000Z',
    serial,
    dnsNames: spec.dnsNames,
    issuer: spec.issuer,
    keyAlgorithm: spec.keyAlgorithm,
    certificateName: spec.name,
    orderUrl,
  };
}

/** The version id AWSPENDING holds: the claim a finalize builds on. */
async function pendingId(spec: CertificateSpec): Promise<string> {
  const pending = await store.readPending(spec);
  if (!pending) throw new Error(`no AWSPENDING on ${spec.secretName}`);
  return pending.versionId;
}

const claim = (orderUrl: string, key = 'NEW-KEY') => ({
  orderUrl,
  privateKeyPem: key,
  keyAlgorithm: 'ecdsa-p256' as const,
  dnsNames: ['x.store.test'],
  now,
});

async function stages(secretId: string): Promise<Record<string, string[]>> {
  return (await sm.send(new DescribeSecretCommand({ SecretId: secretId }))).VersionIdsToStages ?? {};
}

async function tagsOf(secretId: string): Promise<Record<string, string>> {
  const tags = (await sm.send(new DescribeSecretCommand({ SecretId: secretId }))).Tags ?? [];
  return Object.fromEntries(tags.map((t) => [t.Key!, t.Value!]));
}

async function valueAt(secretId: string, stage: string): Promise<Record<string, unknown>> {
  return JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: stage }))).SecretString!);
}

beforeAll(async () => {
  tc = await startTestCloud();
  sm = new SecretsManagerClient(tc.sdkConfig());
  store = new CertificateStore(sm);
});

afterAll(() => tc?.close());

describe('claimPending', () => {
  it('on a first issuance creates the secret with a placeholder as AWSCURRENT (no key) and the claim as AWSPENDING', async () => {
    const spec = specFor('first');
    const result = await store.claimPending(spec, claim('https://ca.test/order/1'));
    expect(result.outcome).toBe('claimed');
    expect(await store.readCurrent(spec)).toBeUndefined();
    const pending = await store.readPending(spec);
    expect(pending).toMatchObject({ kind: 'claim', claim: { pending: true, orderUrl: 'https://ca.test/order/1', privateKey: 'NEW-KEY', certificateName: 'first' } });
    // AWS labels a secret's first version AWSCURRENT whatever is asked: that version is a keyless placeholder.
    expect(Object.values(await stages(spec.secretName)).sort()).toEqual([['AWSCURRENT'], ['AWSPENDING']]);
    expect(await valueAt(spec.secretName, 'AWSCURRENT')).toMatchObject({ placeholder: true, certificateName: 'first' });
    expect(JSON.stringify(await valueAt(spec.secretName, 'AWSCURRENT'))).not.toContain('KEY');
    expect(await tagsOf(spec.secretName)).toMatchObject({
      'certpipe:managed': 'true',
      'certpipe:certificate': 'first',
      'certpipe:pending-order': 'https://ca.test/order/1',
    });
    // Repeating the same claim is a no-op.
    expect((await store.claimPending(spec, { ...claim('https://ca.test/order/1'), now: new Date() })).outcome).toBe('claimed');
    expect(Object.keys(await stages(spec.secretName))).toHaveLength(2);
  });

  it('two executions racing end with ONE pending version; the loser resumes the winner\'s order', async () => {
    const spec = specFor('race');
    const stores = [new CertificateStore(new SecretsManagerClient(tc.sdkConfig())), new CertificateStore(new SecretsManagerClient(tc.sdkConfig()))];
    const results = await Promise.all([
      stores[0]!.claimPending(spec, claim('https://ca.test/order/A', 'KEY-A')),
      stores[1]!.claimPending(spec, claim('https://ca.test/order/B', 'KEY-B')),
    ]);
    expect(results.map((r) => r.outcome).sort()).toEqual(['claimed', 'resumed']);
    const winner = results.find((r) => r.outcome === 'claimed')!;
    const loser = results.find((r) => r.outcome === 'resumed')!;
    expect(loser.outcome === 'resumed' && loser.pending).toEqual(winner.outcome === 'claimed' && winner.pending);

    const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: spec.secretName }));
    expect(versions.Versions?.filter((v) => v.VersionStages?.includes('AWSPENDING'))).toHaveLength(1);
    expect(versions.Versions).toHaveLength(2); // the placeholder and one claim
    const pending = await valueAt(spec.secretName, 'AWSPENDING');
    const winnerOrder = winner.outcome === 'claimed' && winner.pending.kind === 'claim' ? winner.pending.claim.orderUrl : '';
    expect(pending.orderUrl).toBe(winnerOrder);
    expect(pending.privateKey).toBe(winnerOrder.endsWith('A') ? 'KEY-A' : 'KEY-B');
  });

  it('a late loser finds the winner\'s verified certificate and resumes from it', async () => {
    const spec = specFor('late');
    await store.claimPending(spec, claim('https://ca.test/order/W'));
    await store.storeIssued(spec, issuedFor(spec, '0a', 'https://ca.test/order/W'), { claimVersionId: await pendingId(spec) });
    const late = await store.claimPending(spec, claim('https://ca.test/order/L'));
    expect(late).toMatchObject({ outcome: 'resumed', pending: { kind: 'issued', issued: { serial: '0a' } } });
  });

  it('replaces a dead claim when told which one, and reports a renewal that finished meanwhile', async () => {
    const spec = specFor('dead');
    const first = await store.claimPending(spec, claim('https://ca.test/order/dead'));
    const deadId = first.outcome === 'claimed' ? first.pending.versionId : '';
    // Without naming the dead version, the old claim is what everyone resumes.
    expect((await store.claimPending(spec, claim('https://ca.test/order/new'))).outcome).toBe('resumed');
    const replaced = await store.claimPending(spec, claim('https://ca.test/order/new'), { replacePendingVersionId: deadId });
    expect(replaced).toMatchObject({ outcome: 'claimed', pending: { kind: 'claim', claim: { orderUrl: 'https://ca.test/order/new' } } });

    expect(await store.claimPending(spec, claim('https://ca.test/order/x'), { expectedCurrentVersionId: 'some-older-version' })).toMatchObject({
      outcome: 'superseded',
    });
  });
});

describe('claims after a rollback or an abandoned claim (the token is not burned for good)', () => {
  it('claims afresh after the claim built on the same current version was abandoned', async () => {
    const spec = specFor('abandoned');
    const first = await store.claimPending(spec, claim('https://ca.test/order/a1'));
    expect(first.outcome).toBe('claimed');
    await store.abandonPending(spec, first.outcome === 'claimed' ? first.pending.versionId : '');

    const again = await store.claimPending(spec, claim('https://ca.test/order/a2'), { expectedCurrentVersionId: undefined });
    expect(again).toMatchObject({ outcome: 'claimed', pending: { kind: 'claim', claim: { orderUrl: 'https://ca.test/order/a2' } } });
    expect((await tagsOf(spec.secretName))['certpipe:pending-order']).toBe('https://ca.test/order/a2');
    // Abandoned twice over the same current version: still a fresh claim each time.
    await store.abandonPending(spec, again.outcome === 'claimed' ? again.pending.versionId : '');
    expect((await store.claimPending(spec, claim('https://ca.test/order/a3'))).outcome).toBe('claimed');
  });

  it('claims afresh after a rollback made an older version current again', async () => {
    const spec = specFor('rolled');
    await store.claimPending(spec, claim('https://ca.test/order/r1'));
    const v1 = await store.storeIssued(spec, issuedFor(spec, 'R1'), { claimVersionId: await pendingId(spec) });
    await store.promote(spec, { now, serial: 'R1' });
    await store.claimPending(spec, claim('https://ca.test/order/r2'), { expectedCurrentVersionId: v1 });
    await store.storeIssued(spec, issuedFor(spec, 'R2'), { claimVersionId: await pendingId(spec) });
    await store.promote(spec, { now, serial: 'R2' });
    await store.rollback(spec, { now });

    // The claim builds on v1 again, as the R2 claim did: it must not come back `superseded`.
    const third = await store.claimPending(spec, claim('https://ca.test/order/r3'), { expectedCurrentVersionId: v1 });
    expect(third).toMatchObject({ outcome: 'claimed', pending: { kind: 'claim', claim: { orderUrl: 'https://ca.test/order/r3' } } });
  });

  it('two executions racing after an abandoned claim still end with one claim', async () => {
    const spec = specFor('abandoned-race');
    const first = await store.claimPending(spec, claim('https://ca.test/order/x0'));
    await store.abandonPending(spec, first.outcome === 'claimed' ? first.pending.versionId : '');
    const stores = [new CertificateStore(new SecretsManagerClient(tc.sdkConfig())), new CertificateStore(new SecretsManagerClient(tc.sdkConfig()))];
    const results = await Promise.all([
      stores[0]!.claimPending(spec, claim('https://ca.test/order/xA', 'KEY-A')),
      stores[1]!.claimPending(spec, claim('https://ca.test/order/xB', 'KEY-B')),
    ]);
    expect(results.map((r) => r.outcome).sort()).toEqual(['claimed', 'resumed']);
    const pending = await store.readPending(spec);
    for (const r of results) expect(r.outcome !== 'superseded' && r.pending.versionId).toBe(pending?.versionId);
  });
});

describe('storeIssued, promote, rollback', () => {
  it('does not store a certificate over a claim that another execution replaced meanwhile', async () => {
    const spec = specFor('replaced-claim');
    const first = await store.claimPending(spec, claim('https://ca.test/order/old'));
    const oldClaim = first.outcome === 'claimed' ? first.pending.versionId : '';
    // Another execution decides the order is dead and replaces the claim while ours finalizes.
    const other = await store.claimPending(spec, claim('https://ca.test/order/other'), { replacePendingVersionId: oldClaim });
    expect(other.outcome).toBe('claimed');

    await expect(store.storeIssued(spec, issuedFor(spec, 'bb'), { claimVersionId: oldClaim })).rejects.toMatchObject({
      name: 'RenewalInProgress',
    });
    // The other execution's claim is untouched.
    expect(await store.readPending(spec)).toMatchObject({ kind: 'claim', claim: { orderUrl: 'https://ca.test/order/other' } });
  });


  it('promotes the verified certificate, keeps the old one as previous, and rolls back', async () => {
    const spec = specFor('cycle', ['cycle.store.test', '*.cycle.store.test']);

    await store.claimPending(spec, claim('https://ca.test/order/1'));
    const v1 = await store.storeIssued(spec, issuedFor(spec, '01'), { claimVersionId: await pendingId(spec) });
    expect(await store.storeIssued(spec, issuedFor(spec, '01'), { claimVersionId: await pendingId(spec) })).toBe(v1); // a retried step writes nothing new
    expect(await store.readPending(spec)).toMatchObject({ kind: 'issued', versionId: v1, issued: { serial: '01' } });
    await expect(store.readCurrent(spec)).resolves.toBeUndefined();

    const renewalTime = new Date('2025-07-31T00:00:00Z');
    const promoted = await store.promote(spec, { now, renewalTime, serial: '01' });
    expect(promoted.serial).toBe('01');
    expect(await stages(spec.secretName)).toMatchObject({ [v1]: ['AWSCURRENT'] });
    expect(await store.readPending(spec)).toBeUndefined();
    const tags = await tagsOf(spec.secretName);
    expect(tags).toMatchObject({
      'certpipe:managed': 'true',
      'certpipe:certificate': 'cycle',
      'certpipe:serial': '01',
      'certpipe:not-after': '2025-08-30T00:00:00.000Z',
      'certpipe:not-before': '2025-06-01T00:00:00.000Z',
      'certpipe:issued-at': now.toISOString(),
      'certpipe:renewal-time': renewalTime.toISOString(),
      'certpipe:issuer': 'pebble',
      'certpipe:dns-names': 'cycle.store.test,*.cycle.store.test',
      'certpipe:key-algorithm': 'ecdsa-p256',
    });
    expect(tags['certpipe:pending-order']).toBeUndefined();
    // Promoting again is harmless.
    await expect(store.promote(spec, { now, serial: '01' })).resolves.toMatchObject({ serial: '01' });

    // The next renewal builds on the new current version.
    const second = await store.claimPending(spec, claim('https://ca.test/order/2'), { expectedCurrentVersionId: v1 });
    expect(second.outcome).toBe('claimed');
    const v2 = await store.storeIssued(spec, issuedFor(spec, '02'), { claimVersionId: await pendingId(spec) });
    await store.promote(spec, { now, serial: '02' });
    expect((await store.readCurrent(spec))?.issued.serial).toBe('02');
    const after = await stages(spec.secretName);
    expect(after[v2]).toEqual(['AWSCURRENT']);
    expect(after[v1]).toEqual(['AWSPREVIOUS']);
    expect((await valueAt(spec.secretName, 'AWSPREVIOUS')).serial).toBe('01');

    const rolledBack = await store.rollback(spec, { now });
    expect(rolledBack.serial).toBe('01');
    const back = await stages(spec.secretName);
    expect(back[v1]).toEqual(['AWSCURRENT']);
    expect(back[v2]).toEqual(['AWSPREVIOUS']);
    expect((await tagsOf(spec.secretName))['certpipe:serial']).toBe('01');
  });

  it('refuses to promote a claim that has no certificate yet', async () => {
    const spec = specFor('unready');
    await store.claimPending(spec, claim('https://ca.test/order/u'));
    await expect(store.promote(spec, { now })).rejects.toMatchObject({ name: 'InvalidInput' });
  });
});

describe('scanInventory', () => {
  it('reads every issued certificate from one paginated ListSecrets and nothing else', async () => {
    const scanSm = new SecretsManagerClient(tc.sdkConfig('444444444444'));
    const scanStore = new CertificateStore(scanSm);
    const specs = Array.from({ length: 105 }, (_, i) => specFor(`bulk-${String(i).padStart(3, '0')}`));
    for (const spec of specs.slice(0, 3)) {
      await scanStore.claimPending(spec, claim(`https://ca.test/order/${spec.name}`));
      await scanStore.storeIssued(spec, issuedFor(spec, `aa${spec.name.slice(-3)}`), { claimVersionId: (await scanStore.readPending(spec))!.versionId });
      await scanStore.promote(spec, { now });
    }
    // The rest carry tags only, to make the listing page.
    for (const spec of specs.slice(3)) {
      const issued = issuedFor(spec, `bb${spec.name.slice(-3)}`);
      await scanSm.send(
        new CreateSecretCommand({
          Name: spec.secretName,
          SecretString: JSON.stringify(issued),
          Tags: [
            { Key: 'certpipe:managed', Value: 'true' },
            { Key: 'certpipe:certificate', Value: spec.name },
            { Key: 'certpipe:not-before', Value: issued.notBefore },
            { Key: 'certpipe:not-after', Value: issued.notAfter },
            { Key: 'certpipe:serial', Value: issued.serial },
            { Key: 'certpipe:issuer', Value: 'pebble' },
            { Key: 'certpipe:dns-names', Value: issued.dnsNames.join(',') },
          ],
        }),
      );
    }
    // Not certpipe's, and an unfinished first issuance: neither is listed. The latter's order
    // and failed authorization (the rate-limit ledger) are, beside the facts, from the same scan.
    await scanSm.send(new CreateSecretCommand({ Name: 'someone/else', SecretString: '{}' }));
    const inFlight = specFor('in-flight');
    await scanStore.claimPending(inFlight, claim('https://ca.test/order/in-flight'));
    await scanStore.recordOrderPlaced(inFlight, now);
    await scanStore.recordFailedAuthorizations(inFlight, ['in-flight.store.test'], now);

    const calls = recordCalls(scanSm);
    const facts = await scanInventory(scanSm, [...specs, inFlight]);
    expect(calls.every((c) => c === 'ListSecretsCommand')).toBe(true);
    expect(calls).toHaveLength(2);
    expect(facts.size).toBe(105);
    expect(facts.get('bulk-001')).toMatchObject({
      secretName: 'certpipe/bulk-001',
      serial: 'aa001',
      notAfter: new Date('2025-08-30T00:00:00.000Z'),
      dnsNames: ['bulk-001.store.test'],
      issuer: 'pebble',
      keyAlgorithm: 'ecdsa-p256',
      currentVersionId: expect.any(String),
    });
    expect(facts.get('bulk-104')).toMatchObject({ serial: 'bb104' });
    expect(facts.has('in-flight')).toBe(false);
    expect(facts.unissued.get('in-flight')).toEqual({
      ordersPlaced: [new Date(Math.ceil(now.getTime() / 1000) * 1000)],
      failedAuthorizations: [{ identifier: 'in-flight.store.test', at: new Date(Math.ceil(now.getTime() / 1000) * 1000) }],
    });
    expect(facts.unissued.size).toBe(1);
  });
});

describe('copies to secretsmanager targets', () => {
  it('writes the issued JSON in another account and region through an assumed role, once per serial', async () => {
    const roleArn = 'arn:aws:iam::111111111111:role/certpipe-publisher';
    await fetch(`${tc.url}/_certpipe/iam/roles`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ roleArn, externalId: 'certpipe-ext' }),
    });
    const clients = new AwsClients({ endpoint: tc.url, credentials: tc.sdkConfig().credentials, maxAttempts: 1 });
    const target = {
      type: 'secretsmanager' as const,
      name: 'shared/web',
      region: 'eu-west-1',
      roleArn,
      externalId: 'certpipe-ext',
      // The target stack's key in that account (toInventory names it for copies in the stack's region).
      kmsKeyId: 'alias/certpipe',
    };
    const there = await clientsFor(clients, target);
    expect(there.accountId).toBe('111111111111');

    const spec = specFor('copied');
    const first = await publishSecretCopy(there.secretsManager, target, issuedFor(spec, 'c1'));
    expect(await publishSecretCopy(there.secretsManager, target, issuedFor(spec, 'c1'))).toEqual(first);
    await publishSecretCopy(there.secretsManager, target, issuedFor(spec, 'c2'));

    const remote = new SecretsManagerClient(tc.sdkConfig('111111111111', 'eu-west-1'));
    const current = JSON.parse((await remote.send(new GetSecretValueCommand({ SecretId: 'shared/web' }))).SecretString!);
    expect(current).toMatchObject({ serial: 'c2', certificate: 'LEAF-c2', privateKey: 'KEY-c2' });
    expect((await remote.send(new ListSecretVersionIdsCommand({ SecretId: 'shared/web' }))).Versions).toHaveLength(2);
    const remoteTags = Object.fromEntries(
      ((await remote.send(new DescribeSecretCommand({ SecretId: 'shared/web' }))).Tags ?? []).map((t) => [t.Key, t.Value]),
    );
    expect(remoteTags).toMatchObject({ 'certpipe:copy-of': 'copied', 'certpipe:serial': 'c2' });
    expect((await remote.send(new DescribeSecretCommand({ SecretId: 'shared/web' }))).KmsKeyId).toBe('alias/certpipe');

    // Not in the pipeline account, and a copy never counts as a primary.
    await expect(sm.send(new DescribeSecretCommand({ SecretId: 'shared/web' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    expect((await scanInventory(new SecretsManagerClient(tc.sdkConfig('111111111111', 'eu-west-1')))).size).toBe(0);

    // The wrong ExternalId is refused by STS.
    const wrong = await clientsFor(clients, { region: 'eu-west-1', roleArn, externalId: 'guess' });
    await expect(publishSecretCopy(wrong.secretsManager, target, issuedFor(spec, 'c3'))).rejects.toMatchObject({ name: 'AccessDenied' });
  });
});
