// PlaceChallenges: create (or resume) the ACME order, record it with its new key
// BEFORE anything else can fail, and write the DNS-01 TXT values.
import { AcmeSession, type OrderRecord } from '../acme.js';
import { MAX_RETRY_AFTER_WAITS } from '../backoff.js';
import { AcmeOrderInvalid } from '../workflow/errors.js';
import type { OrderState, PlaceChallengesOutput, RenewalItem } from '../workflow/states.js';
import { findCertificate, findIssuer, type CertificateSpec } from '../inventory.js';
import { logger } from '../observability.js';
import type { PendingVersion } from '../store/certificateStore.js';
import { holderLeaseMs, PendingOrderTags } from '../store/pendingOrder.js';
import { generateKeyPair } from '../x509.js';
import type { StepContext } from '../context.js';
import { challengeProvider } from './challengeProvider.js';
import { pauseOrRethrow } from './pause.js';

const sameNames = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && [...a].map((n) => n.toLowerCase()).sort().join(',') === [...b].map((n) => n.toLowerCase()).sort().join(',');

/** A claim still worth resuming: same names and key type as the spec asks for now. */
function claimMatches(pending: PendingVersion, spec: CertificateSpec): boolean {
  return pending.kind === 'claim' && sameNames(pending.claim.dnsNames, spec.dnsNames) && pending.claim.keyAlgorithm === spec.keyAlgorithm;
}

async function keyForNewOrder(ctx: StepContext, spec: CertificateSpec): Promise<{ pem: string; currentVersionId?: string }> {
  const current = await ctx.store.readCurrent(spec);
  if (spec.privateKeyRotation === 'never' && current && current.issued.keyAlgorithm === spec.keyAlgorithm) {
    return { pem: current.issued.privateKey, currentVersionId: current.versionId };
  }
  return { pem: (await generateKeyPair(spec.keyAlgorithm)).privateKeyPem, currentVersionId: current?.versionId };
}

const issuedState = (orderUrl?: string): OrderState => ({
  ...(orderUrl ? { orderUrl } : {}),
  issued: true,
  records: [],
  changeIds: [],
  attempt: 0,
  origin: 'stored',
});

/** The order and its TXT records, or the pause the CA asked for with Retry-After (the ASL waits, or defers). */
export async function placeChallenges(ctx: StepContext, item: RenewalItem): Promise<PlaceChallengesOutput> {
  try {
    return await placeOrder(ctx, item);
  } catch (err) {
    const loop = { attempt: item.pauses ?? 0, maxWaits: MAX_RETRY_AFTER_WAITS, ...(item.execution ? { window: item.execution } : {}) };
    return pauseOrRethrow(ctx, findCertificate(ctx.inventory, item.name), err, loop);
  }
}

async function placeOrder(ctx: StepContext, item: RenewalItem): Promise<OrderState> {
  const spec = findCertificate(ctx.inventory, item.name);
  const issuer = findIssuer(ctx.inventory, spec.issuer);
  let pending = await ctx.store.readPending(spec);
  // A certificate issued and verified by an earlier run only needs publishing: no second order.
  if (pending?.kind === 'issued') return issuedState(pending.issued.orderUrl);
  // The current certificate is fine; some targets missed it last time.
  if (!pending && item.reason === 'PublishIncomplete') return issuedState();

  const session = await AcmeSession.open(issuer, ctx.aws.secretsManager());
  let order: OrderRecord | undefined;
  let origin: OrderState['origin'] = 'new';

  if (pending && claimMatches(pending, spec) && pending.kind === 'claim') {
    try {
      order = await session.resumeOrder(pending.claim.orderUrl);
      origin = 'resumed';
      logger.info('resuming the recorded ACME order', { certificate: spec.name, orderUrl: order.url, status: order.status });
    } catch (err) {
      if (!(err instanceof AcmeOrderInvalid)) throw err;
      logger.warn('the recorded ACME order is dead; ordering again', { certificate: spec.name, error: err.message });
    }
  }
  if (!order) {
    const key = await keyForNewOrder(ctx, spec);
    const created = await session.createOrder(spec.dnsNames);
    const claim = await ctx.store.claimPending(
      spec,
      { orderUrl: created.url, privateKeyPem: key.pem, keyAlgorithm: spec.keyAlgorithm, dnsNames: spec.dnsNames, now: ctx.now() },
      { replacePendingVersionId: pending?.versionId, expectedCurrentVersionId: key.currentVersionId },
    );
    if (claim.outcome === 'superseded') {
      logger.info('renewed meanwhile by another execution; publishing what is current', { certificate: spec.name });
      return issuedState();
    }
    if (claim.outcome === 'resumed') {
      // Another execution claimed this renewal first: continue with its order, never a second issuance.
      pending = claim.pending;
      if (pending.kind === 'issued') return issuedState(pending.issued.orderUrl);
      order = await session.resumeOrder(pending.claim.orderUrl);
      origin = 'resumed';
    } else {
      order = created;
    }
  }

  const challenges = order.status === 'pending' ? await session.dnsChallenges(order) : [];
  // Cleanup's record of what is about to be written and who needs it (store/challengeHolders.ts):
  // tagged BEFORE the DNS change, so a failure halfway is cleaned up without the order or its key.
  await new PendingOrderTags(ctx.aws.secretsManager()).hold(spec, {
    orderUrl: order.url,
    values: challenges.map((c) => c.value),
    ...(item.execution?.id ? { executionId: item.execution.id } : {}),
    leaseEndsAt: new Date(ctx.now().getTime() + holderLeaseMs()),
  });
  const provider = challengeProvider(ctx, spec);
  const presented = await provider.present(challenges.map((c) => ({ fqdn: c.fqdn, value: c.value })));
  const identifierOf = new Map(challenges.map((c) => [`${c.fqdn}\u0000${c.value}`, c.dnsName]));
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
