// The decision log: recent calls and how IAM decided them, as
// `GET /_certpipe/iam/decisions` returns them, and the per-role report
// `certpipe iam report --local` prints (what each role used, what it was
// refused, and which statements nothing used: least-privilege candidates).
import type { NamedPolicy } from './evaluate.js';

export interface DecisionRecord {
  /** ISO-8601. */
  readonly time: string;
  /** The caller's ARN (an assumed-role session or an account root). */
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
  /** In audit mode a would-be denial is recorded as `denied` although the call went through. */
  readonly decision: 'allowed' | 'denied';
  /** The decisive statement, `<policy>#<Sid or index>`, when there is one. */
  readonly statement?: string;
}

/** Keeps the most recent `capacity` decisions; older ones fall off. */
export class DecisionLog {
  private readonly ring: DecisionRecord[] = [];
  private next = 0;

  constructor(readonly capacity = 5000) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error('DecisionLog capacity must be a positive integer');
  }

  record(entry: DecisionRecord): void {
    if (this.ring.length < this.capacity) this.ring.push(entry);
    else this.ring[this.next] = entry;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Oldest first. */
  list(): DecisionRecord[] {
    return this.ring.length < this.capacity ? [...this.ring] : [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
  }

  clear(): void {
    this.ring.length = 0;
    this.next = 0;
  }

  /** The body of `GET /_certpipe/iam/decisions`. */
  toJSON(): { decisions: DecisionRecord[] } {
    return { decisions: this.list() };
  }
}

export interface UsedAction {
  readonly action: string;
  readonly statement: string;
  readonly calls: number;
}

export interface DeniedAction {
  readonly action: string;
  readonly resource: string;
  readonly calls: number;
}

export interface RoleReport {
  readonly roleArn: string;
  readonly used: UsedAction[];
  readonly denied: DeniedAction[];
  /** Statements no recorded call was allowed by. */
  readonly unusedStatements: string[];
}

const SESSION = /^arn:([\w-]+):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/;

/** The role an assumed-role session belongs to; role ARNs with a path match by account and name, as session ARNs drop the path. */
function roleOf(principal: string, roleArns: readonly string[]): string | undefined {
  const session = SESSION.exec(principal);
  if (!session) return roleArns.includes(principal) ? principal : undefined;
  const [, , account, name] = session;
  return roleArns.find((arn) => arn.startsWith(`arn:`) && arn.split(':')[4] === account && arn.endsWith(`/${name}`));
}

/** Every statement of a role's policies, cited as decisions cite them. */
export function statementsOf(policies: readonly NamedPolicy[]): string[] {
  return policies.flatMap((p) => {
    const list = [p.document.Statement].flat() as Array<Record<string, unknown>>;
    return list.map((s, i) => `${p.name}#${typeof s.Sid === 'string' && s.Sid ? s.Sid : i}`);
  });
}

/** Per role (keyed by role ARN in `policies`): actions used and the statement that allowed each, denials, unused statements. */
export function iamReport(decisions: readonly DecisionRecord[], policies: Readonly<Record<string, readonly NamedPolicy[]>>): RoleReport[] {
  const roleArns = Object.keys(policies).sort();
  return roleArns.map((roleArn) => {
    const mine = decisions.filter((d) => roleOf(d.principal, roleArns) === roleArn);
    const used = new Map<string, UsedAction>();
    const denied = new Map<string, DeniedAction>();
    for (const d of mine) {
      if (d.decision === 'allowed') {
        const statement = d.statement ?? '?';
        const key = `${d.action}\n${statement}`;
        used.set(key, { action: d.action, statement, calls: (used.get(key)?.calls ?? 0) + 1 });
      } else {
        const key = `${d.action}\n${d.resource}`;
        denied.set(key, { action: d.action, resource: d.resource, calls: (denied.get(key)?.calls ?? 0) + 1 });
      }
    }
    const cited = new Set([...used.values()].map((u) => u.statement));
    const byAction = (a: { action: string }, b: { action: string }) => a.action.localeCompare(b.action);
    return {
      roleArn,
      used: [...used.values()].sort(byAction),
      denied: [...denied.values()].sort(byAction),
      unusedStatements: statementsOf(policies[roleArn] ?? []).filter((s) => !cited.has(s)),
    };
  });
}
