// Output that fits the terminal: tables whose columns share the width (cells wrap
// on words, an over-long word is cut with "…"), and line blocks that wrap with a
// hanging indent. `--wide` turns the fitting off for whoever wants every detail.
import { stripVTControlCharacters } from 'node:util';
import Table from 'cli-table3';

/** The narrowest terminal we promise to fit; also the width of output that goes to a file or a CI log. */
export const MIN_COLUMNS = 80;

export interface Layout {
  /** Columns to fit; undefined = do not fit (`--wide`). */
  readonly width?: number;
  readonly color: boolean;
}

/** The width to fit: the terminal's when known (COLUMNS or the TTY), else 80; never below 80. */
export function terminalWidth(columns: number | undefined, env: NodeJS.ProcessEnv): number {
  const fromEnv = Number(env.COLUMNS);
  const known = columns ?? (Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : undefined);
  return Math.max(MIN_COLUMNS, known ?? MIN_COLUMNS);
}

export const visibleWidth = (text: string): number =>
  Math.max(0, ...stripVTControlCharacters(text).split('\n').map((line) => [...line].length));

/**
 * Column widths (padding included) that add up to at most `available`: a column
 * keeps its natural width when it can, the widest ones share what is left. The
 * `keep` columns (what a row is: its name, its time) are served first, up to
 * half the width together, so they are not the ones cut.
 */
export function shareWidth(natural: readonly number[], available: number, keep: readonly number[] = [], minimum = 6): number[] {
  if (natural.reduce((a, b) => a + b, 0) <= available) return [...natural];
  const widths = natural.map(() => 0);
  let left = available;
  let kept = Math.floor(available / 2);
  for (const i of keep) {
    widths[i] = Math.min(natural[i]!, kept);
    kept -= widths[i]!;
    left -= widths[i]!;
  }
  const order = natural
    .map((w, i) => [w, i] as const)
    .filter(([, i]) => !keep.includes(i))
    .sort((a, b) => a[0] - b[0]);
  order.forEach(([w, i], k) => {
    const share = Math.floor(left / (order.length - k));
    widths[i] = Math.max(Math.min(minimum, w), Math.min(w, share));
    left -= widths[i]!;
  });
  return widths;
}

/** A table fitted to `layout.width` (2 spaces of padding per cell, one border column between cells). */
export function fittedTable(head: readonly string[], rows: readonly (readonly string[])[], layout: Layout, keep: readonly number[] = [0]): string {
  const style = layout.color ? { head: ['cyan'] } : { head: [], border: [] };
  if (layout.width === undefined) {
    const table = new Table({ head: [...head], style });
    table.push(...rows.map((r) => [...r]));
    return table.toString();
  }
  const natural = head.map((h, i) => Math.max(visibleWidth(h), ...rows.map((r) => visibleWidth(r[i] ?? ''))) + 2);
  const colWidths = shareWidth(natural, layout.width - (head.length + 1), keep);
  const table = new Table({ head: [...head], style, colWidths, wordWrap: true });
  table.push(...rows.map((r) => [...r]));
  return table.toString();
}

/** Lines longer than the width wrap at a space when there is one, continuing under their own indent plus `hang`. */
export function fitLines(lines: readonly string[], width: number | undefined, hang = 4): string[] {
  if (width === undefined) return [...lines];
  return lines.flatMap((line) => {
    if (visibleWidth(line) <= width) return [line];
    const indent = ' '.repeat((line.match(/^ */)?.[0].length ?? 0) + hang);
    const out: string[] = [];
    let rest = line;
    while (visibleWidth(rest) > width) {
      const plain = stripVTControlCharacters(rest);
      const cut = plain.lastIndexOf(' ', width);
      const at = cut > indent.length ? cut : width;
      out.push(plain.slice(0, at).trimEnd());
      rest = indent + plain.slice(at).trimStart();
    }
    out.push(rest);
    return out;
  });
}
