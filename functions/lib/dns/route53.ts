// The Route 53 DNS-01 provider: it only presents and cleans up `_acme-challenge`
// TXT values; checking that they are visible is propagation.ts's job.
//
// A name's TXT set may hold values written by others (another certificate of
// this pipeline sharing the name, another ACME client): we only ever add or
// remove our own values. Each write is a compare-and-set: one atomic change
// batch that DELETEs the exact set we read and CREATEs the new one, so when a
// concurrent writer changed the set in between, Route 53 rejects the batch
// (InvalidChangeBatch) and we read again, instead of silently dropping their
// value as a blind UPSERT would. The IAM policy must allow CREATE and DELETE.
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  type Change,
  type ResourceRecordSet,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { challengeFqdn, groupByFqdn } from '../acme/challenge.js';
import { asAwsError, awsErrorName, type AwsClients } from '../aws.js';
import { HostedZoneNotFound, InvalidInput } from '../workflow/errors.js';
import type { ChallengeRecord } from '../workflow/states.js';

// Route 53 answers PriorRequestNotComplete while a change to the same name is in
// flight and throttles at 5 requests/s per account: adaptive retry with room.
const ROUTE53_MAX_ATTEMPTS = 8;

/** The Route 53 client (global: its API lives in us-east-1), with retries sized for its throttling. */
export function route53Client(aws: AwsClients): Route53Client {
  const attempts = Math.max(aws.config('us-east-1').maxAttempts ?? 0, ROUTE53_MAX_ATTEMPTS);
  return aws.client(Route53Client, 'us-east-1', { retryMode: 'adaptive', maxAttempts: attempts });
}

/** A challenge value to place at `fqdn` (the `_acme-challenge` name), in `zoneId` when already known (so cleanUp needs no lookup). */
export type ChallengeInput = Pick<ChallengeRecord, 'fqdn' | 'value'> & Partial<Pick<ChallengeRecord, 'zoneId'>>;

/**
 * Where a value was really written: `fqdn` is the name written (the CNAME target
 * when delegated), and `delegatedFrom` the `_acme-challenge` name the CA asks for.
 */
export type PresentedRecord = Omit<ChallengeRecord, 'identifier'> & { delegatedFrom?: string };

export interface PresentResult {
  /** Route 53 change ids to wait for (GetChange → INSYNC). Names already holding our values add none. */
  changeIds: string[];
  records: PresentedRecord[];
}

/** Presents and removes DNS-01 values; implementations never check propagation. */
export interface DnsChallengeProvider {
  present(records: ChallengeInput[]): Promise<PresentResult>;
  cleanUp(records: ChallengeInput[]): Promise<string[]>;
}

/** The zones the pipeline may write: the inventory's `hostedZones` and a certificate's `hostedZoneIds`. */
export interface ZoneConfig {
  hostedZones: readonly { name: string; id?: string }[];
  /** DNS name (as in the certificate, `*.` allowed) → hosted zone id. */
  hostedZoneIds?: Readonly<Record<string, string>>;
  /**
   * Challenge name (`_acme-challenge.<name>`, normalised) → the CNAME target the
   * config names (`challengeDelegations`). The role may write only these targets,
   * so a CNAME leading anywhere else is refused here rather than by AWS.
   */
  challengeDelegations?: Readonly<Record<string, string>>;
}

export interface Route53ProviderOptions {
  /** @default 60 */
  ttl?: number;
  /** Compare-and-set rounds lost to concurrent writers before giving up (each lost round means another writer progressed). @default 10 */
  maxConflicts?: number;
}

// ---------------------------------------------------------------------------
// Pure helpers

/** Lower-case, no trailing dot, Route 53's `\052`-style octal escapes decoded. */
export function normalizeName(name: string): string {
  return name
    .replace(/\\(\d{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)))
    .toLowerCase()
    .replace(/\.$/, '');
}

/** `/hostedzone/Z123` → `Z123`. */
export function bareZoneId(id: string): string {
  return id.replace(/^\/?hostedzone\//, '');
}

/** The longest zone whose name is `fqdn` or a parent of it. */
export function longestMatchingZone<Z extends { name: string }>(fqdn: string, zones: readonly Z[]): Z | undefined {
  const name = normalizeName(fqdn);
  let best: Z | undefined;
  for (const zone of zones) {
    const z = normalizeName(zone.name);
    if ((name === z || name.endsWith(`.${z}`)) && (!best || z.length > normalizeName(best.name).length)) best = zone;
  }
  return best;
}

/** The zone id the config fixes for a challenge name (through the certificate's DNS names), if any. */
export function configuredZoneId(fqdn: string, hostedZoneIds: Readonly<Record<string, string>> = {}): string | undefined {
  const name = normalizeName(fqdn);
  for (const [dnsName, zoneId] of Object.entries(hostedZoneIds)) {
    if (challengeFqdn(dnsName) === name) return bareZoneId(zoneId);
  }
  return undefined;
}

/** A TXT value as Route 53 wants it: one quoted character-string (ACME values are 43 characters). */
export function quoteTxt(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The text of a Route 53 TXT value; multi-string values are joined, as resolvers do. */
export function unquoteTxt(raw: string): string {
  const strings = raw.match(/"((?:[^"\\]|\\.)*)"/g);
  if (!strings) return raw;
  return strings.map((s) => s.slice(1, -1).replace(/\\(.)/g, '$1')).join('');
}

/** The set after adding ours: every existing raw value kept as written, ours appended when absent. */
export function mergeTxtValues(existingRaw: readonly string[], ours: readonly string[]): string[] {
  const present = new Set(existingRaw.map(unquoteTxt));
  const added = ours.filter((v, i) => !present.has(v) && ours.indexOf(v) === i).map(quoteTxt);
  return [...existingRaw, ...added];
}

/** The set after removing ours: only other writers' values remain. */
export function removeTxtValues(existingRaw: readonly string[], ours: readonly string[]): string[] {
  const mine = new Set(ours);
  return existingRaw.filter((raw) => !mine.has(unquoteTxt(raw)));
}

/** The set after removing every value `isOurs` recognises (values known only by a recorded prefix). */
export function removeTxtMatching(existingRaw: readonly string[], isOurs: (value: string) => boolean): string[] {
  return existingRaw.filter((raw) => !isOurs(unquoteTxt(raw)));
}

// ---------------------------------------------------------------------------

interface TxtSet {
  ttl: number;
  values: string[];
}

export class Route53ChallengeProvider implements DnsChallengeProvider {
  private readonly ttl: number;
  private readonly maxConflicts: number;
  private readonly zoneIdsByName = new Map<string, Promise<string>>();

  constructor(
    private readonly route53: Route53Client,
    private readonly zones: ZoneConfig,
    options: Route53ProviderOptions = {},
  ) {
    this.ttl = options.ttl ?? 60;
    this.maxConflicts = options.maxConflicts ?? 10;
  }

  /**
   * Add our values, merged with whatever the names already hold. Safe to repeat.
   * One read per name (the read that follows a CNAME also returns the TXT set) and
   * one change batch per zone: Route 53 allows 5 requests per second per account.
   */
  async present(records: ChallengeInput[]): Promise<PresentResult> {
    const read = new Map<string, TxtSet | undefined>();
    const targets = [...(await this.resolveTargets(records, read)).values()];
    const changeIds = await this.rewriteByZone(
      targets.map((t) => ({ zoneId: t.zoneId, fqdn: t.fqdn, next: (current: string[]) => mergeTxtValues(current, t.values) })),
      read,
    );
    return {
      changeIds,
      records: targets.flatMap((t) =>
        t.values.map((value): PresentedRecord => ({
          fqdn: t.fqdn,
          value,
          zoneId: t.zoneId,
          ...(t.delegatedFrom ? { delegatedFrom: t.delegatedFrom } : {}),
        })),
      ),
    };
  }

  /** Remove our values only; an absent record or value is already clean. Returns the change ids (one per zone changed). */
  async cleanUp(records: ChallengeInput[]): Promise<string[]> {
    const read = new Map<string, TxtSet | undefined>();
    const targets = [...(await this.resolveTargets(records, read)).values()];
    return this.rewriteByZone(
      targets.map((t) => ({ zoneId: t.zoneId, fqdn: t.fqdn, next: (current: string[]) => removeTxtValues(current, t.values) })),
      read,
    );
  }

  /**
   * Remove, at the challenge names (CNAME delegation followed as present does,
   * unless the zone written is given), every value `isOurs` recognises: for
   * values recorded by prefix only.
   */
  async cleanUpMatching(names: readonly { fqdn: string; zoneId?: string }[], isOurs: (value: string) => boolean): Promise<string[]> {
    const read = new Map<string, TxtSet | undefined>();
    const targets = [...(await this.resolveTargets(names.map((n) => ({ fqdn: n.fqdn, value: '', ...(n.zoneId ? { zoneId: n.zoneId } : {}) })), read)).values()];
    return this.rewriteByZone(
      targets.map((t) => ({ zoneId: t.zoneId, fqdn: t.fqdn, next: (current: string[]) => removeTxtMatching(current, isOurs) })),
      read,
    );
  }

  /** One compare-and-set batch per zone, the zones in parallel. */
  private async rewriteByZone(edits: readonly TxtEdit[], read: ReadonlyMap<string, TxtSet | undefined>): Promise<string[]> {
    const byZone = new Map<string, TxtEdit[]>();
    for (const e of edits) byZone.set(e.zoneId, [...(byZone.get(e.zoneId) ?? []), e]);
    const ids = await Promise.all([...byZone].map(([zoneId, zoneEdits]) => this.rewrite(zoneId, zoneEdits, read)));
    return ids.filter((id): id is string => Boolean(id));
  }

  /** True when every change is INSYNC (one GetChange each). */
  async changeStatus(changeIds: readonly string[]): Promise<boolean> {
    const statuses = await Promise.all(
      changeIds.map(async (id) => {
        try {
          return (await this.route53.send(new GetChangeCommand({ Id: id.replace(/^\/?change\//, '') }))).ChangeInfo?.Status;
        } catch (err) {
          throw asAwsError(err, `Route 53 GetChange ${id}`);
        }
      }),
    );
    return statuses.every((s) => s === 'INSYNC');
  }

  /**
   * Group by the name really written (following CNAME delegation) and its zone.
   * The TXT sets read on the way land in `read` (zone + name → set), so the first
   * compare-and-set round needs no second read.
   */
  private async resolveTargets(
    records: ChallengeInput[],
    read: Map<string, TxtSet | undefined>,
  ): Promise<Map<string, { fqdn: string; zoneId: string; values: string[]; delegatedFrom?: string }>> {
    const zoneOf = new Map<string, string | undefined>();
    for (const r of records) {
      const fqdn = normalizeName(r.fqdn);
      if (r.zoneId && !zoneOf.get(fqdn)) zoneOf.set(fqdn, bareZoneId(r.zoneId));
      else if (!zoneOf.has(fqdn)) zoneOf.set(fqdn, undefined);
    }
    const targets = new Map<string, { fqdn: string; zoneId: string; values: string[]; delegatedFrom?: string }>();
    const groups = [...groupByFqdn(records)];
    // A zone id recorded by present() already names the written (delegated) name.
    const places = await Promise.all(groups.map(([fqdn]) => zoneOf.get(fqdn) ?? this.followDelegation(fqdn, read)));
    groups.forEach(([fqdn, values], i) => {
      const place = places[i]!;
      const where = typeof place === 'string' ? { fqdn, zoneId: place } : place;
      const key = readKey(where.zoneId, where.fqdn);
      const entry = targets.get(key) ?? {
        fqdn: where.fqdn,
        zoneId: where.zoneId,
        values: [],
        ...(where.fqdn !== fqdn ? { delegatedFrom: fqdn } : {}),
      };
      for (const v of values) if (!entry.values.includes(v)) entry.values.push(v);
      targets.set(key, entry);
    });
    return targets;
  }

  /** Where `fqdn`'s TXT really lives: a CNAME at it points to a name in one of our zones (at most a few hops). */
  private async followDelegation(fqdn: string, read: Map<string, TxtSet | undefined>): Promise<{ fqdn: string; zoneId: string }> {
    let name = fqdn;
    const seen = new Set<string>();
    for (;;) {
      const zoneId = await this.zoneIdFor(name, name === fqdn);
      const found = await this.readName(zoneId, name);
      if (!('cname' in found)) {
        if (name !== fqdn && this.zones.challengeDelegations?.[fqdn] !== name) {
          throw new InvalidInput(
            `${fqdn} is delegated by CNAME to ${name}, which the config does not name: add ` +
              `challengeDelegations: { "${fqdn.replace(/^_acme-challenge\./, '')}": "${name}" } to the certificate so the pipeline may write there`,
          );
        }
        read.set(readKey(zoneId, name), found.txt);
        return { fqdn: name, zoneId };
      }
      const cname = found.cname;
      seen.add(name);
      if (seen.has(cname) || seen.size > 4) {
        throw new InvalidInput(`The CNAME chain from ${fqdn} loops or is too long (at ${cname})`);
      }
      if (!longestMatchingZone(cname, this.zones.hostedZones)) {
        throw new HostedZoneNotFound(
          `${name} is a CNAME to ${cname}, which is in none of the configured hosted zones; add that zone to hostedZones`,
        );
      }
      name = cname;
    }
  }

  private async zoneIdFor(fqdn: string, useConfigured: boolean): Promise<string> {
    const fixed = useConfigured ? configuredZoneId(fqdn, this.zones.hostedZoneIds) : undefined;
    if (fixed) return fixed;
    const zone = longestMatchingZone(fqdn, this.zones.hostedZones);
    if (!zone) {
      throw new HostedZoneNotFound(
        `No configured hosted zone covers ${fqdn}; add its zone to hostedZones or set hostedZoneIds for the name`,
      );
    }
    if (zone.id) return bareZoneId(zone.id);
    const name = normalizeName(zone.name);
    let lookup = this.zoneIdsByName.get(name);
    if (!lookup) {
      lookup = this.lookupZoneId(name);
      this.zoneIdsByName.set(name, lookup);
      lookup.catch(() => this.zoneIdsByName.delete(name));
    }
    return lookup;
  }

  private async lookupZoneId(zoneName: string): Promise<string> {
    let response;
    try {
      response = await this.route53.send(new ListHostedZonesByNameCommand({ DNSName: zoneName, MaxItems: 10 }));
    } catch (err) {
      throw asAwsError(err, `Route 53 ListHostedZonesByName ${zoneName}`);
    }
    // Public zones only: a private zone of the same name is not what the CA queries.
    const zone = (response.HostedZones ?? []).find(
      (z) => normalizeName(z.Name ?? '') === zoneName && !z.Config?.PrivateZone,
    );
    if (!zone?.Id) throw new HostedZoneNotFound(`No public hosted zone named ${zoneName} exists in this account`);
    return bareZoneId(zone.Id);
  }

  /**
   * One listing from `fqdn`: its CNAME (which stands alone at a name) or its TXT
   * set, whichever is there. Only when the page ends among other types at the
   * name (before TXT sorts) is the TXT set asked for by type.
   */
  private async readName(zoneId: string, fqdn: string): Promise<{ cname: string } | { txt: TxtSet | undefined }> {
    let response;
    try {
      response = await this.route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, StartRecordName: fqdn, MaxItems: NAME_PAGE }));
    } catch (err) {
      throw this.readError(err, zoneId, fqdn);
    }
    const sets = response.ResourceRecordSets ?? [];
    const atName = sets.filter((set) => normalizeName(set.Name ?? '') === fqdn);
    const cname = atName.find((set) => set.Type === 'CNAME')?.ResourceRecords?.[0]?.Value;
    if (cname) return { cname: normalizeName(cname) };
    const txt = atName.find((set) => set.Type === 'TXT');
    if (txt) return { txt: this.txtSetOf(txt) };
    const pastName = atName.length < sets.length || !response.IsTruncated;
    return { txt: pastName ? undefined : await this.readTxt(zoneId, fqdn) };
  }

  private readError(err: unknown, zoneId: string, fqdn: string): unknown {
    if (awsErrorName(err) === 'NoSuchHostedZone') {
      return new HostedZoneNotFound(`Hosted zone ${zoneId} (for ${fqdn}) does not exist`, { cause: err });
    }
    return asAwsError(err, `Route 53 ListResourceRecordSets ${zoneId} ${fqdn}`);
  }

  private txtSetOf(set: ResourceRecordSet): TxtSet {
    return { ttl: set.TTL ?? this.ttl, values: (set.ResourceRecords ?? []).map((r) => r.Value ?? '') };
  }

  private async readSet(zoneId: string, fqdn: string, type: 'TXT' | 'CNAME'): Promise<ResourceRecordSet | undefined> {
    let response;
    try {
      response = await this.route53.send(
        new ListResourceRecordSetsCommand({
          HostedZoneId: zoneId,
          StartRecordName: fqdn,
          StartRecordType: type,
          MaxItems: 1,
        }),
      );
    } catch (err) {
      throw this.readError(err, zoneId, fqdn);
    }
    // The listing starts at (name, type) but returns whatever comes next when that set is absent.
    const set = response.ResourceRecordSets?.[0];
    return set && normalizeName(set.Name ?? '') === fqdn && set.Type === type ? set : undefined;
  }

  private async readTxt(zoneId: string, fqdn: string): Promise<TxtSet | undefined> {
    const set = await this.readSet(zoneId, fqdn, 'TXT');
    return set ? this.txtSetOf(set) : undefined;
  }

  /**
   * Read each name's TXT set, compute the next ones, and swap them in with one
   * atomic batch for the zone; re-read and recompute when another writer got
   * there first (the whole batch is refused then). The first round uses the sets
   * `read` already holds. Returns the change id, or undefined when nothing needed
   * to change.
   */
  private async rewrite(zoneId: string, edits: readonly TxtEdit[], read: ReadonlyMap<string, TxtSet | undefined>): Promise<string | undefined> {
    const readAll = () => Promise.all(edits.map((e) => this.readTxt(zoneId, e.fqdn)));
    let current = await Promise.all(
      edits.map((e) => (read.has(readKey(zoneId, e.fqdn)) ? read.get(readKey(zoneId, e.fqdn)) : this.readTxt(zoneId, e.fqdn))),
    );
    for (let round = 1; ; round++) {
      const changes: Change[] = [];
      edits.forEach((e, i) => {
        const set = current[i];
        const wanted = e.next(set?.values ?? []);
        if (set ? sameValues(set.values, wanted) : wanted.length === 0) return;
        if (set) changes.push({ Action: 'DELETE', ResourceRecordSet: txtSet(e.fqdn, set.ttl, set.values) });
        if (wanted.length) changes.push({ Action: 'CREATE', ResourceRecordSet: txtSet(e.fqdn, this.ttl, wanted) });
      });
      if (changes.length === 0) return undefined;
      const names = edits.map((e) => e.fqdn).join(', ');
      try {
        const response = await this.route53.send(
          new ChangeResourceRecordSetsCommand({
            HostedZoneId: zoneId,
            ChangeBatch: { Comment: 'certpipe DNS-01 challenge', Changes: changes },
          }),
        );
        return response.ChangeInfo?.Id?.replace(/^\/?change\//, '');
      } catch (err) {
        if (awsErrorName(err) !== 'InvalidChangeBatch') throw asAwsError(err, `Route 53 change of ${names} in ${zoneId}`);
        // Lost a race if a set moved under us; if none did, the batch itself is wrong.
        const now = await readAll();
        const moved = now.some((set, i) => !sameSet(set, current[i]));
        if (!moved || round >= this.maxConflicts) {
          throw new InvalidInput(
            `Route 53 rejected the TXT change of ${names} in zone ${zoneId}` +
              (moved ? ` after ${round} concurrent updates` : '') +
              `: ${(err as Error).message}`,
            { cause: err },
          );
        }
        current = now;
      }
    }
  }
}

/** A TXT set to rewrite: where, and the set wanted given the current values. */
interface TxtEdit {
  readonly zoneId: string;
  readonly fqdn: string;
  readonly next: (current: string[]) => string[];
}

const readKey = (zoneId: string, fqdn: string) => `${zoneId}\n${fqdn}`;

/** Sets one name-started listing returns: enough for a CNAME or the TXT set at a challenge name. */
const NAME_PAGE = 3;

function txtSet(fqdn: string, ttl: number, values: string[]): ResourceRecordSet {
  return { Name: `${fqdn}.`, Type: 'TXT', TTL: ttl, ResourceRecords: values.map((Value) => ({ Value })) };
}

function sameValues(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v) => b.includes(v));
}

function sameSet(a: TxtSet | undefined, b: TxtSet | undefined): boolean {
  if (!a || !b) return a === b;
  return a.ttl === b.ttl && sameValues(a.values, b.values);
}
