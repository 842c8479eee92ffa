// The shapes the certificate store reads and writes (see certificateStore.ts for the layout).
import type { KeyAlgorithm } from '../inventory.js';
import type { StoredFacts } from '../renewal.js';

export { TAG } from '../tagNames.js';
import type { AriCache } from '../acme/ariCache.js';
import type { LedgerFailure } from '../budget/ledger.js';

/** The issued certificate as stored (AWSCURRENT). Holds the private key: never log it or pass it between states. */
export interface IssuedCertificate {
  certificate: string;
  /** The verified intermediates, nearest first, without the root. */
  chain: string;
  /** Leaf + chain, stored only when the certificate sets `storeFullchain`. */
  fullchain?: string;
  privateKey: string;
  notBefore: string;
  notAfter: string;
  serial: string;
  dnsNames: string[];
  issuer: string;
  keyAlgorithm: KeyAlgorithm;
  certificateName: string;
  orderUrl: string;
}

/** The first AWSPENDING version of a renewal: the order in flight and its new key. */
export interface PendingClaim {
  pending: true;
  certificateName: string;
  orderUrl: string;
  privateKey: string;
  keyAlgorithm: KeyAlgorithm;
  dnsNames: string[];
  createdAt: string;
}

/** What AWSPENDING holds: a claim (order in flight) or the verified certificate awaiting promotion. */
export type PendingVersion =
  | { kind: 'claim'; versionId: string; claim: PendingClaim }
  | { kind: 'issued'; versionId: string; issued: IssuedCertificate };

/** What a secret without an issued certificate has spent of the CA's limits (budget/ledger.ts). */
export interface UnissuedLedger {
  ordersPlaced: Date[];
  failedAuthorizations: LedgerFailure[];
}

/**
 * The inventory scan: the facts of every issued certificate by name, and beside them the
 * ledgers of certificates not issued yet (their failed orders count against the CA's limits too).
 */
export class StoredInventory extends Map<string, StoredCertificateFacts> {
  readonly unissued = new Map<string, UnissuedLedger>();
}

/** What a reader of the scan may rely on: the facts, and the unissued ledgers when the scan found any. */
export type InventoryScan = Map<string, StoredCertificateFacts> & { readonly unissued?: ReadonlyMap<string, UnissuedLedger> };

/** Inventory facts of one certificate, read from its secret's tags. */
export interface StoredCertificateFacts extends StoredFacts {
  secretName: string;
  secretArn: string;
  currentVersionId?: string;
  pendingOrderUrl?: string;
  issuedAt?: Date;
  renewalTime?: Date;
  /** The current certificate's ARI identifier; absent for certificates stored before it was tagged. */
  ariCertId?: string;
  /** The last renewalInfo answer CheckExpiry kept (acme/ariCache.ts). */
  ariCache?: AriCache;
  /** What the current certificate was issued for (gate/fingerprint.ts). */
  gateFingerprint?: string;
  /**
   * The orders placed for this certificate inside the last 3 hours (budget/ledger.ts); absent
   * on a secret written before the ledger existed: then its issued-at stands for its order.
   */
  ordersPlaced?: Date[];
  /** Authorizations of this certificate's names that failed inside the last hour. */
  failedAuthorizations?: LedgerFailure[];
  /** `<account>:<region>` → ACM certificate ARN. */
  acmCertificateArns: Record<string, string>;
}
