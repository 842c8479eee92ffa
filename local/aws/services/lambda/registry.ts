// Client side of the local Lambda registry: the runner, tests and the CLI register
// handler files with the local endpoint, which bundles and runs them on demand.
import type { FunctionDefinition, RegisteredFunction } from './functions.js';

export type { FunctionDefinition, RegisteredFunction } from './functions.js';

/** The result of a direct local invocation (`POST /_certpipe/lambda/invoke`). */
export type LocalInvocationResult =
  | { readonly ok: true; readonly payload: unknown }
  | { readonly ok: false; readonly errorType: string; readonly errorMessage: string };

async function call<T>(endpointUrl: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(new URL(path, endpointUrl), {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const parsed = text ? (JSON.parse(text) as unknown) : {};
  if (!response.ok) {
    const message = (parsed as { message?: string; error?: string }).message ?? (parsed as { error?: string }).error ?? text;
    throw new Error(`${method} ${path} failed (${response.status}): ${message}`);
  }
  return parsed as T;
}

/**
 * Registers (or replaces and rebuilds) a function with the local endpoint and
 * returns it as stored; its ARN is what a state machine's Task names.
 */
export function registerFunction(endpointUrl: string, def: FunctionDefinition): Promise<RegisteredFunction> {
  return call<RegisteredFunction>(endpointUrl, 'POST', '/_certpipe/lambda/functions', def);
}

export async function listFunctions(endpointUrl: string): Promise<RegisteredFunction[]> {
  return (await call<{ functions: RegisteredFunction[] }>(endpointUrl, 'GET', '/_certpipe/lambda/functions')).functions;
}

/** Invokes a registered function directly (name or ARN), as a Task state would. */
export function invokeFunction(endpointUrl: string, functionName: string, payload: unknown): Promise<LocalInvocationResult> {
  return call<LocalInvocationResult>(endpointUrl, 'POST', '/_certpipe/lambda/invoke', { functionName, payload });
}
