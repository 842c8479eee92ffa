// Hosted zones, record sets and changes of the local Route 53, persisted one
// resource per file, with in-memory indexes for listing and for the DNS view.
//
// Durability of a batch: the change (with every record set's before and after
// value) is written first, then the record sets. A crash in between is repaired
// at load by re-applying each zone's latest change, which is the only one that
// can be half-applied because batches on one zone run one at a time.
//
// The DNS view shows a change once insync delay + DNS lag have passed since its
// submission; the settings are read when asked, and what was shown stays shown.
import { randomInt } from 'node:crypto';
import { KeyedLock } from '../../lock.js';
import { AwsError, type Collection, type LocalCloud } from '../../types.js';
import { planBatch, type ChangeInput } from './batch.js';
import { InvalidNameError, isWithin, normalizeName, parentOf, zoneSortKey } from './names.js';
import { NS_TTL, SOA_TTL, sameRecordSet, soaValue, withDot, type RecordSet } from './records.js';
import { PassedDelay } from './passed-delay.js';
import { SortedKeys } from './sorted-keys.js';
import { ZoneRecords, type VisibilityClock } from './zone-records.js';

export interface StoredZone {
  /** Bare id, e.g. `Z0ABC...` (the API adds `/hostedzone/`). */
  readonly id: string;
  readonly accountId: string;
  /** Normalized name with trailing dot. */
  readonly name: string;
  readonly callerReference: string;
  readonly comment?: string;
  readonly privateZone: boolean;
  readonly createdAt: string;
  readonly nameServers: readonly string[];
}

interface StoredRecordSet extends RecordSet {
  readonly zoneId: string;
}

export interface StoredChange {
  /** Bare id, e.g. `C0ABC...` (the API adds `/change/`). */
  readonly id: string;
  readonly accountId: string;
  readonly zoneId: string;
  /** Submission order across all zones; the latest change of a zone is the one recovery re-applies. */
  readonly seq: number;
  readonly submittedAt: string;
  readonly comment?: string;
  readonly kind: 'CreateHostedZone' | 'ChangeResourceRecordSets' | 'DeleteHostedZone';
  /** Epoch ms: submissions up to this were INSYNC / shown by DNS when this one was made (restored after a restart). */
  readonly insyncThrough?: number;
  readonly visibleThrough?: number;
  /** What the change made visible: each touched record set's value before and after. */
  readonly rrsets: ReadonlyArray<{ name: string; type: string; before: RecordSet | null; after: RecordSet | null }>;
}

/** What the DNS server gets for a name. */
export interface DnsLookup {
  /** The zone answering for the name; undefined when no local zone holds it (REFUSED). */
  readonly zone?: { readonly id: string; readonly name: string; readonly soa?: RecordSet };
  /** Record sets at the name as the DNS server shows them now (synthesized from a wildcard when `wildcard`). */
  readonly rrsets: readonly RecordSet[];
  /** Nothing exists at or below the name. */
  readonly nxdomain: boolean;
  /** NS record set of a delegation between the zone apex and the name: answer with a referral. */
  readonly delegation?: RecordSet;
  /** The name's record sets were synthesized from this wildcard name. */
  readonly wildcard?: string;
}

// History older than this is dropped, so a change becomes visible to DNS no
// later than this after submission even when insync delay + lag is larger.
const HISTORY_HORIZON_MS = 60 * 60 * 1000;
const PRUNE_EVERY_MS = 60 * 1000;
// How often the delays are sampled, so raising one never takes back what was past it a moment ago.
const OBSERVE_EVERY_MS = 250;

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
function newId(prefix: 'Z' | 'C'): string {
  let id = prefix;
  for (let i = 0; i < 20; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

const recordKey = (zoneId: string, name: string, type: string) => `${zoneId} ${name} ${type}`;

interface AccountZones {
  readonly byId: SortedKeys;
  /** zoneSortKey(name, id) → id */
  readonly byName: SortedKeys;
  readonly idByNameKey: Map<string, string>;
}

export class Route53Model {
  private readonly records = new Map<string, ZoneRecords>();
  private readonly accounts = new Map<string, AccountZones>();
  private readonly callerReferences = new Map<string, string>();
  /** Public zones by name, newest first: the DNS server answers from the first. */
  private readonly servedZones = new Map<string, StoredZone[]>();
  /** Batches on one zone run one at a time: each validates against the state the previous one left. */
  private readonly zoneQueues = new KeyedLock();
  private readonly lastPrune = new Map<string, number>();
  private seq = 0;
  private readonly insync: PassedDelay;
  private readonly dnsVisibility: PassedDelay;
  private readonly observer: NodeJS.Timeout;

  private constructor(
    private readonly cloud: LocalCloud,
    private readonly zones: Collection<StoredZone>,
    private readonly rrsets: Collection<StoredRecordSet>,
    private readonly changes: Collection<StoredChange>,
  ) {
    const settings = cloud.settings;
    this.insync = new PassedDelay(() => settings.insyncDelayMs);
    this.dnsVisibility = new PassedDelay(() => settings.insyncDelayMs + settings.dnsLagMs);
    this.observer = setInterval(() => this.observeDelays(this.cloud.now().getTime()), OBSERVE_EVERY_MS);
    this.observer.unref();
  }

  close(): void {
    clearInterval(this.observer);
  }

  static async open(cloud: LocalCloud): Promise<Route53Model> {
    const [zones, rrsets, changes] = await Promise.all([
      cloud.store.collection<StoredZone>('route53/zones'),
      cloud.store.collection<StoredRecordSet>('route53/rrsets'),
      cloud.store.collection<StoredChange>('route53/changes'),
    ]);
    const model = new Route53Model(cloud, zones, rrsets, changes);
    try {
      await model.load();
    } catch (err) {
      model.close();
      throw err;
    }
    return model;
  }

  private async load(): Promise<void> {
    for (const id of this.zones.keys()) this.indexZone(this.zones.get(id)!);
    const writes: Promise<unknown>[] = [];
    for (const key of this.rrsets.keys()) {
      const rs = this.rrsets.get(key)!;
      const records = this.records.get(rs.zoneId);
      if (records) records.set(rs.name, rs.type, strip(rs));
      else writes.push(this.rrsets.delete(key)); // left by a crash during DeleteHostedZone
    }

    const now = this.cloud.now().getTime();
    const latest = new Map<string, StoredChange>();
    const recent: StoredChange[] = [];
    for (const id of this.changes.keys()) {
      const change = this.changes.get(id)!;
      this.seq = Math.max(this.seq, change.seq);
      if (change.insyncThrough !== undefined) this.insync.restore(change.insyncThrough);
      if (change.visibleThrough !== undefined) this.dnsVisibility.restore(change.visibleThrough);
      if (!this.records.has(change.zoneId)) continue;
      if ((latest.get(change.zoneId)?.seq ?? -1) < change.seq) latest.set(change.zoneId, change);
      if (change.kind === 'ChangeResourceRecordSets' && Date.parse(change.submittedAt) > now - HISTORY_HORIZON_MS) recent.push(change);
    }
    for (const change of latest.values()) {
      const records = this.records.get(change.zoneId)!;
      for (const { name, type, after } of change.rrsets) {
        if (!sameRecordSet(records.current(name, type), after)) writes.push(this.persist(change.zoneId, name, type, after, records));
      }
    }
    // Rebuild the DNS view's history: replay recent changes' "before" values in order, onto the current values.
    recent.sort((a, b) => a.seq - b.seq);
    for (const change of recent) {
      const records = this.records.get(change.zoneId)!;
      const at = Date.parse(change.submittedAt);
      for (const { name, type, before } of change.rrsets) records.recordHistory(name, type, at, before);
    }
    // A zone written by a crash before its SOA and NS still gets them.
    for (const id of this.zones.keys()) {
      const zone = this.zones.get(id)!;
      for (const rs of defaultRecordSets(zone)) {
        if (!this.records.get(id)!.current(rs.name, rs.type)) writes.push(this.persist(id, rs.name, rs.type, rs, this.records.get(id)!));
      }
    }
    await Promise.all(writes);
  }

  // ---- hosted zones -------------------------------------------------------

  async createHostedZone(
    accountId: string,
    input: { name: string; callerReference: string; comment?: string; privateZone: boolean },
  ): Promise<{ zone: StoredZone; change: StoredChange }> {
    let name: string;
    try {
      name = normalizeName(input.name);
    } catch (err) {
      if (!(err instanceof InvalidNameError)) throw err;
      throw new AwsError('InvalidDomainName', `${input.name} is not a valid domain name: ${err.message}`);
    }
    const refKey = `${accountId} ${input.callerReference}`;
    if (this.callerReferences.has(refKey)) {
      throw new AwsError(
        'HostedZoneAlreadyExists',
        `A hosted zone has already been created with the specified caller reference.`,
        409,
      );
    }
    const now = this.cloud.now();
    const zone: StoredZone = {
      id: newId('Z'),
      accountId,
      name,
      callerReference: input.callerReference,
      ...(input.comment !== undefined ? { comment: input.comment } : {}),
      privateZone: input.privateZone,
      createdAt: now.toISOString(),
      nameServers: [withDot(this.cloud.settings.nameserver).slice(0, -1)],
    };
    const initial = defaultRecordSets(zone);
    const change: StoredChange = {
      id: newId('C'),
      accountId,
      zoneId: zone.id,
      seq: ++this.seq,
      submittedAt: now.toISOString(),
      kind: 'CreateHostedZone',
      rrsets: initial.map((rs) => ({ name: rs.name, type: rs.type, before: null, after: rs })),
    };
    this.indexZone(zone);
    const records = this.records.get(zone.id)!;
    for (const rs of initial) records.set(rs.name, rs.type, rs); // the zone never shows without its SOA and NS
    await Promise.all([this.zones.put(zone.id, zone), this.changes.put(change.id, change)]);
    await Promise.all(initial.map((rs) => this.persist(zone.id, rs.name, rs.type, rs, records)));
    return { zone, change };
  }

  /** The zone, if it exists in this account; NoSuchHostedZone otherwise. */
  zone(accountId: string, id: string): StoredZone {
    const zone = this.zones.get(id);
    if (!zone || zone.accountId !== accountId) throw new AwsError('NoSuchHostedZone', `No hosted zone found with ID: ${id}`, 404);
    return zone;
  }

  recordSetCount(zoneId: string): number {
    return this.records.get(zoneId)?.size ?? 0;
  }

  async deleteHostedZone(accountId: string, id: string): Promise<StoredChange> {
    return this.zoneQueues.run(id, async () => {
      const zone = this.zone(accountId, id);
      const records = this.records.get(id)!;
      const required = new Set(['SOA', 'NS']);
      if (records.all().some((rs) => rs.name !== zone.name || !required.has(rs.type))) {
        throw new AwsError(
          'HostedZoneNotEmpty',
          'The specified hosted zone contains non-required resource record sets and so cannot be deleted.',
          400,
        );
      }
      const now = this.cloud.now();
      const change: StoredChange = {
        id: newId('C'),
        accountId,
        zoneId: id,
        seq: ++this.seq,
        submittedAt: now.toISOString(),
        kind: 'DeleteHostedZone',
        rrsets: records.all().map((rs) => ({ name: rs.name, type: rs.type, before: rs, after: null })),
      };
      this.unindexZone(zone);
      await this.zones.delete(id);
      await Promise.all(change.rrsets.map((c) => this.rrsets.delete(recordKey(id, c.name, c.type))));
      await this.changes.put(change.id, change);
      return change;
    });
  }

  /** Zones of the account ordered by id, from `marker` on. */
  listZones(accountId: string, marker: string | undefined, maxItems: number): { zones: StoredZone[]; nextMarker?: string } {
    const index = this.accounts.get(accountId)?.byId;
    if (!index) return { zones: [] };
    const start = marker === undefined ? 0 : index.lowerBound(marker);
    const zones: StoredZone[] = [];
    for (let i = start; i < index.length && zones.length < maxItems; i++) zones.push(this.zones.get(index.at(i)!)!);
    const next = index.at(start + zones.length);
    return next === undefined ? { zones } : { zones, nextMarker: next };
  }

  /** Zones of the account ordered by reversed name then id, from (`dnsName`, `zoneId`) on. */
  listZonesByName(
    accountId: string,
    dnsName: string | undefined,
    zoneId: string | undefined,
    maxItems: number,
  ): { zones: StoredZone[]; next?: { dnsName: string; zoneId: string } } {
    const index = this.accounts.get(accountId);
    if (!index) return { zones: [] };
    let start = 0;
    if (dnsName !== undefined) {
      let normalized: string;
      try {
        normalized = normalizeName(dnsName);
      } catch (err) {
        if (!(err instanceof InvalidNameError)) throw err;
        throw new AwsError('InvalidDomainName', `${dnsName} is not a valid domain name: ${err.message}`);
      }
      start = index.byName.lowerBound(zoneSortKey(normalized, zoneId ?? ''));
    }
    const zones: StoredZone[] = [];
    for (let i = start; i < index.byName.length && zones.length < maxItems; i++) {
      zones.push(this.zones.get(index.idByNameKey.get(index.byName.at(i)!)!)!);
    }
    const nextKey = index.byName.at(start + zones.length);
    if (nextKey === undefined) return { zones };
    const next = this.zones.get(index.idByNameKey.get(nextKey)!)!;
    return { zones, next: { dnsName: next.name, zoneId: next.id } };
  }

  // ---- record sets and changes -------------------------------------------

  async changeRecordSets(accountId: string, zoneId: string, inputs: readonly ChangeInput[], comment?: string): Promise<StoredChange> {
    this.zone(accountId, zoneId);
    return this.zoneQueues.run(zoneId, async () => {
      const zone = this.zone(accountId, zoneId); // it may have been deleted while this batch waited
      const records = this.records.get(zoneId)!;
      const plan = planBatch(zone.name, records, inputs);
      if (plan.messages.length) throw new AwsError('InvalidChangeBatch', `[${plan.messages.join(', ')}]`);
      const now = this.cloud.now();
      const change: StoredChange = {
        id: newId('C'),
        accountId,
        zoneId,
        seq: ++this.seq,
        submittedAt: now.toISOString(),
        ...(comment !== undefined ? { comment } : {}),
        kind: 'ChangeResourceRecordSets',
        rrsets: plan.changes,
        ...this.observeDelays(now.getTime()),
      };
      await this.changes.put(change.id, change);
      const at = now.getTime();
      await Promise.all(plan.changes.map((c) => this.persist(zoneId, c.name, c.type, c.after, records, at)));
      this.pruneHistory(zoneId, at);
      return change;
    });
  }

  listRecordSets(
    zoneId: string,
    startName: string | undefined,
    startType: string | undefined,
    maxItems: number,
  ): { rrsets: RecordSet[]; next?: { name: string; type: string } } {
    const records = this.records.get(zoneId);
    if (!records) return { rrsets: [] };
    let start: string | undefined;
    if (startName !== undefined) {
      try {
        start = normalizeName(startName);
      } catch (err) {
        if (!(err instanceof InvalidNameError)) throw err;
        throw new AwsError('InvalidInput', `Invalid name: ${startName}`);
      }
    }
    const rrsets: RecordSet[] = [];
    for (const rs of records.listFrom(start, startType ?? '')) {
      if (rrsets.length === maxItems) return { rrsets, next: { name: rs.name, type: rs.type } };
      rrsets.push(rs);
    }
    return { rrsets };
  }

  change(accountId: string, id: string): StoredChange {
    const change = this.changes.get(id);
    if (!change || change.accountId !== accountId) {
      throw new AwsError('NoSuchChange', `A change with the specified change ID does not exist.`, 404);
    }
    return change;
  }

  /** PENDING until the insync delay (read now, so tests can change it) has passed since submission. */
  changeStatus(change: StoredChange): 'PENDING' | 'INSYNC' {
    return this.insync.passed(Date.parse(change.submittedAt), this.cloud.now().getTime()) ? 'INSYNC' : 'PENDING';
  }

  // ---- the DNS view ------------------------------------------------------

  /**
   * What the authoritative DNS server shows for `name` at `now`. Account-agnostic:
   * it serves the public zones of every account; when several zones have the same
   * name, the most recently created one answers (as if its delegation were the live one).
   */
  lookup(name: string, now: Date): DnsLookup {
    let qname: string;
    try {
      qname = normalizeName(name);
    } catch {
      return { rrsets: [], nxdomain: false };
    }
    const zone = this.servingZone(qname);
    if (!zone) return { rrsets: [], nxdomain: false };
    const records = this.records.get(zone.id)!;
    const clock: VisibilityClock = {
      visibleThrough: this.observeDelays(now.getTime()).visibleThrough,
      hiddenTxtNames: new Set(this.cloud.settings.dnsHiddenNames.map((n) => safeNormalize(n)).filter((n): n is string => !!n)),
    };
    const soa = records.visibleAt(zone.name, clock).find((rs) => rs.type === 'SOA');
    const zoneInfo = { id: zone.id, name: zone.name, ...(soa ? { soa } : {}) };

    // A delegation on the way down from the apex hands the name to other servers.
    for (const cut of namesBetween(zone.name, qname)) {
      const ns = records.visibleAt(cut, clock).find((rs) => rs.type === 'NS');
      if (ns) return { zone: zoneInfo, rrsets: [], nxdomain: false, delegation: ns };
    }

    const here = records.visibleAt(qname, clock);
    if (here.length) return { zone: zoneInfo, rrsets: here, nxdomain: false };
    if (records.hasVisibleBelow(qname, clock)) return { zone: zoneInfo, rrsets: [], nxdomain: false };

    // RFC 4592: a wildcard directly below the closest existing ancestor answers for the name.
    for (let encloser = parentOf(qname); encloser && isWithin(encloser, zone.name); encloser = parentOf(encloser)) {
      const wildcard = `\\052.${encloser}`;
      const synthesized = records.visibleAt(wildcard, clock);
      if (synthesized.length) {
        return { zone: zoneInfo, rrsets: synthesized.map((rs) => ({ ...rs, name: qname })), nxdomain: false, wildcard };
      }
      if (records.visibleAt(encloser, clock).length || records.hasVisibleBelow(encloser, clock)) break;
    }
    return { zone: zoneInfo, rrsets: [], nxdomain: true };
  }

  private servingZone(qname: string): StoredZone | undefined {
    for (let candidate: string | undefined = qname; candidate; candidate = parentOf(candidate)) {
      const zones = this.servedZones.get(candidate);
      if (zones?.length) return zones[0];
    }
    return undefined;
  }

  // ---- internals ---------------------------------------------------------

  private observeDelays(now: number): { insyncThrough: number; visibleThrough: number } {
    return { insyncThrough: this.insync.observe(now), visibleThrough: this.dnsVisibility.observe(now) };
  }

  private indexZone(zone: StoredZone): void {
    this.records.set(zone.id, new ZoneRecords());
    let account = this.accounts.get(zone.accountId);
    if (!account) {
      account = { byId: new SortedKeys(), byName: new SortedKeys(), idByNameKey: new Map() };
      this.accounts.set(zone.accountId, account);
    }
    account.byId.insert(zone.id);
    const nameKey = zoneSortKey(zone.name, zone.id);
    account.byName.insert(nameKey);
    account.idByNameKey.set(nameKey, zone.id);
    this.callerReferences.set(`${zone.accountId} ${zone.callerReference}`, zone.id);
    if (!zone.privateZone) {
      const served = [...(this.servedZones.get(zone.name) ?? []), zone];
      served.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
      this.servedZones.set(zone.name, served);
    }
  }

  private unindexZone(zone: StoredZone): void {
    this.records.delete(zone.id);
    const account = this.accounts.get(zone.accountId);
    if (account) {
      account.byId.remove(zone.id);
      const nameKey = zoneSortKey(zone.name, zone.id);
      account.byName.remove(nameKey);
      account.idByNameKey.delete(nameKey);
    }
    this.callerReferences.delete(`${zone.accountId} ${zone.callerReference}`);
    const served = (this.servedZones.get(zone.name) ?? []).filter((z) => z.id !== zone.id);
    if (served.length) this.servedZones.set(zone.name, served);
    else this.servedZones.delete(zone.name);
  }

  /** Sets a record set in memory (at once) and on disk. */
  private persist(zoneId: string, name: string, type: string, value: RecordSet | null, records: ZoneRecords, submittedAt?: number) {
    records.set(name, type, value, submittedAt);
    const key = recordKey(zoneId, name, type);
    return value ? this.rrsets.put(key, { ...value, zoneId }) : this.rrsets.delete(key);
  }

  private pruneHistory(zoneId: string, now: number): void {
    if (now - (this.lastPrune.get(zoneId) ?? 0) < PRUNE_EVERY_MS) return;
    this.lastPrune.set(zoneId, now);
    const delay = this.cloud.settings.insyncDelayMs + this.cloud.settings.dnsLagMs;
    this.records.get(zoneId)?.prune(now, Math.max(HISTORY_HORIZON_MS, 2 * delay));
  }

}

function defaultRecordSets(zone: StoredZone): RecordSet[] {
  const primary = zone.nameServers[0] ?? 'ns1.certpipe.localhost';
  return [
    { name: zone.name, type: 'NS', ttl: NS_TTL, values: zone.nameServers.map(withDot) },
    { name: zone.name, type: 'SOA', ttl: SOA_TTL, values: [soaValue(primary)] },
  ];
}

function strip({ zoneId: _zoneId, ...rs }: StoredRecordSet): RecordSet {
  return rs;
}

function safeNormalize(name: string): string | undefined {
  try {
    return normalizeName(name);
  } catch {
    return undefined;
  }
}

/** Names strictly below `zone` down to and including `name`, top-down. */
function namesBetween(zone: string, name: string): string[] {
  const names: string[] = [];
  for (let n: string | undefined = name; n && n !== zone && isWithin(n, zone); n = parentOf(n)) names.unshift(n);
  return names;
}
