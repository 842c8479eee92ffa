// Persistent resource store for the local cloud. Each resource is one file,
// written to a temporary name and renamed into place, so a write costs the same
// whatever the collection's size and a crash never leaves half-written state.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { KeyedLock } from './lock.js';
import type { Collection, LocalStore } from './types.js';

interface StoredRecord<T> {
  key: string;
  value: T;
}

function fileNameOf(key: string): string {
  return `${createHash('sha256').update(key).digest('hex').slice(0, 40)}.json`;
}

/** Index of the sorted keys, kept incrementally so pagination never sorts the whole set. */
function insertionIndex(sorted: string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

async function writeDurably(path: string, data: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(data, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
}

class FileCollection<T> implements Collection<T> {
  private readonly items = new Map<string, T>();
  private readonly sorted: string[] = [];
  /** Writes to one key happen in call order, so the last put always wins on disk. */
  private readonly writes = new KeyedLock();

  constructor(private readonly dir: string) {}

  async load(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const names = await readdir(this.dir);
    const loaded: string[] = [];
    await Promise.all(
      names.map(async (name) => {
        const path = join(this.dir, name);
        if (name.endsWith('.tmp')) {
          // Left behind by a crash before its rename: the previous version is intact.
          await rm(path, { force: true });
          return;
        }
        if (!name.endsWith('.json')) return;
        const record = JSON.parse(await readFile(path, 'utf8')) as StoredRecord<T>;
        this.items.set(record.key, record.value);
        loaded.push(record.key);
      }),
    );
    loaded.sort();
    this.sorted.push(...loaded);
  }

  get size(): number {
    return this.items.size;
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  has(key: string): boolean {
    return this.items.has(key);
  }

  keys(): string[] {
    return [...this.sorted];
  }

  keysFrom(from: string | undefined, limit: number): string[] {
    const start = from === undefined ? 0 : insertionIndex(this.sorted, from);
    return this.sorted.slice(start, start + limit);
  }

  put(key: string, value: T): Promise<void> {
    if (!this.items.has(key)) this.sorted.splice(insertionIndex(this.sorted, key), 0, key);
    this.items.set(key, value);
    const data = JSON.stringify({ key, value } satisfies StoredRecord<T>);
    return this.writes.run(key, () => writeDurably(join(this.dir, fileNameOf(key)), data));
  }

  async delete(key: string): Promise<boolean> {
    if (!this.items.has(key)) return false;
    this.items.delete(key);
    this.sorted.splice(insertionIndex(this.sorted, key), 1);
    await this.writes.run(key, () => rm(join(this.dir, fileNameOf(key)), { force: true }));
    return true;
  }

  async clear(): Promise<number> {
    const keys = this.keys();
    await Promise.all(keys.map((key) => this.delete(key)));
    return keys.length;
  }
}

export class FileStore implements LocalStore {
  private readonly collections = new Map<string, Promise<FileCollection<unknown>>>();

  constructor(readonly dataDir: string) {}

  collection<T>(name: string): Promise<Collection<T>> {
    if (!/^[A-Za-z0-9._/-]+$/.test(name) || name.split('/').includes('..')) {
      throw new Error(`Invalid collection name: ${name}`);
    }
    let opened = this.collections.get(name);
    if (!opened) {
      const collection = new FileCollection<unknown>(join(this.dataDir, 'state', name));
      opened = collection.load().then(() => collection);
      this.collections.set(name, opened);
    }
    return opened as Promise<Collection<T>>;
  }
}

