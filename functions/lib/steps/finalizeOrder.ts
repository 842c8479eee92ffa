// FinalizeOrder: one status call per invocation. Depending on where the order is
// (orderProgress.ts decides), answer the challenges, finalize with a CSR of the
// stored key, or download, verify and store the certificate. "Not yet" is a normal
// `waiting` result (not a function error, so it never counts in the Lambda Errors
// alarm): the ASL's Wait loop does the waiting, for a bounded number of checks.
import { AcmeOrderInvalid, AcmeOrderNotReady, CertificateVerificationFailed } from '../workflow/errors.js';
import { MAX_ORDER_CHECKS, type Waiting } from '../backoff.js';
import type { FinalizeOrderInput, FinalizeOrderOutput, IssuedSummary } from '../workflow/states.js';
import { findCertificate, findIssuer, type CertificateSpec } from '../inventory.js';
import { logger } from '../observability.js';
import { buildIssued, type IssuedCertificate, type PendingClaim } from '../store/certificateStore.js';
import { splitPemChain } from '../x509.js';
import type { ContextFor } from '../context.js';
import type { AcmeAccount } from '../ports/types.js';
import { trustAnchors } from '../trust.js';
import { finalizeStart, nextCheck as checkAgain, orderAction } from './orderProgress.js';
import { pendingView } from './placement.js';
import { pauseOrRethrow } from './pause.js';
import { recordInLedger } from './ledger.js';

export type FinalizeOrderContext = ContextFor<'store' | 'acme' | 'certificates'>;

const summary = (issued: IssuedCertificate): IssuedSummary => ({
  serial: issued.serial,
  notBefore: issued.notBefore,
  notAfter: issued.notAfter,
  dnsNames: issued.dnsNames,
});

/** Issued, or the wait before the next status check (order still at the CA, or the CA's Retry-After), or deferred. */
export async function finalizeOrder(ctx: FinalizeOrderContext, input: FinalizeOrderInput): Promise<FinalizeOrderOutput> {
  const spec = findCertificate(ctx.inventory, input.name);
  const attempt = input.order.finalizeAttempt ?? 0;
  try {
    const result = await advanceOrder(ctx, spec, input);
    return 'notReady' in result ? nextCheck(spec.name, attempt, result.notReady) : { status: 'issued', ...result };
  } catch (err) {
    // The CA's own orderNotReady (another execution moved the order meanwhile) is the same "not yet".
    if (err instanceof AcmeOrderNotReady) return nextCheck(spec.name, attempt, err.message);
    // Retry-After waits count as status checks: one bound for the whole loop.
    return pauseOrRethrow(ctx, spec, err, { attempt, maxWaits: MAX_ORDER_CHECKS, ...(input.execution ? { window: input.execution } : {}) });
  }
}

/** Wait before the next status check; after MAX_ORDER_CHECKS the certificate fails with AcmeOrderNotReady. */
function nextCheck(name: string, attempt: number, why: string): Waiting {
  const next = checkAgain(attempt);
  if (next.action === 'give-up') throw new AcmeOrderNotReady(`${why}; still not issued after ${next.checks} status checks of ${name}'s order`);
  logger.info('order not ready yet', { certificate: name, attempt: next.attempt, detail: why });
  return { status: 'waiting', waitSeconds: next.waitSeconds, cause: 'OrderNotReady', attempt: next.attempt };
}

async function advanceOrder(ctx: FinalizeOrderContext, spec: CertificateSpec, input: FinalizeOrderInput): Promise<IssuedSummary | { notReady: string }> {
  const pending = await ctx.store.readPending(spec);
  const current = pending ? undefined : await ctx.store.readCurrent(spec);
  const start = finalizeStart({
    ...(pending ? { pending: pendingView(pending) } : {}),
    ...(current ? { currentOrderUrl: current.issued.orderUrl } : {}),
    ...(input.order.orderUrl ? { stateOrderUrl: input.order.orderUrl } : {}),
  });
  if (start.action === 'report-stored' && pending?.kind === 'issued') return summary(pending.issued);
  if (start.action === 'report-current' && current) return summary(current.issued);
  if (start.action !== 'check-order' || pending?.kind !== 'claim') {
    throw new AcmeOrderInvalid(`No ACME order is recorded for ${spec.name} (secret ${spec.secretName} has no AWSPENDING claim)`);
  }
  const account = await ctx.acme.account(findIssuer(ctx.inventory, spec.issuer));
  try {
    return await advanceClaimedOrder(ctx, spec, account, start.orderUrl, pending);
  } catch (err) {
    if (err instanceof AcmeOrderInvalid) await forgetDeadOrder(ctx, spec, pending.versionId, err);
    throw err;
  }
}

/**
 * The CA gave up on the order: its failed authorizations go into the budget's ledger, and
 * the claim is forgotten so the next run places a new order through the budget rather
 * than resuming a dead one outside it (a resume spends nothing, so it is never budgeted).
 * This is the one place a failure is recorded: the step that answered the challenges.
 */
async function forgetDeadOrder(ctx: FinalizeOrderContext, spec: CertificateSpec, claimVersionId: string, err: AcmeOrderInvalid): Promise<void> {
  if (err.failedIdentifiers.length) {
    await recordInLedger(spec, 'failed authorizations', () => ctx.store.recordFailedAuthorizations(spec, err.failedIdentifiers, ctx.now()));
  }
  try {
    await ctx.store.abandonPending(spec, claimVersionId);
  } catch (abandonErr) {
    // The next run then finds the order dead and orders afresh: never hide the CA's answer behind this.
    logger.warn('could not forget the dead order', { certificate: spec.name, error: (abandonErr as Error).message });
  }
}

async function advanceClaimedOrder(
  ctx: FinalizeOrderContext,
  spec: CertificateSpec,
  account: AcmeAccount,
  orderUrl: string,
  pending: { versionId: string; claim: PendingClaim },
): Promise<IssuedSummary | { notReady: string }> {
  const { claim } = pending;
  let order = await account.orderStatus(orderUrl);
  let next = orderAction(order.status as Exclude<typeof order.status, 'invalid'>);
  if (next.action === 'answer-challenges') {
    await account.completeChallenges(order);
    return { notReady: `Order ${order.url} for ${spec.name}: ${next.message}` };
  }
  if (next.action === 'finalize') {
    order = await account.finalize(order, await ctx.certificates.csr(claim.privateKey, claim.dnsNames));
    logger.info('order finalized', { certificate: spec.name, orderUrl: order.url, status: order.status });
    next = orderAction(order.status as Exclude<typeof order.status, 'invalid'>);
  }
  if (next.action !== 'download') return { notReady: `Order ${order.url} for ${spec.name} is ${order.status}` };
  const issued = await downloadAndVerify(ctx, spec, account, order, claim, pending.versionId, trustAnchors(findIssuer(ctx.inventory, spec.issuer)));
  await ctx.store.storeIssued(spec, issued, { claimVersionId: pending.versionId });
  logger.info('certificate issued and verified', { certificate: spec.name, serial: issued.serial, notAfter: issued.notAfter });
  return summary(issued);
}

async function downloadAndVerify(
  ctx: FinalizeOrderContext,
  spec: CertificateSpec,
  account: AcmeAccount,
  order: Awaited<ReturnType<AcmeAccount['orderStatus']>>,
  claim: PendingClaim,
  claimVersionId: string,
  trustedRoots: readonly string[],
): Promise<IssuedCertificate> {
  const [leaf = '', ...chain] = splitPemChain(await account.downloadCertificate(order));
  try {
    const facts = ctx.certificates.verify({
      certificatePem: leaf,
      chainPem: chain.join(''),
      privateKeyPem: claim.privateKey,
      dnsNames: spec.dnsNames,
      keyAlgorithm: claim.keyAlgorithm,
      trustedRoots,
      now: ctx.now(),
      certificateName: spec.name,
    });
    return buildIssued({ spec, certificatePem: leaf, privateKeyPem: claim.privateKey, orderUrl: order.url, facts });
  } catch (err) {
    // This order's certificate will never verify: forget the claim so the next run orders afresh.
    if (err instanceof CertificateVerificationFailed) await ctx.store.abandonPending(spec, claimVersionId);
    throw err;
  }
}
