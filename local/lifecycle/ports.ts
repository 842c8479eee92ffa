// Free TCP ports for servers that need a fixed number in their config (Pebble), for tests and benchmarks.
import net from 'node:net';

/** A TCP port free right now on 127.0.0.1; another process may take it before you bind it. */
export function freePort(): Promise<number> {
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
