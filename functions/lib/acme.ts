// The one module that talks to acme-client (5.4.0). Each method makes the
// requests of one workflow step and returns; nothing here waits or polls (the
// state machine's Wait/Retry does), acme-client's own retry loops are switched
// off, and every failure leaves as a typed error from errors.ts.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { createSecureContext, rootCertificates } from 'node:tls';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type * as acme from 'acme-client';
import type { AxiosAdapter } from 'axios';
import {
  generateAccountKey,
  loadOrCreateAccountSecret,
  promotePendingAccountKey,
  readAccountSecret,
  readPendingAccountSecret,
  saveAccountSecret,
} from './acme/account.js';
import { dnsChallengeRecord, jwkThumbprint, type DnsChallengeRecord } from './acme/challenge.js';
import type { OfferedProfiles } from './acme/profiles.js';
import { AcmeNetworkError, AcmeProblem, describeProblem, orderInvalid, refusedReplaces, parseRetryAfter, toAcmeError } from './acme/problems.js';
import {
  accountActionAfterLookup,
  accountActionForDirectory,
  accountSuspicion,
  type AccountAction,
  type AccountLookup,
} from './acme/recovery.js';
import { mayBeRolledOverKey, shouldAdoptStoredKey } from './acme/rollover.js';
import { asAwsError } from './aws.js';
import { AcmeOrderNotReady, InvalidInput } from './workflow/errors.js';
import type { Issuer } from './inventory.js';
import { logger, recordAcmeRequest } from './observability.js';

export type { DnsChallengeRecord } from './acme/challenge.js';

export type OrderStatus = 'pending' | 'ready' | 'processing' | 'valid' | 'invalid';

/** An ACME order as it passes between workflow states: URLs and public data only. */
export interface OrderRecord {
  url: string;
  status: OrderStatus;
  /** DNS names as ordered (`*.example.com` for wildcards). */
  dnsNames: string[];
  authorizations: string[];
  finalize: string;
  certificate?: string;
  expires?: string;
}

/** A DNS-01 challenge still waiting for its TXT record and the CA's validation. */
export interface DnsChallenge extends DnsChallengeRecord {
  authorizationUrl: string;
  challengeUrl: string;
}

// ---------------------------------------------------------------------------
// acme-client itself, loaded on the first `AcmeSession.open`: a step that finds
// nothing to order (a stored certificate to publish) never evaluates it. It is
// loaded file by file, not through its index, which also loads node-forge, and
// with the one axios build it requires itself (see acme/deep-imports.d.ts).

interface AcmeLibrary {
  readonly Client: typeof acme.Client;
  readonly axios: typeof acme.axios;
  /** axios' own Node adapter, which networkAwareAdapter wraps. */
  readonly httpAdapter: AxiosAdapter;
}

let library: Promise<AcmeLibrary> | undefined;

function loadAcmeLibrary(): Promise<AcmeLibrary> {
  library ??= Promise.all([
    import('acme-client/src/client.js'),
    import('acme-client/src/axios.js'),
    import('axios/dist/node/axios.cjs'),
  ]).then(([client, instance, axios]) => ({
    Client: client.default,
    axios: instance.default,
    httpAdapter: axios.default.getAdapter('http'),
  }));
  return library;
}

// ---------------------------------------------------------------------------
// acme-client's shared HTTP layer: configured once for the whole process.

// Long waits belong to the state machine, not to a Lambda invocation.
const HTTP_TIMEOUT_MS = 20_000;
const BADNONCE_RETRIES = 3;

let configuredBundle: string | undefined | null = null;
let adapterInstalled = false;

/**
 * acme-client's retry interceptor dereferences the response of a request that
 * got none (refused, timed out) and throws a TypeError that hides the cause;
 * this adapter turns such failures into an AcmeNetworkError it lets through.
 */
function networkAwareAdapter(http: AxiosAdapter): AxiosAdapter {
  return async (config) => {
    try {
      return await http(config);
    } catch (err) {
      if ((err as { response?: unknown }).response) throw err;
      const e = err as { code?: string; message?: string; cause?: { code?: string } };
      const code = e.code && e.code !== 'ERR_BAD_RESPONSE' ? e.code : (e.cause?.code ?? 'ERR_NETWORK');
      throw new AcmeNetworkError(config.url, code, e.message ?? 'request failed');
    }
  };
}

/** Apply process-wide HTTP settings: no sleeping retries, a timeout, and the CA bundle if one is named. */
function configureHttp(lib: AcmeLibrary, caBundlePath?: string): void {
  const defaults = lib.axios.defaults as typeof lib.axios.defaults & {
    acmeSettings: { retryMaxAttempts: number; retryDefaultDelay: number };
  };
  // acme-client would otherwise sleep (up to Retry-After, hours for a rate limit) and resend.
  defaults.acmeSettings.retryMaxAttempts = 0;
  defaults.timeout = HTTP_TIMEOUT_MS;
  if (!adapterInstalled) {
    defaults.adapter = networkAwareAdapter(lib.httpAdapter);
    adapterInstalled = true;
  }
  const bundlePath = caBundlePath ?? (process.env.CERTPIPE_ACME_CA_BUNDLE || undefined);
  if (bundlePath === configuredBundle) return;
  configuredBundle = bundlePath;
  // Public CAs stay trusted: the bundle adds a private or test CA (Pebble) to them.
  // Idle sockets close after 5 s (as Node's global agent does), so a Lambda thawed
  // later does not reuse one the server has dropped.
  const keepAlive = { keepAlive: true, timeout: 5000 };
  // One TLS context for every connection: a `ca` list on the agent would be parsed
  // again (150 roots) for each new socket and stringified into each request's pool key.
  defaults.httpsAgent = bundlePath
    ? new Agent({ ...keepAlive, secureContext: createSecureContext({ ca: [...rootCertificates, readFileSync(bundlePath, 'utf8')] }) })
    : new Agent(keepAlive);
}

// ---------------------------------------------------------------------------
// acme-client internals we hook, per client instance: its HTTP funnel (to count
// requests into the AcmeRequests metric the handler flushes) and its API funnel
// (to keep the problem document it would flatten into a message string).

interface HttpResponse {
  status: number;
  headers: Record<string, string | undefined>;
  data: unknown;
}
interface ClientInternals {
  http: {
    request(url: string, method: string, opts?: object): Promise<HttpResponse>;
    signedRequest(url: string, payload: unknown, opts: object, attempts?: number): Promise<HttpResponse>;
    maxBadNonceRetries: number;
    getMetaField(field: string): Promise<unknown>;
    getResourceUrl(resource: string): Promise<string>;
  };
  api: {
    getAccountUrl(): string;
    createAccount(data: object): Promise<HttpResponse>;
    apiRequest(url: string, payload?: unknown, valid?: number[], opts?: object): Promise<HttpResponse>;
  };
}

function instrument(client: acme.Client): void {
  const { http, api } = client as unknown as ClientInternals;
  http.maxBadNonceRetries = BADNONCE_RETRIES;
  const request = http.request.bind(http);
  http.request = async (url, method, opts) => {
    try {
      const resp = await request(url, method, opts);
      recordAcmeRequest(resp.status);
      return resp;
    } catch (err) {
      recordAcmeRequest('error');
      throw err;
    }
  };
  api.apiRequest = async (url, payload = null, valid = [], opts = {}) => {
    const { includeJwsKid = true, includeExternalAccountBinding = false } = opts as {
      includeJwsKid?: boolean;
      includeExternalAccountBinding?: boolean;
    };
    const kid = includeJwsKid ? api.getAccountUrl() : null;
    const resp = await http.signedRequest(url, payload, { kid, includeExternalAccountBinding });
    if (valid.length && !valid.includes(resp.status)) throw problemOf(url, resp);
    return resp;
  };
}

function problemOf(url: string, resp: HttpResponse): AcmeProblem {
  const body = (typeof resp.data === 'object' && resp.data !== null ? resp.data : {}) as {
    type?: string;
    detail?: string;
    subproblems?: AcmeProblem['subproblems'];
  };
  return new AcmeProblem(
    url,
    resp.status,
    body.type,
    body.detail,
    parseRetryAfter(resp.headers['retry-after']),
    Array.isArray(body.subproblems) ? body.subproblems : [],
  );
}

// ---------------------------------------------------------------------------

export interface AcmeSessionOptions {
  /** KMS key for the account secret when it is created (default: env CERTPIPE_KMS_KEY_ID). */
  kmsKeyId?: string;
  /** PEM file of a CA to trust besides the public ones (default: env CERTPIPE_ACME_CA_BUNDLE); the CLI's local target. */
  caBundlePath?: string;
}

/** A registered account and the acme-client instance that signs with its key. */
export interface RegisteredAccount {
  readonly client: acme.Client;
  /** PKCS#8 PEM. Never logged. */
  readonly key: string;
  readonly thumbprint: string;
  readonly url: string;
}

/** What re-registering needs besides the issuer: where the account is stored, the EAB if the CA wants one, and the client class. */
export interface AccountContext {
  readonly sm: SecretsManagerClient;
  readonly eab?: { kid: string; hmacKey: string };
  readonly Client: typeof acme.Client;
}

/** An issuer's ACME account, ready to order. Open with `AcmeSession.open`. */
export class AcmeSession {
  private account: RegisteredAccount;
  /** One repair at a time per session: concurrent requests refused for the same account share it. */
  private repairing: Promise<void> | undefined;

  /** Use `AcmeSession.open`. */
  constructor(
    readonly issuer: Issuer,
    account: RegisteredAccount,
    private readonly context: AccountContext,
  ) {
    this.account = account;
  }

  /** The account URL in use (it changes when the CA forgot the account and it was registered again). */
  get accountUrl(): string {
    return this.account.url;
  }

  private get client(): acme.Client {
    return this.account.client;
  }

  private get thumbprint(): string {
    return this.account.thumbprint;
  }

  /** Load (or create and register) the issuer's account. Cached per process, secret and directory. */
  static async open(issuer: Issuer, sm: SecretsManagerClient, options: AcmeSessionOptions = {}): Promise<AcmeSession> {
    const lib = await loadAcmeLibrary();
    configureHttp(lib, options.caBundlePath);
    // No await from here on: concurrent callers share one session.
    let perClient = sessions.get(sm);
    if (!perClient) sessions.set(sm, (perClient = new Map()));
    const key = `${issuer.accountSecretName}\n${issuer.directoryUrl}`;
    let session = perClient.get(key);
    if (!session) {
      session = openSession(lib, issuer, sm, options);
      perClient.set(key, session);
      session.catch(() => perClient.delete(key));
    }
    return session;
  }

  /** The directory's `meta.profiles` (undefined when it has none). The directory is cached per client, as newOrder needs it anyway. */
  async offeredProfiles(): Promise<OfferedProfiles | undefined> {
    const http = (this.client as unknown as ClientInternals).http;
    const profiles = await callAcme(`Reading the ACME directory ${this.issuer.directoryUrl}`, () => http.getMetaField('profiles'));
    return typeof profiles === 'object' && profiles !== null ? (profiles as OfferedProfiles) : undefined;
  }

  /**
   * Place a new order: `profile` (draft-ietf-acme-profiles) when one is given, checked first
   * with `offeredProfiles` by the step,
   * and `replaces` (RFC 9773 §5, the renewed certificate's ARI identifier) when the CA
   * offers ARI. A CA that refuses `replaces` (alreadyReplaced, another account's or an
   * unknown certificate: refusedReplaces) gets the same order without it.
   */
  async createOrder(dnsNames: string[], options: { profile?: string; replaces?: string } = {}): Promise<OrderRecord> {
    if (dnsNames.length === 0) throw new InvalidInput('An ACME order needs at least one DNS name');
    const { profile } = options;
    const replaces = options.replaces && (await this.renewalInfoUrl()) ? options.replaces : undefined;
    const request = (withReplaces: boolean) => ({
      identifiers: dnsNames.map((value) => ({ type: 'dns', value })),
      ...(profile ? { profile } : {}),
      ...(withReplaces && replaces ? { replaces } : {}),
    });
    try {
      return toRecord(await this.call('Creating ACME order', () => this.client.createOrder(request(true))));
    } catch (err) {
      if (!replaces || !refusedReplaces(err)) throw err;
      const problem = (err as Error).cause instanceof AcmeProblem ? ((err as Error).cause as AcmeProblem) : undefined;
      logger.warn('the CA refused replaces; ordering without it (no rate-limit exemption for this order)', {
        replaces,
        ...(problem ? { problem: describeProblem(problem) } : {}),
      });
      return toRecord(await this.call('Creating ACME order', () => this.client.createOrder(request(false))));
    }
  }

  /** The directory's renewalInfo URL (RFC 9773), or undefined when the CA offers no ARI. */
  async renewalInfoUrl(): Promise<string | undefined> {
    try {
      return await (this.client as unknown as ClientInternals).http.getResourceUrl('renewalInfo');
    } catch {
      return undefined;
    }
  }

  /** Fetch an order placed earlier (one request). Throws AcmeOrderInvalid if the CA gave up on it. */
  async resumeOrder(orderUrl: string): Promise<OrderRecord> {
    return this.orderStatus(orderUrl);
  }

  /** ONE status request for the order; an invalid order throws AcmeOrderInvalid with the CA's reasons. */
  async orderStatus(orderUrl: string): Promise<OrderRecord> {
    const askedAs = this.account;
    let order: acme.Order;
    try {
      order = await this.call(`Reading ACME order ${orderUrl}`, () => this.client.getOrder({ url: orderUrl } as acme.Order));
    } catch (err) {
      const problem = (err as Error).cause;
      if (!(problem instanceof AcmeProblem)) throw err;
      // Either way the order is as dead as an invalid one, and the workflow orders afresh.
      // The CA no longer has it (a CA reset takes every order with it):
      if (problem.status === 404) throw orderInvalid(orderUrl, [`the CA no longer knows this order (${describeProblem(problem)})`]);
      // It belongs to the account just replaced by a new key, which the new account may not read:
      if (accountSuspicion(problem) === 'ask' && this.account.key !== askedAs.key) {
        throw orderInvalid(orderUrl, [`it belongs to the ACME account ${askedAs.url}, which the CA no longer accepts`]);
      }
      throw err;
    }
    if (order.status === 'invalid') throw await this.invalidOrder(order);
    return toRecord(order);
  }

  /**
   * The TXT values the CA still needs, one per pending authorization (a name's
   * apex and wildcard give two values at one `_acme-challenge` name). Already
   * valid authorizations (reused by the CA) need nothing.
   */
  async dnsChallenges(order: OrderRecord): Promise<DnsChallenge[]> {
    const authorizations = await this.authorizations(order);
    const result: DnsChallenge[] = [];
    for (const authz of authorizations) {
      if (authz.status === 'valid') continue;
      if (authz.status !== 'pending') throw orderInvalid(order.url, [authorizationReason(authz)], failedIdentifiersOf([authz]));
      const challenge = dns01(authz, order.url);
      result.push({
        ...dnsChallengeRecord(authz.identifier, challenge.token, this.thumbprint),
        authorizationUrl: authz.url,
        challengeUrl: challenge.url,
      });
    }
    return result;
  }

  /** Tell the CA to validate each pending DNS-01 challenge, once (already answered ones are skipped). */
  async completeChallenges(order: OrderRecord): Promise<void> {
    const authorizations = await this.authorizations(order);
    for (const authz of authorizations) {
      if (authz.status === 'valid') continue;
      if (authz.status !== 'pending') throw orderInvalid(order.url, [authorizationReason(authz)], failedIdentifiersOf([authz]));
      const challenge = dns01(authz, order.url);
      if (challenge.status !== 'pending') continue;
      try {
        await this.call(`Answering ACME challenge ${challenge.url}`, () => this.client.completeChallenge(challenge));
      } catch (err) {
        // Another execution resuming the same order may have answered it first: then there is nothing to do.
        if (!(await this.challengeAnswered(order, challenge.url))) throw err;
      }
    }
  }

  private async challengeAnswered(order: OrderRecord, challengeUrl: string): Promise<boolean> {
    const fresh = await this.authorizations(order);
    const challenge = fresh.flatMap((a) => a.challenges).find((c) => c.url === challengeUrl);
    return challenge !== undefined && challenge.status !== 'pending';
  }

  /** Submit the CSR (PEM) of a `ready` order; returns the order (usually `processing` or `valid`). */
  async finalize(order: OrderRecord, csrPem: string): Promise<OrderRecord> {
    if (order.status !== 'ready') {
      throw new AcmeOrderNotReady(`ACME order ${order.url} is ${order.status}, not ready to finalize`);
    }
    let updated: acme.Order;
    try {
      updated = await this.call(`Finalizing ACME order ${order.url}`, () =>
        this.client.finalizeOrder(toAcmeOrder(order), csrPem),
      );
    } catch (err) {
      // Another execution resuming the same order may have finalized it first (with the same stored key).
      const fresh = await this.orderStatus(order.url);
      if (fresh.status === 'processing' || fresh.status === 'valid') return fresh;
      throw err;
    }
    if (updated.status === 'invalid') throw await this.invalidOrder({ ...updated, url: order.url });
    return toRecord({ ...updated, url: order.url });
  }

  /** The issued full chain (PEM, leaf first) of a `valid` order; `preferredChain` picks an alternate by issuer CN. */
  async downloadCertificate(order: OrderRecord, preferredChain?: string): Promise<string> {
    if (order.status !== 'valid' || !order.certificate) {
      throw new AcmeOrderNotReady(`ACME order ${order.url} is ${order.status}; no certificate to download yet`);
    }
    const pem = await this.call(`Downloading certificate ${order.certificate}`, () =>
      this.client.getCertificate(toAcmeOrder(order), preferredChain),
    );
    return typeof pem === 'string' ? pem : String(pem);
  }

  private async authorizations(order: OrderRecord): Promise<acme.Authorization[]> {
    return this.call(`Reading authorizations of ACME order ${order.url}`, () =>
      this.client.getAuthorizations(toAcmeOrder(order)),
    );
  }

  /** Explain an invalid order: its own problem, else the failed challenges' problems. */
  private async invalidOrder(order: acme.Order): Promise<Error> {
    const reasons: string[] = [];
    const problem = order.error as Parameters<typeof describeProblem>[0] | undefined;
    if (problem) reasons.push(describeProblem(problem));
    // Read even when the order carries its own problem: the failed identifiers feed the rate-limit ledger.
    let authorizations: acme.Authorization[] = [];
    try {
      authorizations = await this.client.getAuthorizations(order);
    } catch {
      // The order is invalid either way; the reasons and identifiers are a courtesy.
    }
    if (!problem) for (const authz of authorizations) if (authz.status !== 'valid') reasons.push(authorizationReason(authz));
    return orderInvalid(order.url, reasons, failedIdentifiersOf(authorizations));
  }

  /**
   * One request. When the CA refuses it because of the account itself (forgotten,
   * deactivated), the account is repaired and the request sent once more, never more.
   */
  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const signedWith = this.account;
    try {
      return await fn();
    } catch (err) {
      if (!(await this.repairAccount(err, signedWith))) throw toAcmeError(err, what);
    }
    try {
      return await fn();
    } catch (err) {
      throw toAcmeError(err, what);
    }
  }

  /** Whether the account is now another one than `signedWith`, so the refused request is worth sending again. */
  private async repairAccount(err: unknown, signedWith: RegisteredAccount): Promise<boolean> {
    if (!(err instanceof AcmeProblem)) return false;
    if (await this.adoptRolledOverKey(err, signedWith)) return true;
    const suspicion = accountSuspicion(err);
    if (suspicion === 'unrelated') return false;
    if (this.account === signedWith) {
      this.repairing ??= this.repair(suspicion === 'gone' ? 'register' : undefined, err).finally(() => {
        this.repairing = undefined;
      });
      await this.repairing;
    }
    return this.account !== signedWith;
  }

  /**
   * `certpipe account rollover` changed the key: sign with the key the CA now binds
   * the account to. First a pending key the CA already accepts (a rollover that
   * stopped between keyChange and promotion: this finishes it, as the command's
   * `promote` step would), else the stored current key (a rollover that finished
   * while this session was warm).
   */
  private async adoptRolledOverKey(refusal: AcmeProblem, signedWith: RegisteredAccount): Promise<boolean> {
    if (this.account !== signedWith) return true;
    if (!mayBeRolledOverKey(refusal)) return false;
    const { issuer, context } = this;
    const [stored, pending] = await Promise.all([
      readAccountSecret(context.sm, issuer.accountSecretName),
      readPendingAccountSecret(context.sm, issuer.accountSecretName),
    ]);
    if (this.account !== signedWith) return true;
    if (pending && shouldAdoptStoredKey(signedWith, pending, issuer.directoryUrl) && (await this.accountAcceptsKey(pending.accountKey))) {
      if (this.account !== signedWith) return true;
      this.account = accountFor(issuer, pending.accountKey, signedWith.url, context);
      try {
        await promotePendingAccountKey(context.sm, issuer.accountSecretName);
        logger.warn('ACME account: finished a key rollover that stopped before promoting the new key', { issuer: issuer.name, accountUrl: signedWith.url });
      } catch (err) {
        // Signing with the accepted key is what this request needs; the next refusal, or the command, promotes it.
        logger.warn('ACME account: signing with the pending key the CA accepts; promoting it failed', {
          issuer: issuer.name,
          accountUrl: signedWith.url,
          error: (err as Error).name,
          fix: `certpipe account rollover ${issuer.name}`,
        });
      }
      return true;
    }
    if (!stored || !shouldAdoptStoredKey(signedWith, stored, issuer.directoryUrl)) return false;
    this.account = accountFor(issuer, stored.accountKey, signedWith.url, context);
    logger.warn('ACME account: signing with the key a rollover stored', { issuer: issuer.name, accountUrl: signedWith.url });
    return true;
  }

  /** `action` undefined: ask the account itself first (an `unauthorized` may be about something else). */
  private async repair(action: AccountAction | undefined, refused: AcmeProblem): Promise<void> {
    const decided = action ?? accountActionAfterLookup(await this.lookupAccount());
    if (decided === 'keep') return;
    const { issuer, context } = this;
    // Another process may have repaired it already: use what it stored rather than registering twice.
    const stored = await readAccountSecret(context.sm, issuer.accountSecretName);
    if (
      stored?.accountUrl &&
      stored.directoryUrl === issuer.directoryUrl &&
      stored.accountUrl !== this.account.url &&
      (decided === 'register' || stored.accountKey !== this.account.key)
    ) {
      this.account = accountFor(issuer, stored.accountKey, stored.accountUrl, context);
      logger.warn('ACME account: using the account another process registered again', { issuer: issuer.name, accountUrl: stored.accountUrl });
      return;
    }
    const key = decided === 'newKey' ? generateAccountKey() : this.account.key;
    const previousUrl = this.account.url;
    this.account = await registerAccount(issuer, key, context);
    logger.warn('ACME account registered again', {
      issuer: issuer.name,
      reason: `${refused.status} ${refused.type ?? 'unknown problem'}`,
      newKey: decided === 'newKey',
      previousAccountUrl: previousUrl,
      accountUrl: this.account.url,
    });
  }

  /** revokeCert signed with the account key (RFC 8555 §7.6); `reasonCode` is RFC 5280's CRLReason. */
  async revokeCertificate(certificatePem: string, reasonCode: number): Promise<void> {
    await this.call('Revoking certificate', () => this.client.revokeCertificate(certificatePem, { reason: reasonCode }));
  }

  /**
   * keyChange (RFC 8555 §7.3.5): the CA binds the account to `newKey`, the URL stays.
   * Nothing is stored here: the caller stored `newKey` before and promotes it after.
   */
  async changeAccountKey(newKey: string): Promise<void> {
    const { url } = this.account;
    await callAcme(`Changing the key of ACME account ${url}`, () => this.client.updateAccountKey(newKey));
    // acme-client swapped its signer; this session's account (and its instrumented client) follows.
    this.account = accountFor(this.issuer, newKey, url, this.context);
  }

  /** Whether the CA accepts `key` as this account's key: a POST-as-GET of the account URL signed with it. */
  async accountAcceptsKey(key: string): Promise<boolean> {
    const probe = accountFor(this.issuer, key, this.account.url, this.context);
    const api = (probe.client as unknown as ClientInternals).api;
    try {
      await api.apiRequest(this.account.url, null, [200]);
      return true;
    } catch (err) {
      if (err instanceof AcmeProblem && err.status < 500) return false;
      throw toAcmeError(err, `Asking the CA about ACME account ${this.account.url}`);
    }
  }

  /** POST-as-GET of the account's own URL (RFC 8555 §7.3.3 allows it): its status, or the CA's refusal. */
  private async lookupAccount(): Promise<AccountLookup> {
    const api = (this.client as unknown as ClientInternals).api;
    try {
      const resp = await api.apiRequest(this.account.url, null, [200]);
      const status = (resp.data as { status?: unknown } | null)?.status;
      return { account: typeof status === 'string' ? { status } : {} };
    } catch (err) {
      return err instanceof AcmeProblem ? { problem: err } : { unreachable: true };
    }
  }
}

const sessions = new WeakMap<SecretsManagerClient, Map<string, Promise<AcmeSession>>>();

async function openSession(lib: AcmeLibrary, issuer: Issuer, sm: SecretsManagerClient, options: AcmeSessionOptions): Promise<AcmeSession> {
  const kmsKeyId = options.kmsKeyId ?? process.env.CERTPIPE_KMS_KEY_ID;
  const stored = await loadOrCreateAccountSecret(sm, issuer, kmsKeyId ? { kmsKeyId } : {});
  const eab = issuer.eab ? { kid: issuer.eab.keyId, hmacKey: await readEabHmacKey(sm, issuer.eab.hmacKeySecretId) } : undefined;
  const context: AccountContext = { sm, ...(eab ? { eab } : {}), Client: lib.Client };
  const action = accountActionForDirectory(stored, issuer.directoryUrl);
  const account =
    action === 'keep' && stored.accountUrl
      ? accountFor(issuer, stored.accountKey, stored.accountUrl, context)
      : await registerAccount(issuer, action === 'newKey' ? generateAccountKey() : stored.accountKey, context);
  if (action === 'newKey') {
    logger.warn('ACME account: the issuer\'s directory changed; registered a new key there', {
      issuer: issuer.name,
      previousDirectoryUrl: stored.directoryUrl,
      accountUrl: account.url,
    });
  }
  return new AcmeSession(issuer, account, context);
}

function newClient(issuer: Issuer, accountKey: string, accountUrl: string | undefined, { Client, eab }: AccountContext): acme.Client {
  const client = new Client({
    directoryUrl: issuer.directoryUrl,
    accountKey,
    ...(accountUrl ? { accountUrl } : {}),
    ...(eab ? { externalAccountBinding: eab } : {}),
    backoffAttempts: 1,
    backoffMin: 0,
    backoffMax: 0,
  });
  instrument(client);
  return client;
}

function accountFor(issuer: Issuer, key: string, url: string, context: AccountContext): RegisteredAccount {
  return { client: newClient(issuer, key, url, context), key, thumbprint: jwkThumbprint(key), url };
}

/**
 * newAccount for `key` at the issuer's directory, then store key, URL and directory
 * together. Registering a key the CA already knows returns that account (RFC 8555
 * §7.3.1), so a retry is harmless.
 */
async function registerAccount(issuer: Issuer, key: string, context: AccountContext): Promise<RegisteredAccount> {
  const client = newClient(issuer, key, undefined, context);
  // Straight to newAccount: acme-client would follow a 200 (key already known) with an
  // account update that some CAs (Pebble) refuse as empty.
  const api = (client as unknown as ClientInternals).api;
  await callAcme(`Registering ACME account at ${issuer.directoryUrl}`, () =>
    api.createAccount({
      termsOfServiceAgreed: true,
      ...(issuer.email ? { contact: [`mailto:${issuer.email}`] } : {}),
    }),
  );
  const url = client.getAccountUrl();
  await saveAccountSecret(context.sm, issuer.accountSecretName, { accountKey: key, accountUrl: url, directoryUrl: issuer.directoryUrl });
  return { client, key, thumbprint: jwkThumbprint(key), url };
}

/**
 * revokeCert signed with the certificate's own key, as a `jwk` JWS (RFC 8555 §7.6):
 * proof of possession, for keyCompromise. acme-client signs it (its client with the
 * certificate key as "account" key, and no account URL so the header carries the jwk).
 */
export async function revokeWithCertificateKey(
  issuer: Issuer,
  certificatePem: string,
  certificateKeyPem: string,
  reasonCode: number,
  options: Pick<AcmeSessionOptions, 'caBundlePath'> = {},
): Promise<void> {
  const lib = await loadAcmeLibrary();
  configureHttp(lib, options.caBundlePath);
  const client = new lib.Client({ directoryUrl: issuer.directoryUrl, accountKey: certificateKeyPem, backoffAttempts: 1, backoffMin: 0, backoffMax: 0 });
  instrument(client);
  const { http, api } = client as unknown as ClientInternals & { http: { getResourceUrl(name: string): Promise<string> } };
  const certificate = new X509Certificate(certificatePem).raw.toString('base64url');
  await callAcme('Revoking certificate with its own key', async () =>
    api.apiRequest(await http.getResourceUrl('revokeCert'), { certificate, reason: reasonCode }, [200], { includeJwsKid: false }),
  );
}

/** The EAB HMAC key: the secret's string, or its `hmacKey` member when it is JSON. */
async function readEabHmacKey(sm: SecretsManagerClient, secretId: string): Promise<string> {
  let text: string | undefined;
  try {
    text = (await sm.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
  } catch (err) {
    throw asAwsError(err, `Reading the EAB HMAC key secret ${secretId}`);
  }
  if (!text) throw new InvalidInput(`EAB secret ${secretId} is empty`);
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let parsed: { hmacKey?: unknown };
    try {
      parsed = JSON.parse(trimmed) as { hmacKey?: unknown };
    } catch {
      // The parser's message quotes the text around the error: part of the HMAC key.
      throw new InvalidInput(`EAB secret ${secretId} starts like JSON but is not valid JSON — store {"hmacKey": "<base64url key>"} or the bare key`);
    }
    const hmacKey = parsed.hmacKey;
    if (typeof hmacKey !== 'string') throw new InvalidInput(`EAB secret ${secretId} is JSON without an "hmacKey" string`);
    return hmacKey;
  }
  return trimmed;
}

async function callAcme<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toAcmeError(err, what);
  }
}

function dns01(authz: acme.Authorization, orderUrl: string): acme.Authorization['challenges'][number] & { token: string } {
  const challenge = authz.challenges.find((c) => c.type === 'dns-01');
  if (!challenge) {
    throw orderInvalid(orderUrl, [`the CA offers no dns-01 challenge for ${authz.identifier.value} (${authz.url})`]);
  }
  return challenge;
}

/** The identifiers whose authorization failed validation (`invalid`; not expired or deactivated ones). */
function failedIdentifiersOf(authorizations: readonly acme.Authorization[]): string[] {
  return authorizations.filter((a) => a.status === 'invalid').map((a) => a.identifier.value.toLowerCase());
}

function authorizationReason(authz: acme.Authorization): string {
  const failed = authz.challenges.find((c) => c.status === 'invalid' && c.error);
  const problem = failed?.error as Parameters<typeof describeProblem>[0] | undefined;
  const name = `${authz.wildcard ? '*.' : ''}${authz.identifier.value}`;
  return `${name} authorization is ${authz.status}${problem ? ` (${describeProblem(problem)})` : ''}`;
}

function toRecord(order: acme.Order): OrderRecord {
  return {
    url: order.url,
    status: order.status,
    dnsNames: order.identifiers.map((i) => i.value),
    authorizations: [...order.authorizations],
    finalize: order.finalize,
    ...(order.certificate ? { certificate: order.certificate } : {}),
    ...(order.expires ? { expires: order.expires } : {}),
  };
}

function toAcmeOrder(record: OrderRecord): acme.Order {
  return {
    url: record.url,
    status: record.status,
    identifiers: record.dnsNames.map((value) => ({ type: 'dns', value })),
    authorizations: record.authorizations,
    finalize: record.finalize,
    ...(record.certificate ? { certificate: record.certificate } : {}),
  };
}

export { AcmeProblem } from './acme/problems.js';
