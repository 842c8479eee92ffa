// A CA reset inside a test cloud: stop its Pebble and start a new one on the same
// ports, TLS material and DNS, so the directory URL and the CA bundle stay valid
// while every account, order and root Pebble knew is gone (Pebble keeps nothing on
// disk). The endpoint, its data directory and every secret stay as they were.
import { startPebble, type PebbleHandle } from '../../local/pebble/pebble.js';
import type { TestCloud } from './cloud.js';

const portOf = (url: string | undefined, what: string): number => {
  const port = url ? Number(new URL(url).port) : NaN;
  if (!Number.isInteger(port) || port <= 0) throw new Error(`the test cloud has no ${what} (start it with pebble: true)`);
  return port;
};

/**
 * Restarts the test cloud's Pebble (the one it started, or the one an earlier
 * restart returned). The caller stops the returned handle; `TestCloud.close()`
 * only stops the first Pebble.
 */
export async function restartPebble(cloud: TestCloud, running: PebbleHandle | undefined = cloud.handle.pebble): Promise<PebbleHandle> {
  if (!running) throw new Error('the test cloud runs without Pebble');
  const port = portOf(running.directoryUrl, 'ACME directory');
  const managementPort = portOf(running.managementUrl, 'Pebble management URL');
  await running.stop();
  return startPebble({
    dataDir: cloud.dataDir,
    dnsServer: `127.0.0.1:${cloud.dnsPort}`,
    port,
    managementPort,
    validitySeconds: 7_776_000,
  });
}
