// Shows progress while it happens: on a terminal an ora spinner names what is
// running and finished steps stay above it; anywhere else (CI logs, pipes) plain
// lines, one per step, so a log reads the same story.
import ora, { type Ora } from 'ora';
import pc from 'picocolors';
import { fitLines } from '../layout.js';

/** Timing of one start-up phase (the local deploy reports synthesis, bundling and deploy through it). */
export interface PhaseTiming {
  /** The work was skipped because its result was still valid (a cached bundle, a running cloud). */
  readonly cached?: boolean;
  readonly ms: number;
}

export type PhaseListener = (name: string, timing: PhaseTiming) => void;

export interface ProgressReporter {
  /** Runs `work` as a named phase: a spinner while it runs, a line with its time when done. */
  phase<T>(label: string, work: () => Promise<T>, detail?: (result: T) => { text?: string; cached?: boolean }): Promise<T>;
  /** A phase some other module ran and timed. */
  readonly onPhase: PhaseListener;
  /** A line that stays (a certificate moved on). */
  line(text: string): void;
  /** What the spinner says now (terminal only). */
  status(text: string): void;
  stop(): void;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export function createReporter(
  stream: { write(text: string): unknown },
  options: { isTTY: boolean; color: boolean; /** Lines wrap to it (a warning is long); undefined = as they are. */ width?: number },
): ProgressReporter {
  const c = pc.createColors(options.color);
  // The spinner's persisted lines are indented by 2 (its symbol column).
  const fit = (text: string, indent: number) => fitLines([text], options.width === undefined ? undefined : options.width - indent, 2).join('\n' + ' '.repeat(indent));
  const done = (name: string, timing: PhaseTiming, text = '') =>
    `${name}${text ? ` ${text}` : ''}${timing.cached ? c.dim(' (cached)') : ''} ${c.dim(seconds(timing.ms))}`;

  if (!options.isTTY) {
    return {
      async phase(label, work, detail) {
        stream.write(`${label}…\n`);
        const started = Date.now();
        const result = await work();
        const d = detail?.(result) ?? {};
        stream.write(`✓ ${done(label, { ms: Date.now() - started, ...(d.cached ? { cached: true } : {}) }, d.text)}\n`);
        return result;
      },
      onPhase: (name, timing) => void stream.write(`✓ ${done(name, timing)}\n`),
      line: (text) => void stream.write(`${fit(text, 0)}\n`),
      status: () => {},
      stop: () => {},
    };
  }

  // A terminal is only ever process.stdout here (CliIO.isTTY says so); ora wants its stream type.
  const spinner: Ora = ora({ stream: stream as NodeJS.WritableStream, discardStdin: false });
  const persist = (symbol: string, text: string) => {
    const wasSpinning = spinner.isSpinning;
    const current = spinner.text;
    spinner.stopAndPersist({ symbol, text });
    if (wasSpinning) spinner.start(current);
  };
  return {
    async phase(label, work, detail) {
      spinner.start(`${label}…`);
      const started = Date.now();
      try {
        const result = await work();
        const d = detail?.(result) ?? {};
        spinner.succeed(done(label, { ms: Date.now() - started, ...(d.cached ? { cached: true } : {}) }, d.text));
        return result;
      } catch (err) {
        spinner.fail(`${label} failed after ${seconds(Date.now() - started)}`);
        throw err;
      }
    },
    onPhase: (name, timing) => persist(c.green('✔'), done(name, timing)),
    line: (text) => persist(' ', fit(text, 2)),
    status: (text) => {
      if (spinner.isSpinning) spinner.text = text;
      else spinner.start(text);
    },
    stop: () => void spinner.stop(),
  };
}
