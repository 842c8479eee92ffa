// Follows an execution's history as it grows and says, in one line each, when a
// certificate moves to another step (place, dns, finalize, publish, cleanup) or
// ends, with the running count. Pure: history events in, lines out.
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { STEP_COLUMNS } from '../report.js';
import { rehearsedName } from '../../functions/lib/gate/rehearsal.js';

type Step = keyof typeof STEP_COLUMNS;
type Outcome = 'renewed' | 'failed' | 'deferred';

const STEP_OF = new Map<string, Step>(
  (Object.entries(STEP_COLUMNS) as [Step, readonly string[]][]).flatMap(([step, states]) => states.map((s) => [s, step] as const)),
);

function parse(json: string | undefined): any {
  try {
    return json ? JSON.parse(json) : undefined;
  } catch {
    return undefined;
  }
}

export interface ProgressCounts {
  /** Certificates CheckExpiry found due; undefined until it has run. */
  due?: number;
  renewed: number;
  failed: number;
  deferred: number;
}

/** `12/50 renewed, 1 failed` (the due count is `?` until CheckExpiry has answered). */
export function countsText(c: ProgressCounts): string {
  return [`${c.renewed}/${c.due ?? '?'} renewed`, ...(c.failed ? [`${c.failed} failed`] : []), ...(c.deferred ? [`${c.deferred} deferred`] : [])].join(', ');
}

export class ExecutionTracker {
  readonly counts: ProgressCounts = { renewed: 0, failed: 0, deferred: 0 };
  private readonly stepOf = new Map<string, Step>();
  private readonly ended = new Set<string>();

  /** The lines this event is worth (usually none or one). */
  observe(event: HistoryEvent): string[] {
    const entered = event.stateEnteredEventDetails;
    if (entered?.name) {
      const step = STEP_OF.get(entered.name);
      const cert = parse(entered.input)?.name;
      // The staging gate's turn (statemachines/renewal.asl.json): the rehearsal passed, production is next.
      if (entered.name === 'OrderFromProduction' && typeof cert === 'string') {
        return [`${rehearsedName(cert) ?? cert}: staging passed, ordering from production  [${countsText(this.counts)}]`];
      }
      if (!step || typeof cert !== 'string' || this.stepOf.get(cert) === step || this.ended.has(cert)) return [];
      this.stepOf.set(cert, step);
      return [`${cert}: ${step}  [${countsText(this.counts)}]`];
    }
    const exited = event.stateExitedEventDetails;
    if (!exited?.name) return [];
    const output = parse(exited.output);
    if (exited.name === 'CheckExpiry') {
      const check = output?.check ?? output;
      const due: { name: string; reason: string }[] = check?.due ?? [];
      const skipped: { name: string; reason: string }[] = check?.skipped ?? [];
      // The listed due certificates are the first of them; dueCount is all.
      const dueCount: number = typeof check?.dueCount === 'number' ? check.dueCount : due.length;
      this.counts.due = dueCount;
      const more = dueCount > due.length ? ` and ${dueCount - due.length} more` : '';
      return [
        `due: ${due.map((d) => `${d.name} (${d.reason})`).join(', ') || 'none'}${more}` +
          (skipped.length ? `; skipped: ${skipped.length === 1 ? `${skipped[0]!.name} (${skipped[0]!.reason})` : `${skipped.length}`}` : ''),
      ];
    }
    const cert = output?.name;
    const outcome = output?.outcome as Outcome | undefined;
    if (typeof cert !== 'string' || !outcome || !['renewed', 'failed', 'deferred'].includes(outcome) || this.ended.has(cert)) return [];
    this.ended.add(cert);
    this.counts[outcome] += 1;
    const why = outcome === 'renewed' ? '' : ` (${output.error ?? output.reason ?? 'error'})`;
    return [`${cert}: ${outcome}${why}  [${countsText(this.counts)}]`];
  }
}
