// Checks that span fields: references (issuer, zones), uniqueness, and targets
// that would overwrite the certificate's own secret. They run even when some
// fields failed their own validation, so every problem is reported at once; that
// is why they read the document defensively instead of trusting its types.
import {
  isWithinZone,
  normaliseDnsName,
  normaliseZoneId,
  roleAccount,
} from './formats.js';
import { defaultIssuer, gateProblems } from './gate.js';
import { PIPELINE_ACCOUNT, PIPELINE_REGION, secretCollisions, secretIdLocation, type SecretUse } from './secrets.js';

export interface CrossProblem {
  path: (string | number)[];
  message: string;
}

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The zone that holds `dnsName`: the longest matching zone name. Undefined when none; 'ambiguous' when two zones share that name. */
export function zoneFor(
  dnsName: string,
  zones: { name: string; id?: string }[],
): { name: string; id?: string } | 'ambiguous' | undefined {
  const matches = zones.filter((z) => isWithinZone(dnsName, z.name));
  if (matches.length === 0) return undefined;
  const longest = Math.max(...matches.map((z) => z.name.length));
  const best = matches.filter((z) => z.name.length === longest);
  return best.length === 1 ? best[0] : 'ambiguous';
}

export function defaultSecretName(certificate: string): string {
  return `certpipe/${certificate}`;
}

function duplicates<T>(items: T[], key: (item: T) => string | undefined): Map<number, number> {
  const first = new Map<string, number>();
  const dupes = new Map<number, number>();
  items.forEach((item, i) => {
    const k = key(item);
    if (k === undefined) return;
    const seen = first.get(k);
    if (seen === undefined) first.set(k, i);
    else dupes.set(i, seen);
  });
  return dupes;
}

/**
 * Every secret the config names, in order: issuers' ACME account and EAB
 * secrets, then each certificate's secret and its secretsmanager copies. A copy
 * with a role lives in the role's account; without a region, in the pipeline's.
 */
export function secretUses(doc: unknown, pipeline: { account: string; region: string }): SecretUse[] {
  if (!isRec(doc)) return [];
  const uses: SecretUse[] = [];
  list(doc.issuers).forEach((issuer, ii) => {
    if (!isRec(issuer) || !str(issuer.name)) return;
    const owner = `issuers[${ii}]`;
    const ownerLabel = `${owner} "${issuer.name as string}"`;
    const accountSecret = str(issuer.accountSecretName) ?? `certpipe/acme-account/${issuer.name as string}`;
    uses.push({ path: ['issuers', ii, 'accountSecretName'], owner, ownerLabel, role: 'acme-account', ...pipeline, name: accountSecret });
    const eab = isRec(issuer.eab) ? str(issuer.eab.hmacKeySecret) : undefined;
    if (eab) uses.push({ path: ['issuers', ii, 'eab', 'hmacKeySecret'], owner, ownerLabel, role: 'eab', ...secretIdLocation(eab, pipeline) });
  });
  list(doc.certificates).forEach((cert, ci) => {
    if (!isRec(cert) || !str(cert.name)) return;
    const owner = `certificates[${ci}]`;
    const ownerLabel = `${owner} "${cert.name as string}"`;
    const secret = str(cert.secretName) ?? defaultSecretName(cert.name as string);
    uses.push({ path: ['certificates', ci, 'secretName'], owner, ownerLabel, role: 'secret', ...pipeline, name: secret });
    list(cert.targets).forEach((t, ti) => {
      if (!isRec(t) || t.type !== 'secretsmanager') return;
      const roleArn = str(t.roleArn);
      const account = roleArn ? roleAccount(roleArn) : pipeline.account;
      if (!account) return;
      uses.push({
        path: ['certificates', ci, 'targets', ti],
        owner,
        ownerLabel,
        role: 'copy',
        account,
        region: str(t.region) ?? pipeline.region,
        name: str(t.name) ?? secret,
      });
    });
  });
  return uses;
}

export function crossCheck(doc: unknown): CrossProblem[] {
  if (!isRec(doc)) return [];
  const problems: CrossProblem[] = [];
  const add = (path: (string | number)[], message: string) => problems.push({ path, message });

  const issuers = list(doc.issuers).filter(isRec);
  const issuerNames = issuers.map((i) => str(i.name)).filter((n): n is string => !!n);
  for (const [i, j] of duplicates(list(doc.issuers), (x) => (isRec(x) ? str(x.name) : undefined))) {
    add(['issuers', i, 'name'], `"${str((list(doc.issuers)[i] as Rec).name)}" is already the name of issuers[${j}] — give each issuer its own name`);
  }

  const rawZones = list(doc.hostedZones);
  const zones = rawZones
    .filter(isRec)
    .filter((z) => typeof z.name === 'string')
    .map((z) => ({ name: normaliseDnsName(z.name as string), id: str(z.id) && normaliseZoneId(z.id as string) }));
  for (const [i, j] of duplicates(rawZones, (z) =>
    isRec(z) && typeof z.name === 'string' ? `${normaliseDnsName(z.name)}|${str(z.id) ? normaliseZoneId(z.id as string) : ''}` : undefined,
  )) {
    add(['hostedZones', i], `repeats hostedZones[${j}] — list each zone once`);
  }

  const certs = list(doc.certificates);
  for (const [i, j] of duplicates(certs, (c) => (isRec(c) ? str(c.name) : undefined))) {
    add(['certificates', i, 'name'], `"${str((certs[i] as Rec).name)}" is already the name of certificates[${j}] — give each certificate its own name`);
  }
  const secretOf = (c: unknown) => (isRec(c) ? str(c.secretName) ?? (str(c.name) ? defaultSecretName(c.name as string) : undefined) : undefined);
  for (const [i, j] of duplicates(certs, secretOf)) {
    add(
      ['certificates', i, 'secretName'],
      `secret "${secretOf(certs[i])}" is also used by certificates[${j}] — each certificate needs its own secret; set a different secretName`,
    );
  }

  certs.forEach((cert, ci) => {
    if (!isRec(cert)) return;
    const at = (...rest: (string | number)[]) => ['certificates', ci, ...rest];

    // Issuer: named and known, or implied when there is exactly one.
    const issuer = str(cert.issuer);
    if (issuer !== undefined) {
      if (issuerNames.length && !issuerNames.includes(issuer)) {
        add(at('issuer'), `"${issuer}" is not a configured issuer — use one of: ${issuerNames.join(', ')}`);
      }
    } else if (defaultIssuer(issuers) === undefined && issuers.length > 1) {
      add(at('issuer'), `is required when there are ${issuers.length} issuers — set it to one of: ${issuerNames.join(', ')}`);
    }

    // Zones: every name must land in a zone the pipeline may write.
    const names = list(cert.dnsNames).map((n) => (typeof n === 'string' ? normaliseDnsName(n) : undefined));
    const explicit = isRec(cert.hostedZoneIds) ? cert.hostedZoneIds : {};
    const explicitNames = new Set<string>();
    for (const [name, id] of Object.entries(explicit)) {
      const n = normaliseDnsName(name);
      explicitNames.add(n);
      if (!names.includes(n)) {
        add(at('hostedZoneIds', name), `"${name}" is not one of this certificate's dnsNames — remove it or add the name to dnsNames`);
        continue;
      }
      if (typeof id !== 'string') continue;
      const zone = zones.find((z) => z.id === normaliseZoneId(id));
      if (!zone) {
        add(
          at('hostedZoneIds', name),
          `zone "${id}" is not in hostedZones — add it there ({ name: <zone name>, id: ${normaliseZoneId(id)} }) so the pipeline may write to it`,
        );
      } else if (!isWithinZone(n, zone.name)) {
        add(at('hostedZoneIds', name), `zone "${id}" is "${zone.name}", which does not contain "${name}" — use the id of the zone holding this name`);
      }
    }
    names.forEach((n, ni) => {
      if (n === undefined || explicitNames.has(n)) return;
      const zone = zoneFor(n, zones);
      if (zone === undefined) {
        const bare = n.replace(/^\*\./, '');
        const suggestion = bare.split('.').slice(-2).join('.');
        add(at('dnsNames', ni), `no hosted zone covers "${n}" — add its zone to hostedZones (e.g. "- name: ${suggestion}") or fix the name`);
      } else if (zone === 'ambiguous') {
        add(at('dnsNames', ni), `"${n}" matches two hosted zones with the same name — pick one in hostedZoneIds: { "${n}": <zone id> }`);
      }
    });

    // Delegations: from a name of this certificate to a name in a zone the pipeline may write.
    const delegations = isRec(cert.challengeDelegations) ? cert.challengeDelegations : {};
    const bareNames = names.map((n) => n?.replace(/^\*\./, ''));
    for (const [name, target] of Object.entries(delegations)) {
      if (!bareNames.includes(normaliseDnsName(name).replace(/^\*\./, ''))) {
        add(at('challengeDelegations', name), `"${name}" is not one of this certificate's dnsNames — remove it or add the name to dnsNames`);
        continue;
      }
      if (typeof target !== 'string') continue;
      const zone = zoneFor(normaliseDnsName(target), zones);
      if (zone === undefined) {
        add(at('challengeDelegations', name), `the delegation target "${target}" is in none of hostedZones — add its zone to hostedZones so the pipeline may write the TXT record there`);
      } else if (zone === 'ambiguous') {
        add(at('challengeDelegations', name), `the delegation target "${target}" matches two hosted zones with the same name — keep one`);
      }
    }

    // Targets: none may be the certificate's own secret, and none twice.
    const secretName = secretOf(cert);
    const targets = list(cert.targets);
    targets.forEach((t, ti) => {
      if (!isRec(t) || t.type !== 'secretsmanager') return;
      const sameName = t.name === undefined || t.name === secretName;
      if (t.roleArn === undefined && t.region === undefined && sameName) {
        add(
          at('targets', ti),
          `is the certificate's own secret (same account, region and name) — give it a region, a roleArn or a different name, or remove it`,
        );
      }
    });
    const targetKey = (t: unknown) =>
      isRec(t) && typeof t.type === 'string'
        ? [t.type, str(t.region) ?? '', str(t.roleArn) ? roleAccount(t.roleArn as string) ?? t.roleArn : '', t.type === 'secretsmanager' ? str(t.name) ?? secretName : ''].join('|')
        : undefined;
    for (const [i, j] of duplicates(targets, targetKey)) {
      add(at('targets', i), `repeats targets[${j}] (same type, account, region and name) — remove one`);
    }
  });
  problems.push(...gateProblems(doc));
  // A region given explicitly may still be the pipeline's: toInventory checks again once it is known.
  problems.push(...secretCollisions(secretUses(doc, { account: PIPELINE_ACCOUNT, region: PIPELINE_REGION })));
  problems.push(...selfServiceProblems(doc.selfService, issuerNames, zones.map((z) => z.name)));
  return problems;
}

/** A self-service zone the pipeline may not write, or an issuer it does not have, would refuse every request at run time. */
function selfServiceProblems(selfService: unknown, issuerNames: readonly string[], zoneNames: readonly string[]): CrossProblem[] {
  if (!isRec(selfService)) return [];
  const problems: CrossProblem[] = [];
  list(selfService.zones).forEach((z, i) => {
    if (typeof z === 'string' && !zoneNames.includes(normaliseDnsName(z))) {
      problems.push({ path: ['selfService', 'zones', i], message: `"${z}" is not in hostedZones — add it there (the pipeline writes challenges only in those zones) or remove it` });
    }
  });
  list(selfService.issuers).forEach((n, i) => {
    if (typeof n === 'string' && !issuerNames.includes(n)) {
      problems.push({ path: ['selfService', 'issuers', i], message: `"${n}" is not an issuer — use one of ${issuerNames.join(', ') || '(none)'}` });
    }
  });
  return problems;
}
