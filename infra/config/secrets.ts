// Which secret each part of the config writes or reads, and the pairs that are
// the same secret (same account, region and name): one would overwrite the
// other. Used twice: by the schema's cross-field checks, where the pipeline's
// account and region are not known yet, and by toInventory, where they are.
import type { CrossProblem } from './checks.js';

/** Stand-ins for what only the deployment knows. */
export const PIPELINE_ACCOUNT = 'pipeline account';
export const PIPELINE_REGION = 'pipeline region';

export type SecretRole = 'secret' | 'copy' | 'acme-account' | 'eab';

export interface SecretUse {
  /** Config path of the field that names (or defaults) the secret. */
  readonly path: (string | number)[];
  /** Certificate or issuer the secret belongs to; uses of one owner never collide with each other (other checks cover those). */
  readonly owner: string;
  readonly role: SecretRole;
  /** "certificates[0] \"web\"" or "issuers[1] \"zerossl\"". */
  readonly ownerLabel: string;
  readonly account: string;
  readonly region: string;
  readonly name: string;
}

const FIX: Record<SecretRole, string> = {
  secret: 'set a different secretName',
  copy: 'give this target another name, region or account',
  'acme-account': 'set a different accountSecretName',
  eab: 'point hmacKeySecret at a secret no certificate writes',
};

function describeUse(use: SecretUse): string {
  switch (use.role) {
    case 'secret':
      return `the secret of ${use.ownerLabel}`;
    case 'copy':
      return `the copy ${formatAt(use.path)} of ${use.ownerLabel.replace(/^\S+ /, '')}`;
    case 'acme-account':
      return `the ACME account secret of ${use.ownerLabel}`;
    case 'eab':
      return `the EAB key secret of ${use.ownerLabel}`;
  }
}

const formatAt = (path: (string | number)[]) => path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i ? `.${p}` : p)).join('');

function where(use: SecretUse): string {
  const account = use.account === PIPELINE_ACCOUNT ? PIPELINE_ACCOUNT : `account ${use.account}`;
  return `${account}, ${use.region}`;
}

/**
 * Every later use of a secret already used by another owner, as a problem at
 * the later use naming both sides and the fix. Two certificates' primary
 * secrets are left to the duplicate-secretName check.
 */
export function secretCollisions(uses: readonly SecretUse[]): CrossProblem[] {
  const first = new Map<string, SecretUse[]>();
  const problems: CrossProblem[] = [];
  for (const use of uses) {
    const key = `${use.account}\n${use.region}\n${use.name}`;
    const earlier = first.get(key) ?? [];
    const other = earlier.find((e) => e.owner !== use.owner && !(e.role === 'secret' && use.role === 'secret'));
    if (other) {
      problems.push({
        path: use.path,
        message: `secret "${use.name}" (${where(use)}) is also ${describeUse(other)} — it would overwrite it; ${FIX[use.role]}`,
      });
    }
    first.set(key, [...earlier, use]);
  }
  return problems;
}

const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):(\d{12}):secret:(.+)$/;

/** Account, region and name of an EAB secret given by name (the pipeline's) or by ARN (its random suffix dropped). */
export function secretIdLocation(id: string, pipeline: { account: string; region: string }): { account: string; region: string; name: string } {
  const arn = SECRET_ARN.exec(id);
  if (!arn) return { ...pipeline, name: id };
  return { account: arn[2]!, region: arn[1]!, name: arn[3]!.replace(/-[A-Za-z0-9]{6}$/, '') };
}
