// Plans a ChangeResourceRecordSets batch the way Route 53 does: the changes
// apply in order to a working copy, every problem is collected, and either all
// of them apply (no messages) or none does.
import { InvalidNameError, isWithin, normalizeName } from './names.js';
import { sameRecordSet, valueProblem, type RecordSet } from './records.js';
import type { ZoneRecords } from './zone-records.js';

export type ChangeAction = 'CREATE' | 'DELETE' | 'UPSERT';

export interface ChangeInput {
  readonly action: ChangeAction;
  /** Name as the caller wrote it; normalized here. */
  readonly name: string;
  readonly type: string;
  readonly ttl: number;
  readonly values: readonly string[];
}

export interface PlannedChange {
  readonly name: string;
  readonly type: string;
  readonly before: RecordSet | null;
  readonly after: RecordSet | null;
}

export interface BatchPlan {
  /** InvalidChangeBatch messages; empty when the batch can apply. */
  readonly messages: string[];
  /** Final value of every record set the batch touches, in first-touched order. */
  readonly changes: PlannedChange[];
}

/** Route 53's limit on ResourceRecord elements in one request (an UPSERT's count twice). */
export const MAX_RECORDS_PER_BATCH = 1000;
/** Route 53's limit on the characters of all Value elements in one request (an UPSERT's count twice). */
export const MAX_VALUE_CHARACTERS_PER_BATCH = 32_000;

/** What a request costs against Route 53's per-request limits: an UPSERT is a DELETE plus a CREATE. */
function batchSize(inputs: readonly ChangeInput[]): { records: number; characters: number } {
  let records = 0;
  let characters = 0;
  for (const input of inputs) {
    const weight = input.action === 'UPSERT' ? 2 : 1;
    records += weight * input.values.length;
    characters += weight * input.values.reduce((n, v) => n + v.length, 0);
  }
  return { records, characters };
}

/**
 * Record sets a batch changes more than once. Route 53 allows one change per set
 * and request, except a DELETE followed by a CREATE (the way to replace a set
 * before UPSERT existed).
 */
function changedTwice(inputs: readonly ChangeInput[], normalize: (name: string) => string | undefined): string[] {
  const actions = new Map<string, ChangeAction[]>();
  for (const input of inputs) {
    const name = normalize(input.name);
    if (name === undefined) continue;
    const key = `${input.type} ${name}`;
    actions.set(key, [...(actions.get(key) ?? []), input.action]);
  }
  return [...actions]
    .filter(([, seen]) => seen.length > 1 && !(seen.length === 2 && seen[0] === 'DELETE' && seen[1] === 'CREATE'))
    .map(([key]) => key);
}

export function planBatch(zoneName: string, records: ZoneRecords, inputs: readonly ChangeInput[]): BatchPlan {
  const messages: string[] = [];
  const working = new Map<string, { name: string; type: string; value: RecordSet | null }>();
  const keyOf = (name: string, type: string) => `${name} ${type}`;
  const valueOf = (name: string, type: string) => {
    const staged = working.get(keyOf(name, type));
    return staged ? staged.value : records.current(name, type);
  };
  const typesAt = (name: string) => {
    const types = new Set(records.currentAt(name).map((r) => r.type));
    for (const staged of working.values()) {
      if (staged.name !== name) continue;
      if (staged.value) types.add(staged.type);
      else types.delete(staged.type);
    }
    return types;
  };

  const size = batchSize(inputs);
  if (size.records > MAX_RECORDS_PER_BATCH) return { messages: [`Number of records limit of ${MAX_RECORDS_PER_BATCH} exceeded.`], changes: [] };
  if (size.characters > MAX_VALUE_CHARACTERS_PER_BATCH) {
    return { messages: [`RDATA character limit of ${MAX_VALUE_CHARACTERS_PER_BATCH} exceeded.`], changes: [] };
  }
  const twice = changedTwice(inputs, (name) => {
    try {
      return normalizeName(name);
    } catch {
      return undefined;
    }
  });
  if (twice.length) {
    return { messages: twice.map((key) => `The request contains an invalid set of changes for a resource record set '${key}'`), changes: [] };
  }

  for (const input of inputs) {
    let name: string;
    try {
      name = normalizeName(input.name);
    } catch (err) {
      if (!(err instanceof InvalidNameError)) throw err;
      messages.push(`Invalid Resource Record: 'FATAL problem: DomainNameInvalid (${err.message}) encountered with '${input.name}''`);
      continue;
    }
    const { type } = input;
    const where = `[name='${name}', type='${type}']`;
    if (!isWithin(name, zoneName)) {
      messages.push(`RRSet with DNS name ${name} is not permitted in zone ${zoneName}`);
      continue;
    }
    const problems = input.values.map((v) => valueProblem(type, v)).filter((p): p is string => p !== undefined);
    const duplicate = input.values.find((v, i) => input.values.indexOf(v) !== i);
    if (duplicate !== undefined) problems.push(`Duplicate Resource Record: '${duplicate}'`);
    if (problems.length) {
      messages.push(...problems);
      continue;
    }

    const proposed: RecordSet = { name, type, ttl: input.ttl, values: [...input.values] };
    const existing = valueOf(name, type);
    const atApex = name === zoneName;

    if (input.action === 'DELETE') {
      if (!existing) messages.push(`Tried to delete resource record set ${where} but it was not found`);
      else if (!sameRecordSet(existing, proposed)) {
        messages.push(`Tried to delete resource record set ${where} but the values provided do not match the current values`);
      } else if (atApex && type === 'SOA') messages.push('A HostedZone must contain exactly one SOA record.');
      else if (atApex && type === 'NS') messages.push('A HostedZone must contain at least one NS record for the zone itself.');
      else working.set(keyOf(name, type), { name, type, value: null });
      continue;
    }

    if (input.action === 'CREATE' && existing) {
      messages.push(`Tried to create resource record set ${where} but it already exists`);
      continue;
    }
    const conflict = placementProblem(proposed, zoneName, typesAt(name));
    if (conflict) {
      messages.push(conflict);
      continue;
    }
    working.set(keyOf(name, type), { name, type, value: proposed });
  }

  if (messages.length) return { messages, changes: [] };
  const changes = [...working.values()].map(({ name, type, value }) => ({
    name,
    type,
    before: records.current(name, type),
    after: value,
  }));
  return { messages, changes };
}

/** Where a record set may not go: CNAME beside other types or at the apex, SOA away from the apex, single-valued types. */
function placementProblem(rs: RecordSet, zoneName: string, typesAtName: ReadonlySet<string>): string | undefined {
  const atApex = rs.name === zoneName;
  if (rs.type === 'CNAME' && atApex) return `RRSet of type CNAME with DNS name ${rs.name} is not permitted at apex in zone ${zoneName}`;
  if (rs.type === 'SOA' && !atApex) return `RRSet of type SOA with DNS name ${rs.name} is not permitted because SOA records are only allowed at the zone apex`;
  if ((rs.type === 'CNAME' || rs.type === 'SOA') && rs.values.length !== 1) {
    return `RRSet of type ${rs.type} with DNS name ${rs.name} is not permitted because it may contain only one resource record`;
  }
  const others = [...typesAtName].filter((t) => t !== rs.type);
  const conflicting = rs.type === 'CNAME' ? others[0] : others.find((t) => t === 'CNAME');
  if (conflicting) {
    return `RRSet of type ${rs.type} with DNS name ${rs.name} is not permitted because a conflicting RRSet of type ${conflicting} with the same DNS name already exists in zone ${zoneName}`;
  }
  return undefined;
}
