// What an AWS SDK v3 client sends, by command name, in order: for tests that
// hold a function to a number of calls (Route 53's 5 requests per second, a
// scan's one ListSecrets).
import type { ACMClient } from '@aws-sdk/client-acm';
import type { Route53Client } from '@aws-sdk/client-route-53';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** Starts recording the commands `client` sends; the returned array fills as it does. */
export function recordCalls(client: ACMClient | Route53Client | SecretsManagerClient): string[] {
  const calls: string[] = [];
  // The three stacks differ only in their command types; the recorder reads the name alone.
  (client.middlewareStack as SecretsManagerClient['middlewareStack']).add(
    (next, context) => async (args) => {
      calls.push(String(context.commandName));
      return next(args);
    },
    { step: 'initialize' },
  );
  return calls;
}
