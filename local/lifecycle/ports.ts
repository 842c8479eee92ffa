// Free TCP ports for servers that need a fixed number in their config (Pebble), for tests and benchmarks.
import net from 'node:net';

/**
 * Ports this process has handed out. The kernel readily gives a just-closed port to
 * the next `listen(0)`, so two calls in a row could name the same port for two
 * servers (Pebble's ACME and management listeners did, once, in CI).
 */
const handedOut = new Set<number>();
const MAX_TRIES = 50;

function probe(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A TCP port free right now on 127.0.0.1 and never returned before by this process.
 * Another process may still take it before you bind it.
 */
export async function freePort(): Promise<number> {
  for (let i = 0; i < MAX_TRIES; i++) {
    const port = await probe();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no unused TCP port after ${MAX_TRIES} tries`);
}
