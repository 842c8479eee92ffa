// In-memory ports for the steps' unit tests: plain maps and call logs, a fixed
// clock, and the fixtures in test/fixtures/steps. No AWS, no CA, no DNS.
import { readFileSync } from 'node:fs';
import type { OrderRecord, OrderStatus } from '../../../functions/lib/acme.js';
import type { RevocationRecord } from '../../../functions/lib/acme/revocation.js';
import type { StepContext } from '../../../functions/lib/context.js';
import { parseInventory, type CertificateSpec, type Inventory } from '../../../functions/lib/inventory.js';
import type { PresentedRecord } from '../../../functions/lib/dns/route53.js';
import type { AcmeAccount, ChallengeZone, RenewalInformation } from '../../../functions/lib/ports/types.js';
import type { AriCache } from '../../../functions/lib/acme/ariCache.js';
import type { RunObjects } from '../../../functions/lib/ports/runObjects.js';
import { readChallengeTags, valuesTags, holderTagKey } from '../../../functions/lib/store/challengeHolders.js';
import type { ClaimOutcome } from '../../../functions/lib/store/certificateStore.js';
import { TAG, type IssuedCertificate, type PendingClaim, type PendingVersion } from '../../../functions/lib/store/model.js';
import { appendFailures, appendOrder } from '../../../functions/lib/budget/ledger.js';
import { publishedTargetId, targetLabel } from '../../../functions/lib/targetIds.js';
import { AcmeOrderInvalid, CertificateVerificationFailed } from '../../../functions/lib/workflow/errors.js';

const fixture = <T>(name: string): T => JSON.parse(readFileSync(new URL(`../../fixtures/steps/${name}.json`, import.meta.url), 'utf8')) as T;

export const NOW = new Date('2026-04-01T10:00:00.000Z');
export const inventoryFixture = (): Inventory => parseInventory(fixture('inventory'));
export const issuedFixture = (over: Partial<IssuedCertificate> = {}): IssuedCertificate => ({ ...fixture<IssuedCertificate>('issued'), ...over });
export const claimFixture = (over: Partial<PendingClaim> = {}): PendingClaim => ({ ...fixture<PendingClaim>('claim'), ...over });
export const orderFixture = (over: Partial<OrderRecord> = {}): OrderRecord => ({ ...fixture<OrderRecord>('order'), ...over });

/** AWSPENDING and AWSCURRENT of one secret, and what the steps asked of them. */
export class MemoryStore {
  pending: PendingVersion | undefined;
  current: { versionId: string; issued: IssuedCertificate } | undefined;
  tags = new Map<string, string>();
  /** Scripted answer of the next claimPending (another execution's doing); by default the claim is taken. */
  claimAnswer: ClaimOutcome | undefined;
  calls: string[] = [];
  private versions = 0;

  async scanInventory() {
    return new Map();
  }
  async readPending() {
    return this.pending;
  }
  async readCurrent() {
    return this.current;
  }
  revocation: RevocationRecord | undefined;
  async readRevocation() {
    return this.revocation;
  }
  async claimPending(_spec: CertificateSpec, input: { orderUrl: string; privateKeyPem: string; keyAlgorithm: IssuedCertificate['keyAlgorithm']; dnsNames: string[]; now: Date }, options: { replacePendingVersionId?: string; expectedCurrentVersionId?: string } = {}) {
    this.calls.push(`claimPending ${input.orderUrl} replace=${options.replacePendingVersionId ?? '-'}`);
    if (this.claimAnswer) return this.claimAnswer;
    const claim: PendingClaim = { pending: true, certificateName: 'web', orderUrl: input.orderUrl, privateKey: input.privateKeyPem, keyAlgorithm: input.keyAlgorithm, dnsNames: input.dnsNames, createdAt: input.now.toISOString() };
    this.pending = { kind: 'claim', versionId: `v${++this.versions}`, claim };
    return { outcome: 'claimed' as const, pending: this.pending };
  }
  async storeIssued(_spec: CertificateSpec, issued: IssuedCertificate, options: { claimVersionId: string }) {
    this.calls.push(`storeIssued ${issued.serial} over ${options.claimVersionId}`);
    this.pending = { kind: 'issued', versionId: `v${++this.versions}`, issued };
    return this.pending.versionId;
  }
  async abandonPending(_spec: CertificateSpec, versionId: string) {
    this.calls.push(`abandonPending ${versionId}`);
    this.pending = undefined;
  }
  async promote(_spec: CertificateSpec, options: { now: Date; renewalTime?: Date; serial?: string; gateFingerprint?: string }) {
    this.calls.push(`promote serial=${options.serial ?? '-'} renewalTime=${options.renewalTime?.toISOString() ?? '-'}`);
    if (this.pending?.kind === 'issued') {
      this.current = { versionId: this.pending.versionId, issued: this.pending.issued };
      this.pending = undefined;
    }
    if (!this.current) throw new Error('nothing to promote');
    return this.current.issued;
  }
  async recordPublishPending(_spec: CertificateSpec, targets: readonly string[]) {
    this.calls.push(`recordPublishPending [${targets.join(',')}]`);
    if (targets.length) this.tags.set(TAG.publishPending, targets.join(','));
    else this.tags.delete(TAG.publishPending);
  }
  async recordDeferral(_spec: CertificateSpec, until: Date) {
    this.tags.set(TAG.deferredUntil, until.toISOString());
    return true;
  }
  async recordOrderPlaced(_spec: CertificateSpec, at: Date) {
    this.tags.set(TAG.orders, appendOrder(this.tags.get(TAG.orders), at));
  }
  async recordFailedAuthorizations(_spec: CertificateSpec, identifiers: readonly string[], at: Date) {
    this.calls.push(`recordFailedAuthorizations [${identifiers.join(',')}]`);
    this.tags.set(TAG.failedAuthz, appendFailures(this.tags.get(TAG.failedAuthz), identifiers, at));
  }
}

/** The challenge tags of the secret, kept in the store's tag map. */
export class MemoryHolds {
  constructor(private readonly tags: Map<string, string>) {}
  async read() {
    return readChallengeTags(this.tags, TAG.pendingOrder);
  }
  async hold(_spec: CertificateSpec, input: { orderUrl: string; values: readonly string[]; executionId?: string; leaseEndsAt: Date }) {
    for (const t of valuesTags(input.orderUrl, input.values)) this.tags.set(t.Key, t.Value);
    if (input.executionId) this.tags.set(holderTagKey(input.executionId), input.leaseEndsAt.toISOString());
  }
  async release(spec: CertificateSpec, executionId: string | undefined) {
    if (executionId) await this.untag(spec, [holderTagKey(executionId)]);
  }
  async untag(_spec: CertificateSpec, keys: readonly string[]) {
    for (const k of keys) this.tags.delete(k);
  }
}

/** A CA that answers from a map of orders; `fail` makes the next matching request throw. */
export class MemoryCa implements AcmeAccount {
  orders = new Map<string, OrderRecord>();
  /** What the order becomes when finalized (default `valid`). */
  afterFinalize: OrderStatus = 'valid';
  fail: { on: keyof AcmeAccount; error: Error } | undefined;
  calls: string[] = [];
  private created = 0;

  private check(on: keyof AcmeAccount) {
    if (this.fail?.on === on) {
      const { error } = this.fail;
      this.fail = undefined;
      throw error;
    }
  }
  /** The directory's meta.profiles; undefined = the CA offers none. */
  profiles: Record<string, string> | undefined;
  async offeredProfiles() {
    this.check('offeredProfiles');
    return this.profiles;
  }
  async createOrder(dnsNames: string[], options: { profile?: string; replaces?: string } = {}) {
    this.check('createOrder');
    const order = orderFixture({ url: `https://ca.test/order/new-${++this.created}`, dnsNames });
    this.orders.set(order.url, order);
    this.calls.push(`createOrder ${order.url}${options.profile ? ` profile=${options.profile}` : ''}${options.replaces ? ` replaces=${options.replaces}` : ''}`);
    return order;
  }
  async orderStatus(url: string) {
    this.calls.push(`orderStatus ${url}`);
    this.check('orderStatus');
    const order = this.orders.get(url);
    if (!order) throw new AcmeOrderInvalid(`ACME order ${url} is unknown`);
    // An invalid order's authorizations all failed here, as when the CA saw wrong TXT values.
    if (order.status === 'invalid') throw new AcmeOrderInvalid(`ACME order ${url} is invalid`, { failedIdentifiers: order.dnsNames });
    return { ...order };
  }
  async dnsChallenges(order: OrderRecord) {
    this.check('dnsChallenges');
    return order.dnsNames.map((identifier, i) => ({ identifier, fqdn: `_acme-challenge.${identifier.replace(/^\*\./, '')}`, value: `value-${i}-${order.url.split('/').pop()}` }));
  }
  async completeChallenges(order: OrderRecord) {
    this.calls.push(`completeChallenges ${order.url}`);
    this.check('completeChallenges');
  }
  async finalize(order: OrderRecord, csrPem: string) {
    this.calls.push(`finalize ${order.url} ${csrPem}`);
    this.check('finalize');
    const updated = { ...order, status: this.afterFinalize, ...(this.afterFinalize === 'valid' ? { certificate: `${order.url}/cert` } : {}) };
    this.orders.set(order.url, updated);
    return updated;
  }
  async downloadCertificate(order: OrderRecord) {
    this.calls.push(`downloadCertificate ${order.url}`);
    this.check('downloadCertificate');
    const issued = issuedFixture();
    return issued.certificate + issued.chain;
  }
}

/** One zone that records the values written and removed. */
export class MemoryZone implements ChallengeZone {
  values = new Map<string, string[]>();
  applied = true;
  changes = 0;
  async present(records: readonly { fqdn: string; value: string }[]) {
    const presented: PresentedRecord[] = [];
    for (const r of records) {
      const values = this.values.get(r.fqdn) ?? [];
      if (!values.includes(r.value)) values.push(r.value);
      this.values.set(r.fqdn, values);
      presented.push({ fqdn: r.fqdn, value: r.value, zoneId: 'Z1' });
    }
    return { records: presented, changeIds: records.length ? [`change-${++this.changes}`] : [] };
  }
  async cleanUpMatching(names: readonly { fqdn: string }[], isOurs: (value: string) => boolean) {
    for (const { fqdn } of names) this.values.set(fqdn, (this.values.get(fqdn) ?? []).filter((v) => !isOurs(v)));
    return [];
  }
  async changesApplied() {
    return this.applied;
  }
}

/** A CA's ARI: off until `offered`; answers by certID; remembers what CheckExpiry keeps. */
export class MemoryAri implements RenewalInformation {
  offered = false;
  answers = new Map<string, { body: unknown; retryAfter: string | null }>();
  fetched: string[] = [];
  kept = new Map<string, AriCache>();
  async renewalInfoUrl() {
    return this.offered ? 'https://ca.test/renewal-info' : undefined;
  }
  async fetch(_url: string, certId: string) {
    this.fetched.push(certId);
    const answer = this.answers.get(certId);
    if (!answer) throw new Error(`renewalInfo for ${certId} answered 404`);
    return answer;
  }
  async remember(spec: CertificateSpec, cache: AriCache) {
    this.kept.set(spec.name, cache);
  }
}

export interface MemoryWorld {
  ctx: StepContext;
  store: MemoryStore;
  ca: MemoryCa;
  zone: MemoryZone;
  ari: MemoryAri;
  /** Verification problems to report (none: what the CA sends verifies). */
  verifyProblems: string[];
  /** Target labels whose publish fails. */
  failingTargets: Set<string>;
  published: string[];
  events: { detailType: string; detail: Record<string, unknown> }[];
  newKeys: number;
  /** The run bucket: `bucket/key` → JSON text. */
  objects: Map<string, string>;
}

/** The run bucket in memory, as ports/runObjects.ts reads and writes it. */
export function memoryRunObjects(objects: Map<string, string>, bucket = 'run-bucket'): RunObjects {
  return {
    bucket,
    putJson: async (key, value) => {
      objects.set(`${bucket}/${key}`, JSON.stringify(value));
    },
    getJson: async (key, from = bucket) => {
      const text = objects.get(`${from}/${key}`);
      if (text === undefined) throw Object.assign(new Error(`no object ${from}/${key}`), { name: 'NoSuchKey' });
      return JSON.parse(text);
    },
  };
}

/** A context over in-memory ports, at NOW. */
export function memoryWorld(): MemoryWorld {
  const inventory = inventoryFixture();
  const store = new MemoryStore();
  const ca = new MemoryCa();
  const zone = new MemoryZone();
  const ari = new MemoryAri();
  const world: Omit<MemoryWorld, 'ctx'> = { store, ca, zone, ari, verifyProblems: [], failingTargets: new Set(), published: [], events: [], newKeys: 0, objects: new Map() };
  const ctx: StepContext = {
    env: { inventory, holderLeaseMs: 6 * 3600_000 },
    inventory,
    store,
    holds: new MemoryHolds(store.tags),
    acme: { account: async () => ca },
    ari,
    dns: { zoneFor: () => zone },
    certificates: {
      newPrivateKey: async () => `new-key-${++world.newKeys}`,
      csr: async (key, names) => `csr(${key};${names.join(',')})`,
      verify: (input) => {
        if (world.verifyProblems.length) throw new CertificateVerificationFailed(`${input.certificateName}: ${world.verifyProblems.join('; ')}`);
        const issued = issuedFixture();
        return { serial: issued.serial, notBefore: new Date(issued.notBefore), notAfter: new Date(issued.notAfter), dnsNames: issued.dnsNames, keyAlgorithm: issued.keyAlgorithm, chainPem: input.chainPem } as never;
      },
    },
    targets: {
      primaryId: async (spec) => publishedTargetId({ type: 'secretsmanager', accountId: '000000000000', region: 'us-east-1', secretName: spec.secretName }),
      publish: async (_spec, target, issued) => {
        const label = targetLabel(target);
        if (world.failingTargets.has(label)) throw Object.assign(new Error(`${label} refused`), { name: 'AccessDeniedException' });
        world.published.push(`${label} ${issued.serial}`);
        return label;
      },
    },
    events: {
      put: async (detailType, detail) => {
        world.events.push({ detailType, detail });
      },
    },
    runObjects: memoryRunObjects(world.objects),
    now: () => NOW,
  };
  return Object.assign(world, { ctx });
}
