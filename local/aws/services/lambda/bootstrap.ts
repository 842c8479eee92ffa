// Runs inside a function's worker thread, playing the part of the Lambda Node.js
// runtime: it imports the bundle once (module scope stays warm between
// invocations) and calls the handler for each invocation the endpoint sends.
// The endpoint bundles this file with esbuild; it is never imported directly.
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import type { FromWorker, InvocationContext, ToWorker, WorkerData } from './worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('bootstrap.ts must run in a worker thread');
const data = workerData as WorkerData;
const post = (message: FromWorker) => port.postMessage(message);

// Console output travels on the same channel as results, so a function's log
// lines are on disk before the invocation that printed them completes. Lines are
// sent in batches (one message per turn of the event loop, and before any
// result), since a function may print thousands (one EMF record per certificate).
let pendingLog = '';
const flushLog = () => {
  if (pendingLog) post({ type: 'log', text: pendingLog });
  pendingLog = '';
};
for (const stream of [process.stdout, process.stderr]) {
  stream.write = ((chunk: string | Uint8Array, encoding?: unknown, callback?: unknown) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (!pendingLog) setImmediate(flushLog);
    pendingLog += text;
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof done === 'function') queueMicrotask(() => (done as (err?: Error | null) => void)(null));
    return true;
  }) as typeof stream.write;
}

// CDK turns source maps on with NODE_OPTIONS=--enable-source-maps, which a worker cannot take.
if (process.env.NODE_OPTIONS?.includes('--enable-source-maps')) process.setSourceMapsEnabled(true);

// NODE_EXTRA_CA_CERTS is read once per process, so a worker cannot set it; apply
// it to this thread's TLS defaults instead (builtin modules are per thread).
const extraCaFile = process.env.NODE_EXTRA_CA_CERTS;
if (extraCaFile) {
  try {
    const ca = [...tls.rootCertificates, readFileSync(extraCaFile, 'utf8')];
    const createSecureContext = tls.createSecureContext;
    tls.createSecureContext = (options?: tls.SecureContextOptions) =>
      createSecureContext(options?.ca === undefined ? { ...options, ca } : options);
  } catch (err) {
    console.warn(`Warning: Ignoring extra certs from \`${extraCaFile}\`, load failed: ${(err as Error).message}`);
  }
}

type Handler = (event: unknown, context: unknown, callback?: (err?: unknown, result?: unknown) => void) => unknown;

class HandlerNotFound extends Error {
  override readonly name = 'Runtime.HandlerNotFound';
}

const handlerReady: Promise<Handler> = import(pathToFileURL(data.bundlePath).href).then((mod: Record<string, unknown>) => {
  const handler = mod[data.handler];
  if (typeof handler !== 'function') throw new HandlerNotFound(`${data.handler} is not a function exported by the bundle`);
  return handler as Handler;
});
// An init failure is reported by each invocation, as Lambda does.
handlerReady.catch(() => undefined);

function lambdaContext(ctx: InvocationContext) {
  return {
    awsRequestId: ctx.awsRequestId,
    functionName: ctx.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: ctx.invokedFunctionArn,
    memoryLimitInMB: ctx.memoryLimitInMB,
    logGroupName: `/aws/lambda/${ctx.functionName}`,
    logStreamName: `local/[$LATEST]${process.pid}`,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, ctx.deadlineMs - Date.now()),
  };
}

function callHandler(handler: Handler, event: unknown, context: unknown): Promise<unknown> {
  if (handler.length < 3) return Promise.resolve().then(() => handler(event, context));
  // Callback-style handler: settled by the callback or by a returned promise, whichever comes first.
  return new Promise((resolve, reject) => {
    const returned = handler(event, context, (err, result) => (err ? reject(err) : resolve(result)));
    if (returned && typeof (returned as Promise<unknown>).then === 'function') (returned as Promise<unknown>).then(resolve, reject);
  });
}

/** Only the type and message leave the worker: a stack trace can carry data a state's history must not hold. */
function describeError(err: unknown): { errorType: string; errorMessage: string } {
  if (err instanceof Error) return { errorType: err.name || 'Error', errorMessage: err.message };
  if (typeof err === 'string') return { errorType: 'string', errorMessage: err };
  return { errorType: 'Error', errorMessage: String(err) };
}

port.on('message', (message: ToWorker) => {
  if (message.type !== 'invoke') return;
  void (async () => {
    try {
      const handler = await handlerReady;
      const result = await callHandler(handler, JSON.parse(message.event), lambdaContext(message.context));
      flushLog();
      post({ type: 'result', id: message.id, ok: true, payload: JSON.stringify(result) ?? 'null' });
    } catch (err) {
      flushLog();
      post({ type: 'result', id: message.id, ok: false, ...describeError(err) });
    }
  })();
});
