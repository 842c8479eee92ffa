// Self-service requests as `certpipe status` shows them: the adopted ones join
// the certificate table, and every request is listed with the pipeline's
// answer from its `certpipe:status` tag (a refusal with its reason).
import pc from 'picocolors';
import type { CertificateSpec } from '../../functions/lib/inventory.js';
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

/** The requests under the prefix and the certificates adopted from them (the same decision CheckExpiry makes). */
export async function selfServiceView(target: Target): Promise<SelfServiceView> {
  const policy = target.inventory.selfService;
  if (!policy) return { adopted: [], requests: [] };
  const listed = await requestSecrets(target.aws.secretsManager()).list(policy.prefix);
  const decisions = decideRequests(listed, target.inventory);
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
