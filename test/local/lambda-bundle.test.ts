// The local runtime reuses a function's bundle while none of its sources changed,
// so a second `npm start` does not rebuild seven bundles.
import { mkdtempSync, statSync, utimesSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleFunction } from '../../local/aws/services/lambda/bundle.js';

describe('bundleFunction', () => {
  const dir = mkdtempSync(join(tmpdir(), 'certpipe-bundle-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('rebuilds only when a source file changed', async () => {
    const entry = join(dir, 'handler.ts');
    const helper = join(dir, 'helper.ts');
    writeFileSync(helper, 'export const answer = 41;\n');
    writeFileSync(entry, "import { answer } from './helper.js';\nexport const handler = async () => answer;\n");
    const out = join(dir, 'out', 'fn.mjs');

    await bundleFunction(entry, out);
    const first = statSync(out).mtimeMs;
    await bundleFunction(entry, out);
    expect(statSync(out).mtimeMs).toBe(first);

    writeFileSync(helper, 'export const answer = 42;\n');
    const later = new Date(Date.now() + 2000);
    utimesSync(helper, later, later);
    await bundleFunction(entry, out);
    expect(statSync(out).mtimeMs).not.toBe(first);
    const mod = await import(`${out}?v=2`);
    expect(await mod.handler()).toBe(42);
  });
});
