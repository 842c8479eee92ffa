// The record sets of one hosted zone, in Route 53's list order, each with the
// recent changes that touched it. The API reads the current state; the DNS
// server reads the state in which only changes past insync delay + DNS lag
// show, and until then the value each change replaced answers.
import { descendantPrefix, recordSortKey } from './names.js';
import type { RecordSet } from './records.js';
import { SortedKeys } from './sorted-keys.js';

interface HistoryEntry {
  /** Epoch ms the change was submitted. */
  readonly submittedAt: number;
  /** The value this change replaced (null: the set did not exist). */
  readonly before: RecordSet | null;
}

interface Slot {
  readonly name: string;
  readonly type: string;
  current: RecordSet | null;
  /** Oldest first. A slot with no current value stays while it has history (a deletion not yet visible). */
  history: HistoryEntry[];
}

/** What the DNS view is asked for: which changes show by now, which TXT names never show. */
export interface VisibilityClock {
  /** Changes submitted at or before this (epoch ms) show. */
  readonly visibleThrough: number;
  /** Normalized names whose TXT record sets never show. */
  readonly hiddenTxtNames: ReadonlySet<string>;
}

export class ZoneRecords {
  private readonly order = new SortedKeys();
  private readonly slots = new Map<string, Slot>();
  private live = 0;

  /** Number of record sets that currently exist (ResourceRecordSetCount). */
  get size(): number {
    return this.live;
  }

  current(name: string, type: string): RecordSet | null {
    return this.slots.get(recordSortKey(name, type))?.current ?? null;
  }

  /** Current record sets at exactly `name`, all types. */
  currentAt(name: string): RecordSet[] {
    const found: RecordSet[] = [];
    for (const key of this.order.withPrefix(namePrefix(name))) {
      const current = this.slots.get(key)!.current;
      if (current) found.push(current);
    }
    return found;
  }

  /** Sets `name`/`type` to `value` (null deletes). `submittedAt` records the change for the DNS view; omit it to show at once. */
  set(name: string, type: string, value: RecordSet | null, submittedAt?: number): void {
    const key = recordSortKey(name, type);
    let slot = this.slots.get(key);
    if (!slot) {
      if (!value && submittedAt === undefined) return;
      slot = { name, type, current: null, history: [] };
      this.slots.set(key, slot);
      this.order.insert(key);
    }
    if (submittedAt !== undefined) slot.history.push({ submittedAt, before: slot.current });
    if (slot.current && !value) this.live--;
    if (!slot.current && value) this.live++;
    slot.current = value;
    if (!slot.current && slot.history.length === 0) this.drop(key);
  }

  /** Adds a past change to the DNS view's history without touching the current value (rebuilding after a restart). */
  recordHistory(name: string, type: string, submittedAt: number, before: RecordSet | null): void {
    const key = recordSortKey(name, type);
    let slot = this.slots.get(key);
    if (!slot) {
      slot = { name, type, current: null, history: [] };
      this.slots.set(key, slot);
      this.order.insert(key);
    }
    slot.history.push({ submittedAt, before });
  }

  /** Current record sets from (`name`, `type`) on, in list order; `type` '' starts at the name's first type. */
  *listFrom(name: string | undefined, type = ''): Generator<RecordSet> {
    const start = name === undefined ? 0 : this.order.lowerBound(recordSortKey(name, type));
    for (let i = start; i < this.order.length; i++) {
      const current = this.slots.get(this.order.at(i)!)!.current;
      if (current) yield current;
    }
  }

  /** All current record sets (for deletion checks and recovery). */
  all(): RecordSet[] {
    return [...this.listFrom(undefined)];
  }

  /** Record sets the DNS server shows at exactly `name`. */
  visibleAt(name: string, clock: VisibilityClock): RecordSet[] {
    const found: RecordSet[] = [];
    for (const key of this.order.withPrefix(namePrefix(name))) {
      const value = visible(this.slots.get(key)!, clock);
      if (value) found.push(value);
    }
    return found;
  }

  /** True when the DNS server shows any record set strictly below `name` (so `name` exists, maybe as an empty non-terminal). */
  hasVisibleBelow(name: string, clock: VisibilityClock): boolean {
    for (const key of this.order.withPrefix(descendantPrefix(name))) {
      if (visible(this.slots.get(key)!, clock)) return true;
    }
    return false;
  }

  /** Forget history older than `horizonMs` (it can no longer change what the DNS server shows). */
  prune(now: number, horizonMs: number): void {
    const stale: string[] = [];
    for (const [key, slot] of this.slots) {
      if (slot.history.length && slot.history[0]!.submittedAt < now - horizonMs) {
        slot.history = slot.history.filter((h) => h.submittedAt >= now - horizonMs);
      }
      if (!slot.current && slot.history.length === 0) stale.push(key);
    }
    for (const key of stale) this.drop(key);
  }

  private drop(key: string): void {
    this.slots.delete(key);
    this.order.remove(key);
  }
}

function namePrefix(name: string): string {
  return recordSortKey(name, '');
}

function visible(slot: Slot, clock: VisibilityClock): RecordSet | null {
  // Visibility follows submission order, so the first change still hidden
  // holds the value the DNS server shows: the one it replaced.
  const pending = slot.history.find((h) => h.submittedAt > clock.visibleThrough);
  const value = pending ? pending.before : slot.current;
  if (value && value.type === 'TXT' && clock.hiddenTxtNames.has(value.name)) return null;
  return value;
}
