// Messages between a function's warm worker (bootstrap.ts) and the endpoint (warm-worker.ts).

export interface WorkerData {
  /** Absolute path of the function's esbuild bundle. */
  readonly bundlePath: string;
  /** Exported handler name. */
  readonly handler: string;
}

/** What the handler's `context` is built from, per invocation. */
export interface InvocationContext {
  readonly awsRequestId: string;
  readonly functionName: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
  /** Epoch milliseconds when the invocation times out. */
  readonly deadlineMs: number;
}

export type ToWorker = { readonly type: 'invoke'; readonly id: number; readonly event: string; readonly context: InvocationContext };

export type FromWorker =
  | { readonly type: 'log'; readonly text: string }
  | { readonly type: 'result'; readonly id: number; readonly ok: true; readonly payload: string }
  | { readonly type: 'result'; readonly id: number; readonly ok: false; readonly errorType: string; readonly errorMessage: string };
