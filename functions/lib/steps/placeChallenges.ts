// PlaceChallenges: create (or resume) the ACME order, record it with its new key
// BEFORE anything else can fail, and write the DNS-01 TXT values. What to do with
// what is stored is decided in placement.ts; this file does the requests.
import type { OrderRecord } from '../acme.js';
import { replacedCertId } from '../acme/ari.js';
import { mayReuseKey } from '../acme/revocation.js';
import { MAX_RETRY_AFTER_WAITS } from '../backoff.js';
import { AcmeOrderInvalid, ProfileNotOffered } from '../workflow/errors.js';
import { checkProfile, profileFor } from '../acme/profiles.js';
import type { OrderState, PlaceChallengesOutput, RenewalItem } from '../workflow/states.js';
import { findCertificate, findIssuer, type CertificateSpec, type Issuer } from '../inventory.js';
import { logger } from '../observability.js';
import type { AcmeAccount } from '../ports/types.js';
import type { ContextFor } from '../context.js';
import { pauseOrRethrow } from './pause.js';
import { recordInLedger } from './ledger.js';
import { afterClaim, pendingView, placement, type Placement } from './placement.js';

export type PlaceChallengesContext = ContextFor<'store' | 'holds' | 'acme' | 'dns' | 'certificates'>;

const issuedState = (orderUrl?: string): OrderState => ({
  ...(orderUrl ? { orderUrl } : {}),
  issued: true,
  records: [],
  changeIds: [],
  attempt: 0,
  origin: 'stored',
});

/** The order and its TXT records, or the pause the CA asked for with Retry-After (the ASL waits, or defers). */
export async function placeChallenges(ctx: PlaceChallengesContext, item: RenewalItem): Promise<PlaceChallengesOutput> {
  try {
    return await placeOrder(ctx, item);
  } catch (err) {
    const loop = { attempt: item.pauses ?? 0, maxWaits: MAX_RETRY_AFTER_WAITS, ...(item.execution ? { window: item.execution } : {}) };
    return pauseOrRethrow(ctx, findCertificate(ctx.inventory, item.name), err, loop);
  }
}

/** The new order's key, and the certificate it replaces (ARI) when one is current. */
async function keyForNewOrder(ctx: PlaceChallengesContext, spec: CertificateSpec): Promise<{ pem: string; currentVersionId?: string; replaces?: string }> {
  const current = await ctx.store.readCurrent(spec);
  const replaces = replacedCertId(current?.issued, spec);
  const known = { ...(current ? { currentVersionId: current.versionId } : {}), ...(replaces ? { replaces } : {}) };
  const wanted = { keyAlgorithm: spec.keyAlgorithm, rotation: spec.privateKeyRotation };
  if (current && mayReuseKey(current.issued, wanted, wanted.rotation === 'never' ? await ctx.store.readRevocation(spec) : undefined)) {
    return { pem: current.issued.privateKey, ...known };
  }
  return { pem: await ctx.certificates.newPrivateKey(spec.keyAlgorithm), ...known };
}

async function placeOrder(ctx: PlaceChallengesContext, item: RenewalItem): Promise<OrderState> {
  const spec = findCertificate(ctx.inventory, item.name);
  const stored = await ctx.store.readPending(spec);
  const pending = stored && pendingView(stored);
  let next: Placement = placement({ pending, itemReason: item.reason, spec });
  logger.info('placement', { certificate: spec.name, action: next.action, reason: next.reason, detail: next.message });
  if (next.action === 'publish-stored') return issuedState(next.orderUrl);
  if (next.action === 'publish-current') return issuedState();

  const issuer = findIssuer(ctx.inventory, spec.issuer);
  const account = await ctx.acme.account(issuer);
  let order: OrderRecord | undefined;
  if (next.action === 'resume') {
    try {
      order = await account.orderStatus(next.orderUrl);
    } catch (err) {
      if (!(err instanceof AcmeOrderInvalid)) throw err;
      next = placement({ pending, itemReason: item.reason, spec, claimDead: true });
      logger.warn('the recorded ACME order is dead; ordering again', { certificate: spec.name, error: err.message });
    }
  }
  if (next.action === 'order') {
    const profile = await profileToOrder(account, spec, issuer);
    const key = await keyForNewOrder(ctx, spec);
    const created = await account.createOrder(spec.dnsNames, { ...(profile ? { profile } : {}), ...(key.replaces ? { replaces: key.replaces } : {}) });
    const claim = await ctx.store.claimPending(
      spec,
      { orderUrl: created.url, privateKeyPem: key.pem, keyAlgorithm: spec.keyAlgorithm, dnsNames: spec.dnsNames, now: ctx.now() },
      {
        ...(next.replacePendingVersionId ? { replacePendingVersionId: next.replacePendingVersionId } : {}),
        ...(key.currentVersionId ? { expectedCurrentVersionId: key.currentVersionId } : {}),
      },
    );
    await recordInLedger(spec, 'order', () => ctx.store.recordOrderPlaced(spec, ctx.now()));
    next = afterClaim(claim.outcome === 'resumed' ? { outcome: 'resumed', pending: pendingView(claim.pending) } : { outcome: claim.outcome });
    logger.info('claim', { certificate: spec.name, action: next.action, reason: next.reason, detail: next.message });
    if (next.action === 'publish-current') return issuedState();
    if (next.action === 'publish-stored') return issuedState(next.orderUrl);
    order = next.action === 'resume' ? await account.orderStatus(next.orderUrl) : created;
  }
  if (!order) throw new Error(`placement ended without an order for ${spec.name}`);
  const origin: OrderState['origin'] = next.action === 'use-created' ? 'new' : 'resumed';
  if (origin === 'resumed') logger.info('resuming the recorded ACME order', { certificate: spec.name, orderUrl: order.url, status: order.status });
  return presentChallenges(ctx, spec, item, account, order, origin);
}

/** The profile the new order carries, checked against the CA's directory before any key is made or claimed. */
async function profileToOrder(account: AcmeAccount, spec: CertificateSpec, issuer: Issuer): Promise<string | undefined> {
  const requested = profileFor(spec, issuer);
  if (requested === undefined) return undefined;
  const decision = checkProfile(requested, await account.offeredProfiles(), issuer.directoryUrl);
  if (!decision.ok) throw new ProfileNotOffered(`${spec.name}: ${decision.message}`);
  return decision.profile;
}

async function presentChallenges(
  ctx: PlaceChallengesContext,
  spec: CertificateSpec,
  item: RenewalItem,
  account: AcmeAccount,
  order: OrderRecord,
  origin: OrderState['origin'],
): Promise<OrderState> {
  const challenges = order.status === 'pending' ? await account.dnsChallenges(order) : [];
  // Cleanup's record of what is about to be written and who needs it (store/challengeHolders.ts):
  // tagged BEFORE the DNS change, so a failure halfway is cleaned up without the order or its key.
  await ctx.holds.hold(spec, {
    orderUrl: order.url,
    values: challenges.map((c) => c.value),
    ...(item.execution?.id ? { executionId: item.execution.id } : {}),
    leaseEndsAt: new Date(ctx.now().getTime() + ctx.env.holderLeaseMs),
  });
  const presented = await ctx.dns.zoneFor(spec).present(challenges);
  const identifierOf = new Map(challenges.map((c) => [`${c.fqdn}\u0000${c.value}`, c.identifier]));
  logger.info('challenge records written', {
    certificate: spec.name,
    orderUrl: order.url,
    records: presented.records.length,
    changes: presented.changeIds.length,
  });
  return {
    orderUrl: order.url,
    issued: false,
    records: presented.records.map((r) => ({
      identifier: identifierOf.get(`${r.delegatedFrom ?? r.fqdn}\u0000${r.value}`) ?? r.delegatedFrom ?? r.fqdn,
      fqdn: r.fqdn,
      zoneId: r.zoneId,
      value: r.value,
    })),
    changeIds: presented.changeIds,
    attempt: 0,
    origin,
  };
}
