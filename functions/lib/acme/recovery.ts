// When the CA stops honouring the stored ACME account, and what to do about it:
// pure decisions over the problem documents and the stored account, so the I/O in
// acme.ts stays a thin shell. RFC 8555 §7.3: newAccount with a key the CA knows
// returns that account; a deactivated account's key is refused for good (§7.3.6);
// an account belongs to one CA, so another directory means another key.

const ACME_ERROR = 'urn:ietf:params:acme:error:';

/** A problem document as the CA sent it (status and type are all the decisions read). */
export interface ProblemFacts {
  readonly status: number;
  readonly type?: string;
}

/** What to do about the account: keep it, register the stored key again, or register a new key. */
export type AccountAction = 'keep' | 'register' | 'newKey';

/** What a refused request says about the account that signed it. */
export type AccountSuspicion =
  /** The CA says the account does not exist (CA reset, account deleted): register the stored key again. */
  | 'gone'
  /** `unauthorized` is also the answer for CAA, policy or someone else's order: ask the account itself. */
  | 'ask'
  /** Not about the account. */
  | 'unrelated';

const isType = (problem: ProblemFacts, type: string) => problem.type === `${ACME_ERROR}${type}`;

export function accountSuspicion(problem: ProblemFacts): AccountSuspicion {
  if (isType(problem, 'accountDoesNotExist')) return 'gone';
  if (isType(problem, 'unauthorized')) return 'ask';
  return 'unrelated';
}

/** The answer to a POST-as-GET of the account's own URL. */
export type AccountLookup =
  | { readonly account: { readonly status?: string } }
  | { readonly problem: ProblemFacts }
  /** No answer (network, 5xx): nothing is known, so nothing changes. */
  | { readonly unreachable: true };

/**
 * After an `unauthorized`, the account's own answer decides: a valid account means
 * the refusal was about something else; a deactivated or revoked one, or a CA that
 * refuses the account's key even on its own URL, needs a new key; an unknown one
 * is registered again with the stored key.
 */
export function accountActionAfterLookup(lookup: AccountLookup): AccountAction {
  if ('account' in lookup) {
    const status = lookup.account.status;
    return status === 'deactivated' || status === 'revoked' ? 'newKey' : 'keep';
  }
  if ('problem' in lookup) {
    if (isType(lookup.problem, 'accountDoesNotExist')) return 'register';
    if (isType(lookup.problem, 'unauthorized')) return 'newKey';
  }
  return 'keep';
}

/** What is stored for the issuer's account, as far as the decision needs. */
export interface StoredAccountFacts {
  readonly directoryUrl: string;
  readonly accountUrl?: string;
}

/**
 * Before any request: the stored account is used as it is at the CA it was made
 * for; not yet registered, it is registered; made for another directory, a new
 * key is registered there (the old CA's key and URL mean nothing to the new one).
 */
export function accountActionForDirectory(stored: StoredAccountFacts, directoryUrl: string): AccountAction {
  if (stored.directoryUrl !== directoryUrl) return 'newKey';
  return stored.accountUrl ? 'keep' : 'register';
}
