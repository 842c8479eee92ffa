// Which submissions are past a delay that operators and tests change at run
// time (insync delay, DNS lag). The delay is read when asked, so lowering it
// releases pending changes at once, but a change once past it stays past it:
// raising the delay later never turns INSYNC back into PENDING or hides a
// record the DNS server already showed.

export class PassedDelay {
  private passedThrough = -Infinity;

  constructor(private readonly delayMs: () => number) {}

  /** Latest submission time (epoch ms) that is past the delay as of `now`. */
  observe(now: number): number {
    this.passedThrough = Math.max(this.passedThrough, now - this.delayMs());
    return this.passedThrough;
  }

  passed(submittedAt: number, now: number): boolean {
    return submittedAt <= this.observe(now);
  }

  /** Raise the floor (e.g. to what a stored change recorded before a restart). */
  restore(passedThrough: number): void {
    this.passedThrough = Math.max(this.passedThrough, passedThrough);
  }
}
