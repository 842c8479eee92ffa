// One warm "container" of a local Lambda function: a worker thread whose
// process.env is that function's own environment, started on first use and kept
// for later invocations, with Lambda's timeout enforced from outside.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FromWorker, ToWorker, WorkerData } from './worker-protocol.js';

export interface WorkerSpec {
  readonly functionName: string;
  readonly functionArn: string;
  readonly bootstrapPath: string;
  readonly bundlePath: string;
  readonly handler: string;
  /** The whole process.env of the worker. */
  readonly env: Record<string, string>;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** Console output of the function is appended here as printed. */
  readonly logPath: string;
  /** Each complete line of console output, as CloudWatch Logs receives it (EMF becomes metrics there). */
  readonly onLogLine?: (line: string) => void;
}

/** An invocation failed as Lambda reports it: the handler threw, timed out or its runtime died. */
export class FunctionError extends Error {
  constructor(
    readonly errorType: string,
    readonly errorMessage: string,
  ) {
    super(errorMessage);
    this.name = errorType;
  }
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: FunctionError): void;
  timer: NodeJS.Timeout;
}

export class WarmWorker {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private logFd: number | undefined;
  /** Console output after the last newline, completed by the next chunk. */
  private partialLine = '';
  private retired = false;
  /** Why the worker died, when it threw outside any handler call. */
  private fatal: FunctionError | undefined;

  constructor(readonly spec: WorkerSpec) {}

  get busy(): boolean {
    return this.pending.size > 0;
  }

  invoke(event: unknown, requestId: string): Promise<unknown> {
    if (this.retired) return Promise.reject(new FunctionError('Lambda.ServiceException', 'The function was replaced'));
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    const timeoutMs = this.spec.timeoutSeconds * 1000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.timedOut(id, requestId), timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      const message: ToWorker = {
        type: 'invoke',
        id,
        event: JSON.stringify(event ?? null),
        context: {
          awsRequestId: requestId,
          functionName: this.spec.functionName,
          invokedFunctionArn: this.spec.functionArn,
          memoryLimitInMB: String(this.spec.memoryMb),
          deadlineMs: Date.now() + timeoutMs,
        },
      };
      worker.postMessage(message);
    });
  }

  /** Takes no new invocations; stops once the ones in flight have finished. */
  retire(): void {
    this.retired = true;
    if (!this.busy) void this.stop();
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.failAll(new FunctionError('Runtime.ExitError', 'The local Lambda runtime stopped'));
    if (worker) await worker.terminate();
    this.closeLog();
  }

  private start(): Worker {
    const data: WorkerData = { bundlePath: this.spec.bundlePath, handler: this.spec.handler };
    const worker = new Worker(this.spec.bootstrapPath, {
      env: { ...this.spec.env },
      workerData: data,
      // The parent's loaders (tsx, vitest) have no business in a function's runtime.
      execArgv: [],
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: this.spec.memoryMb },
    });
    this.fatal = undefined;
    worker.unref();
    worker.stdout.on('data', (chunk: Buffer) => this.log(chunk.toString('utf8')));
    worker.stderr.on('data', (chunk: Buffer) => this.log(chunk.toString('utf8')));
    worker.on('message', (message: FromWorker) => this.receive(message));
    worker.on('error', (err: Error & { code?: string }) => {
      this.fatal =
        err.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new FunctionError('Runtime.OutOfMemory', `Runtime exited: the function used more than ${this.spec.memoryMb} MB`)
          : new FunctionError(err.name || 'Runtime.ExitError', err.message);
      this.log(`${JSON.stringify({ level: 'ERROR', message: 'local Lambda runtime failed', errorType: err.name, errorMessage: err.message })}\n`);
    });
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.failAll(this.fatal ?? new FunctionError('Runtime.ExitError', `RequestId: unknown Error: Runtime exited with error: exit status ${code}`));
    });
    this.worker = worker;
    return worker;
  }

  private receive(message: FromWorker): void {
    if (message.type === 'log') {
      this.log(message.text);
      return;
    }
    const pending = this.pending.get(message.id);
    if (!pending) return;
    this.settle(message.id);
    if (message.ok) pending.resolve(JSON.parse(message.payload));
    else pending.reject(new FunctionError(message.errorType, message.errorMessage));
    if (this.retired && !this.busy) void this.stop();
  }

  private timedOut(id: number, requestId: string): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.settle(id);
    const seconds = this.spec.timeoutSeconds.toFixed(2);
    pending.reject(new FunctionError('Sandbox.Timedout', `${new Date().toISOString()} ${requestId} Task timed out after ${seconds} seconds`));
    // As on Lambda, a timed-out sandbox is thrown away; the next call starts cold.
    const worker = this.worker;
    this.worker = undefined;
    this.failAll(new FunctionError('Runtime.ExitError', 'The sandbox was stopped because a concurrent invocation timed out'));
    void worker?.terminate();
  }

  private settle(id: number): void {
    const pending = this.pending.get(id);
    if (pending) clearTimeout(pending.timer);
    this.pending.delete(id);
  }

  private failAll(error: FunctionError): void {
    for (const [id, pending] of [...this.pending]) {
      this.settle(id);
      pending.reject(error);
    }
  }

  private log(text: string): void {
    if (this.logFd === undefined) {
      mkdirSync(dirname(this.spec.logPath), { recursive: true });
      this.logFd = openSync(this.spec.logPath, 'a');
    }
    writeSync(this.logFd, text);
    if (!this.spec.onLogLine) return;
    const lines = (this.partialLine + text).split('\n');
    this.partialLine = lines.pop()!;
    for (const line of lines) this.spec.onLogLine(line);
  }

  private closeLog(): void {
    if (this.logFd !== undefined) closeSync(this.logFd);
    this.logFd = undefined;
  }
}
