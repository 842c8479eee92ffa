// @cloud-copilot/iam-simulate is AGPL-3.0: the local cloud may use it, but no
// Lambda bundle or CDK construct may. Fails when a file under functions/ or
// infra/ imports it (or anything from local/aws/iam/, which does).
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? (e.name === 'node_modules' ? [] : sourceFiles(join(dir, e.name))) : /\.(ts|js|mjs|cjs)$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

const FORBIDDEN = /(['"])(@cloud-copilot\/iam-simulate|[./]*\/local\/aws\/iam\/[^'"]*)\1/;

describe('the AGPL evaluator stays in the local cloud', () => {
  it.each(['functions', 'infra'])('no file under %s/ imports @cloud-copilot/iam-simulate or the local IAM judge', (dir) => {
    const files = sourceFiles(join(ROOT, dir));
    expect(files.length).toBeGreaterThan(5);
    const offenders = files.filter((f) => FORBIDDEN.test(readFileSync(f, 'utf8'))).map((f) => relative(ROOT, f));
    expect(offenders).toEqual([]);
  });

  it('would catch one (the pattern matches an import of it)', () => {
    expect(FORBIDDEN.test(`import { runSimulation } from '@cloud-copilot/iam-simulate';`)).toBe(true);
    expect(FORBIDDEN.test(`import { evaluate } from '../../local/aws/iam/evaluate.js';`)).toBe(true);
  });
});
