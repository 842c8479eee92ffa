// Route 53's request rate per account: 5 requests per second, all operations together
// (the limit AWS has long documented; its newer token buckets are larger, so what
// passes here passes there). Over it, Route 53 answers HTTP 400 with Code
// `Throttling` and Message `Rate exceeded`, which the SDK retries as throttling.
import { AwsError } from '../../types.js';

/** A token bucket per account: `perSecond` tokens, refilled continuously; 0 = no limit. */
export class RequestRate {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly perSecond: () => number) {}

  /** Spend one request of `accountId` at `nowMs`, or throw Route 53's Throttling error. */
  take(accountId: string, nowMs: number): void {
    const rate = this.perSecond();
    if (!(rate > 0)) return;
    const bucket = this.buckets.get(accountId) ?? { tokens: rate, at: nowMs };
    bucket.tokens = Math.min(rate, bucket.tokens + ((nowMs - bucket.at) / 1000) * rate);
    bucket.at = nowMs;
    this.buckets.set(accountId, bucket);
    if (bucket.tokens < 1) throw new AwsError('Throttling', 'Rate exceeded', 400, 'Sender');
    bucket.tokens -= 1;
  }
}
