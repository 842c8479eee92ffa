// `certpipe account rollover <issuer>`: the issuer's ACME account gets a new
// key and keeps its URL (RFC 8555 §7.3.5). Each step is decided afresh from
// what is stored and what the CA says (acme/rollover.ts), so a run that
// stopped anywhere is finished by the next one.
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  discardPendingAccountKey,
  generateAccountKey,
  promotePendingAccountKey,
  readAccountSecret,
  readPendingAccountSecret,
  stagePendingAccountKey,
} from './acme/account.js';
import { needsCaProbe, rolloverStep, type RolloverStep } from './acme/rollover.js';
import { AcmeSession, type AcmeSessionOptions } from './acme.js';
import type { Issuer } from './inventory.js';
import { InvalidInput } from './workflow/errors.js';

export interface RolloverOutcome {
  issuer: string;
  accountUrl: string;
  /** The steps taken, in order, each with why. */
  steps: RolloverStep[];
}

/** Stage, keyChange and promote stop the loop well before this; it only guards against a CA that answers inconsistently. */
const MAX_STEPS = 6;

export async function rollOverAccountKey(
  sm: SecretsManagerClient,
  issuer: Issuer,
  options: Pick<AcmeSessionOptions, 'caBundlePath'> = {},
): Promise<RolloverOutcome> {
  const name = issuer.accountSecretName;
  const steps: RolloverStep[] = [];
  let session: AcmeSession | undefined;
  const openSession = async () => (session ??= await AcmeSession.open(issuer, sm, options));
  while (steps.length < MAX_STEPS) {
    const current = await readAccountSecret(sm, name);
    if (!current) throw new InvalidInput(`issuer ${issuer.name} has no ACME account yet (${name}); a first renewal creates it`);
    const pending = await readPendingAccountSecret(sm, name);
    const caAcceptsPending = pending && needsCaProbe({ current, pending }) ? await (await openSession()).accountAcceptsKey(pending.accountKey) : undefined;
    const step = rolloverStep({ current, ...(pending ? { pending } : {}), ...(caAcceptsPending !== undefined ? { caAcceptsPending } : {}) });
    steps.push(step);
    switch (step.action) {
      case 'refuse':
        throw new InvalidInput(`issuer ${issuer.name}: ${step.message}`);
      case 'discard':
        await discardPendingAccountKey(sm, name);
        break;
      case 'stage':
        await stagePendingAccountKey(sm, name, { ...current, accountKey: generateAccountKey() });
        break;
      case 'keyChange':
        await (await openSession()).changeAccountKey(pending!.accountKey);
        await promotePendingAccountKey(sm, name);
        return { issuer: issuer.name, accountUrl: current.accountUrl!, steps };
      case 'promote':
        await promotePendingAccountKey(sm, name);
        return { issuer: issuer.name, accountUrl: current.accountUrl!, steps };
    }
  }
  throw new Error(`account rollover of ${issuer.name} did not settle after ${MAX_STEPS} steps: ${steps.map((s) => s.action).join(', ')}`);
}
