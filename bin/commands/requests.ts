// Self-service requests as `certpipe status` shows them: the adopted ones join
// the certificate table, and every request is listed with the pipeline's
// answer from its `certpipe:status` tag (a refusal with its reason).
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import pc from 'picocolors';
import type { CertificateSpec, Inventory } from '../../functions/lib/inventory.js';
import { requestSecrets } from '../../functions/lib/selfService/requestSecrets.js';
import { decideRequests, REQUEST_TAG } from '../../functions/lib/selfService/requests.js';
import type { Layout } from '../layout.js';
import type { Target } from './context.js';

export interface RequestStatus {
  secret: string;
  dnsNames: string;
  /** The pipeline's answer as written on the secret; `pending` before CheckExpiry has looked at it. */
  status: string;
}

export interface SelfServiceView {
  readonly adopted: CertificateSpec[];
  readonly requests: RequestStatus[];
}

/** One listing per command, however many parts ask (findSpec, status, every execution summarized). */
const views = new WeakMap<Target, Promise<SelfServiceView>>();

/** The requests under the prefix and the certificates adopted from them (the same decision CheckExpiry makes). */
export function selfServiceView(target: Target): Promise<SelfServiceView> {
  let view = views.get(target);
  if (!view) {
    view = listSelfService(target);
    views.set(target, view);
    view.catch(() => views.delete(target));
  }
  return view;
}

/** The inventory with the adopted certificates among the configured ones, as CheckExpiry sees it. */
export async function inventoryWithAdopted(target: Target): Promise<Inventory> {
  const { adopted } = await selfServiceView(target);
  return withCertificates(target.inventory, adopted);
}

/** The same, for a caller without a Target (`npm start`'s closing table): one listing of the requests. */
export async function adoptedInventory(sm: SecretsManagerClient, inventory: Inventory): Promise<Inventory> {
  return withCertificates(inventory, (await readSelfService(sm, inventory)).adopted);
}

const withCertificates = (inventory: Inventory, adopted: CertificateSpec[]): Inventory =>
  adopted.length ? { ...inventory, certificates: [...inventory.certificates, ...adopted] } : inventory;

const listSelfService = (target: Target): Promise<SelfServiceView> => readSelfService(target.aws.secretsManager(), target.inventory);

async function readSelfService(sm: SecretsManagerClient, inventory: Inventory): Promise<SelfServiceView> {
  const policy = inventory.selfService;
  if (!policy) return { adopted: [], requests: [] };
  const listed = await requestSecrets(sm).list(policy.prefix);
  const decisions = decideRequests(listed, inventory);
  return {
    adopted: decisions.flatMap((d) => (d.adopted ? [d.spec] : [])),
    requests: listed.map((r) => ({ secret: r.name, dnsNames: r.tags[REQUEST_TAG.dnsNames] ?? '', status: r.tags[REQUEST_TAG.status] ?? 'pending' })),
  };
}

/** One line per request: its answer, the reason cut to the width unless `--wide`. */
export function renderRequests(requests: readonly RequestStatus[], layout: Layout): string[] {
  const c = pc.createColors(layout.color);
  return requests.map((r) => {
    const refused = r.status.startsWith('refused');
    let line = `  ${r.secret}: ${r.status}`;
    if (layout.width !== undefined && line.length > layout.width) line = `${line.slice(0, layout.width - 1)}…`;
    return refused ? c.red(line) : r.status === 'pending' ? c.yellow(line) : line;
  });
}
