// FinalizeOrder: one status call per invocation. Depending on where the order is,
// answer the challenges, finalize with a CSR of the stored key, or download,
// verify and store the certificate. "Not yet" is a normal `waiting` result (not a
// function error, so it never counts in the Lambda Errors alarm): the ASL's
// Wait loop does the waiting, never this function, for a bounded number of checks.
import { AcmeSession } from '../acme.js';
import { AcmeOrderInvalid, AcmeOrderNotReady, CertificateVerificationFailed } from '../workflow/errors.js';
import { MAX_ORDER_CHECKS, orderCheckDelay, type Waiting } from '../backoff.js';
import type { FinalizeOrderInput, FinalizeOrderOutput, IssuedSummary } from '../workflow/states.js';
import { findCertificate, findIssuer } from '../inventory.js';
import { logger } from '../observability.js';
import { buildIssued, type IssuedCertificate } from '../store/certificateStore.js';
import { createCsr, splitPemChain, verifyIssued } from '../x509.js';
import type { StepContext } from '../context.js';
import { trustAnchors } from '../trust.js';
import { pauseOrRethrow } from './pause.js';

const summary = (issued: IssuedCertificate): IssuedSummary => ({
  serial: issued.serial,
  notBefore: issued.notBefore,
  notAfter: issued.notAfter,
  dnsNames: issued.dnsNames,
});

/** Issued, or the wait before the next status check (order still at the CA, or the CA's Retry-After), or deferred. */
export async function finalizeOrder(ctx: StepContext, input: FinalizeOrderInput): Promise<FinalizeOrderOutput> {
  const spec = findCertificate(ctx.inventory, input.name);
  const attempt = input.order.finalizeAttempt ?? 0;
  try {
    const result = await advanceOrder(ctx, input);
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
  if (attempt + 1 >= MAX_ORDER_CHECKS) {
    throw new AcmeOrderNotReady(`${why}; still not issued after ${MAX_ORDER_CHECKS} status checks of ${name}'s order`);
  }
  logger.info('order not ready yet', { certificate: name, attempt: attempt + 1, detail: why });
  return { status: 'waiting', waitSeconds: orderCheckDelay(attempt), cause: 'OrderNotReady', attempt: attempt + 1 };
}

async function advanceOrder(ctx: StepContext, input: FinalizeOrderInput): Promise<IssuedSummary | { notReady: string }> {
  const spec = findCertificate(ctx.inventory, input.name);
  const pending = await ctx.store.readPending(spec);
  if (pending?.kind === 'issued') return summary(pending.issued);
  if (pending?.kind !== 'claim') {
    // Another execution working on the same order finished first and promoted it.
    const current = await ctx.store.readCurrent(spec);
    if (current && input.order.orderUrl && current.issued.orderUrl === input.order.orderUrl) return summary(current.issued);
    throw new AcmeOrderInvalid(`No ACME order is recorded for ${spec.name} (secret ${spec.secretName} has no AWSPENDING claim)`);
  }
  const { claim } = pending;
  const issuer = findIssuer(ctx.inventory, spec.issuer);
  const session = await AcmeSession.open(issuer, ctx.aws.secretsManager());

  let order = await session.orderStatus(claim.orderUrl);
  if (order.status === 'pending') {
    await session.completeChallenges(order);
    return { notReady: `Order ${order.url} for ${spec.name}: the CA is validating the challenges` };
  }
  if (order.status === 'ready') {
    const csr = await createCsr(claim.privateKey, claim.dnsNames);
    order = await session.finalize(order, csr.pem);
    logger.info('order finalized', { certificate: spec.name, orderUrl: order.url, status: order.status });
  }
  if (order.status !== 'valid') return { notReady: `Order ${order.url} for ${spec.name} is ${order.status}` };

  const [leaf = '', ...chain] = splitPemChain(await session.downloadCertificate(order));
  let facts;
  try {
    facts = verifyIssued({
      certificatePem: leaf,
      chainPem: chain.join(''),
      privateKeyPem: claim.privateKey,
      dnsNames: spec.dnsNames,
      keyAlgorithm: claim.keyAlgorithm,
      trustedRoots: trustAnchors(issuer),
      now: ctx.now(),
      certificateName: spec.name,
    });
  } catch (err) {
    // This order's certificate will never verify: forget the claim so the next run orders afresh.
    if (err instanceof CertificateVerificationFailed) await ctx.store.abandonPending(spec, pending.versionId);
    throw err;
  }
  const issued = buildIssued({ spec, certificatePem: leaf, privateKeyPem: claim.privateKey, orderUrl: order.url, facts });
  await ctx.store.storeIssued(spec, issued, { claimVersionId: pending.versionId });
  logger.info('certificate issued and verified', { certificate: spec.name, serial: issued.serial, notAfter: issued.notAfter });
  return summary(issued);
}
