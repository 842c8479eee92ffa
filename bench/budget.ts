// The rate-limit budget decision over a large inventory: what CheckExpiry adds to a
// run of 10,000 stored certificates (renewal decisions, then runBudget with Let's
// Encrypt's production limits). Pure and in-process: the scan benchmark measures the
// ListSecrets side; this is the decision alone, on synthetic but realistic spread.
import { runBudget } from '../functions/lib/budget/runBudget.js';
import type { CertificateSpec, Issuer } from '../functions/lib/inventory.js';
import { renewalDecision } from '../functions/lib/renewal.js';
import type { StoredCertificateFacts } from '../functions/lib/store/model.js';
import { ISSUER_PRESET_LIMITS } from '../infra/config.js';
import { median, round } from './support.js';

export interface BudgetResult {
  certificates: number;
  registeredDomains: number;
  due: number;
  admitted: number;
  deferred: number;
  /** First run in the process (tldts and the code warming up), then the median of the rest. */
  firstMs: number;
  medianMs: number;
  runs: number;
}

const DAY = 86_400_000;
/** Public suffixes of every kind the PSL has: ICANN one- and two-label, and a private one. */
const SUFFIXES = ['com', 'co.uk', 'com.au', 'github.io', 'net'];

/** `n` certificates over `domains` registered domains; 90-day certificates issued evenly over the last 90 days, 5% never issued. */
function fleet(n: number, domains: number, now: Date) {
  const issuer: Pick<Issuer, 'name' | 'limits'> = { name: 'letsencrypt', limits: ISSUER_PRESET_LIMITS.letsencrypt };
  const specs: CertificateSpec[] = [];
  const stored = new Map<string, StoredCertificateFacts>();
  for (let i = 0; i < n; i++) {
    const domain = `org${i % domains}.${SUFFIXES[i % SUFFIXES.length]}`;
    const names = [`svc${i}.${domain}`, ...(i % 3 === 0 ? [`www.svc${i}.${domain}`] : []), ...(i % 7 === 0 ? [`*.svc${i}.${domain}`] : [])];
    const spec: CertificateSpec = {
      name: `c${i}`,
      dnsNames: names,
      issuer: issuer.name,
      keyAlgorithm: 'ecdsa-p256',
      privateKeyRotation: 'always',
      renewal: { renewAtFractionLeft: 1 / 3 },
      secretName: `certpipe/c${i}`,
      hostedZoneIds: {},
      targets: [],
    };
    specs.push(spec);
    if (i % 20 === 19) continue;
    const notBefore = new Date(now.getTime() - ((i * 7919) % 90) * DAY - (i % 24) * 3_600_000);
    stored.set(spec.name, {
      secretName: spec.secretName,
      secretArn: `arn:aws:secretsmanager:us-east-1:000000000000:secret:${spec.secretName}-abcdef`,
      notBefore,
      notAfter: new Date(notBefore.getTime() + 90 * DAY),
      serial: `s${i}`,
      dnsNames: names,
      issuer: issuer.name,
      issuedAt: notBefore,
      acmCertificateArns: {},
    });
  }
  return { specs, stored, issuers: [issuer] };
}

export function budget(n = 10_000, runs = 10, log: (line: string) => void = () => {}): BudgetResult {
  const now = new Date();
  const domains = Math.max(1, Math.round(n / 50));
  const { specs, stored, issuers } = fleet(n, domains, now);
  log(`  ${n} certificates over ${domains} registered domains…`);
  const once = () => {
    const t0 = performance.now();
    const due = specs.flatMap((spec) => {
      const d = renewalDecision({ spec, stored: stored.get(spec.name), now });
      return d.due ? [{ name: spec.name, reason: d.reason }] : [];
    });
    const plan = runBudget({ due, specs, stored, issuers, now });
    return { ms: performance.now() - t0, due: due.length, plan };
  };
  const first = once();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(once().ms);
  return {
    certificates: n,
    registeredDomains: domains,
    due: first.due,
    admitted: first.plan.admitted.length,
    deferred: first.plan.deferred.length,
    firstMs: round(first.ms, 1),
    medianMs: round(median(times), 1),
    runs,
  };
}
