// How the local endpoint applies IAM decisions (CERTPIPE_IAM). Enforce is the
// default everywhere so that a green local run means the deployed policies allow it.

export type IamMode = 'enforce' | 'audit' | 'off';

const MODES: readonly IamMode[] = ['enforce', 'audit', 'off'];

/**
 * `enforce` refuses what AWS would refuse; `audit` allows it but records the
 * would-be denial; `off` skips evaluation (debugging only). Unset or empty is
 * `enforce`; anything else is refused rather than silently weakened.
 */
export function parseIamMode(raw: string | undefined): IamMode {
  const value = (raw ?? '').trim().toLowerCase();
  if (value === '') return 'enforce';
  if ((MODES as readonly string[]).includes(value)) return value as IamMode;
  throw new Error(`CERTPIPE_IAM must be one of ${MODES.join(', ')} (got ${JSON.stringify(raw)})`);
}

/** Whether a denied call goes through: only in audit (recorded) and off (not evaluated). */
export function refuses(mode: IamMode, decision: 'allowed' | 'denied'): boolean {
  return mode === 'enforce' && decision === 'denied';
}
