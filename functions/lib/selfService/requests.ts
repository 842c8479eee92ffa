// Self-service requests: a team creates a secret under the allowed prefix,
// tagged `certpipe:dns-names=<names>` (and optionally `certpipe:issuer`,
// `certpipe:key-algorithm`, `certpipe:acm-regions`). Whether the pipeline
// adopts it is decided here, purely, from the request's tags and the policy in
// the inventory; the first failing check explains a refusal.
import { normaliseDnsName } from '../dnsName.js';
import { KEY_ALGORITHMS, type CertificateSpec, type Inventory, type KeyAlgorithm } from '../inventory.js';
import { TAG } from '../tagNames.js';

export type SelfServicePolicy = NonNullable<Inventory['selfService']>;

/** The tags a request is read from (the store's own tags share `dns-names`, `issuer`, `key-algorithm`). */
export const REQUEST_TAG = {
  dnsNames: TAG.dnsNames,
  issuer: TAG.issuer,
  keyAlgorithm: TAG.keyAlgorithm,
  acmRegions: 'certpipe:acm-regions',
  /** Written by the pipeline: `adopted issuer=<name> key=<algorithm>` or `refused: <reason>`. */
  status: 'certpipe:status',
} as const;

/** A request secret as listed: its name, ARN and tags. */
export interface RequestSecret {
  readonly name: string;
  readonly arn: string;
  readonly tags: Readonly<Record<string, string>>;
}

export type RequestDecision =
  | { readonly adopted: true; readonly request: RequestSecret; readonly spec: CertificateSpec; readonly status: string }
  | { readonly adopted: false; readonly request: RequestSecret; readonly reason: string; readonly status: string };

const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const DNS_NAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;

const splitList = (value: string | undefined) => (value ?? '').split(/[,\s]+/).filter((v) => v !== '');
const inZone = (name: string, zone: string) => {
  const bare = name.replace(/^\*\./, '');
  return bare === zone || bare.endsWith(`.${zone}`);
};

/**
 * The issuer a request asked for. Once the pipeline has issued into the secret
 * its own `certpipe:issuer` tag holds the CA's name, so the adoption status
 * (written by the pipeline) is where the request's choice is kept.
 */
function requestedIssuer(tags: RequestSecret['tags'], policy: SelfServicePolicy): string {
  const adopted = /^adopted issuer=(\S+)/.exec(tags[REQUEST_TAG.status] ?? '')?.[1];
  if (tags[TAG.managed] && adopted) return adopted;
  return tags[REQUEST_TAG.issuer] || policy.issuers[0]!;
}

function refusal(request: RequestSecret, reason: string): RequestDecision {
  return { adopted: false, request, reason, status: `refused: ${reason}`.slice(0, 255) };
}

/** One request against the policy; `names in use` are the DNS names of the configured certificates. */
export function decideRequest(request: RequestSecret, policy: SelfServicePolicy, configured: ReadonlySet<string>): RequestDecision {
  if (!request.name.startsWith(policy.prefix)) return refusal(request, `the secret is not under ${policy.prefix}`);
  const names = [...new Set(splitList(request.tags[REQUEST_TAG.dnsNames]).map(normaliseDnsName))];
  if (names.length === 0) return refusal(request, `${REQUEST_TAG.dnsNames} names no DNS name`);
  const malformed = names.find((n) => !DNS_NAME.test(n));
  if (malformed) return refusal(request, `${malformed} is not a DNS name`);
  if (names.length > policy.maxNamesPerCertificate) return refusal(request, `${names.length} names, more than the ${policy.maxNamesPerCertificate} allowed per certificate`);
  const outside = names.find((n) => !policy.zones.some((z) => inZone(n, z)));
  if (outside) return refusal(request, `${outside} is in none of the allowed zones (${policy.zones.join(', ')})`);
  const taken = names.find((n) => configured.has(n));
  if (taken) return refusal(request, `${taken} belongs to a certificate of the pipeline's config`);
  const issuer = requestedIssuer(request.tags, policy);
  if (!policy.issuers.includes(issuer)) return refusal(request, `issuer ${issuer} is not allowed (${policy.issuers.join(', ')})`);
  const keyAlgorithm = (request.tags[REQUEST_TAG.keyAlgorithm] || 'ecdsa-p256') as KeyAlgorithm;
  if (!KEY_ALGORITHMS.includes(keyAlgorithm)) return refusal(request, `key algorithm ${keyAlgorithm} is not one of ${KEY_ALGORITHMS.join(', ')}`);
  const regions = [...new Set(splitList(request.tags[REQUEST_TAG.acmRegions]))];
  const badRegion = regions.find((r) => !AWS_REGION.test(r));
  if (badRegion) return refusal(request, `${badRegion} is not an AWS region`);
  const closed = regions.find((r) => !policy.acmRegions.includes(r));
  if (closed) {
    return refusal(
      request,
      policy.acmRegions.length === 0
        ? `${closed}: requests may not publish to ACM (selfService.acmRegions is empty)`
        : `${closed} is not one of the ACM regions requests may use (${policy.acmRegions.join(', ')})`,
    );
  }
  const spec: CertificateSpec = {
    name: request.name,
    dnsNames: names,
    issuer,
    keyAlgorithm,
    privateKeyRotation: 'always',
    renewal: policy.renewal,
    secretName: request.name,
    hostedZoneIds: {},
    targets: regions.map((region) => ({ type: 'acm' as const, region })),
    request: { arn: request.arn },
  };
  return { adopted: true, request, spec, status: `adopted issuer=${issuer} key=${keyAlgorithm}` };
}

/**
 * Every request, oldest name first so the cap keeps the same ones adopted from
 * run to run: adopted within `maxCertificates`, refused beyond it.
 */
export function decideRequests(requests: readonly RequestSecret[], inventory: Pick<Inventory, 'certificates' | 'selfService'>): RequestDecision[] {
  const policy = inventory.selfService;
  if (!policy) return [];
  const configured = new Set(inventory.certificates.flatMap((c) => c.dnsNames));
  let adopted = 0;
  return [...requests]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((request) => {
      const decision = decideRequest(request, policy, configured);
      if (!decision.adopted) return decision;
      if (adopted >= policy.maxCertificates) return refusal(request, `the pipeline already serves ${policy.maxCertificates} self-service certificates, its limit`);
      adopted += 1;
      return decision;
    });
}
