// Pebble as a child process: generated TLS, its directory and root, clean stop.
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isProcessAlive } from '../../local/lifecycle/process.js';
import { httpsGetText } from '../../local/pebble/https.js';
import {
  ensurePebbleInstalled,
  PebbleStartFailed,
  startPebble,
  type PebbleHandle,
} from '../../local/pebble/pebble.js';
import { freePort } from '../../local/lifecycle/ports.js';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'certpipe-'));
// Pebble only dials DNS while validating a challenge; nothing here validates one.
const unusedDns = '127.0.0.1:9';

async function start(validitySeconds = 3600): Promise<PebbleHandle> {
  return startPebble({ dataDir, dnsServer: unusedDns, port: await freePort(), managementPort: await freePort(), validitySeconds });
}

function portOpen(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

describe('ensurePebbleInstalled', () => {
  it('finds the pebble binary', async () => {
    const binary = await ensurePebbleInstalled();
    expect(fs.statSync(binary).isFile()).toBe(true);
  });
});

describe('startPebble', () => {
  let pebble: PebbleHandle;
  beforeAll(async () => {
    pebble = await start(3600);
  });
  afterAll(() => pebble?.stop());

  it('serves the ACME directory over TLS trusted through the generated CA', async () => {
    const res = await httpsGetText(pebble.directoryUrl, pebble.tlsCaPem);
    expect(res.status).toBe(200);
    const directory = JSON.parse(res.body) as Record<string, unknown>;
    expect(directory).toMatchObject({
      newAccount: expect.stringContaining('https://127.0.0.1:'),
      newNonce: expect.any(String),
      newOrder: expect.any(String),
    });
    expect(pebble.directoryUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/dir$/);
  });

  it('is not trusted without the generated CA', async () => {
    const publicRoots = '';
    await expect(httpsGetText(pebble.directoryUrl, publicRoots)).rejects.toThrow(/certificate/i);
  });

  it('generated a listener certificate for localhost and 127.0.0.1, signed by the CA, with a private key file only its owner reads', () => {
    const dir = path.join(dataDir, 'pebble');
    const ca = new X509Certificate(fs.readFileSync(path.join(dir, 'tls-ca.pem')));
    const leaf = new X509Certificate(fs.readFileSync(path.join(dir, 'tls-cert.pem')));
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.checkHost('localhost')).toBe('localhost');
    expect(leaf.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(fs.statSync(path.join(dir, 'tls-key.pem')).mode & 0o777).toBe(0o600);
    // The CA's key signs once and is never written.
    const keyFiles = fs.readdirSync(dir).filter((f) => fs.readFileSync(path.join(dir, f), 'utf8').includes('PRIVATE KEY'));
    expect(keyFiles).toEqual(['tls-key.pem']);
  });

  it('writes the config Pebble runs with', () => {
    const config = JSON.parse(fs.readFileSync(path.join(dataDir, 'pebble', 'pebble-config.json'), 'utf8'));
    expect(config.pebble).toMatchObject({
      certificateValidityPeriod: 3600,
      externalAccountBindingRequired: false,
      ocspResponderURL: '',
    });
    expect(fs.readFileSync(path.join(dataDir, 'logs', 'pebble.log'), 'utf8')).toContain('Using certificate validity period of 3600 seconds');
  });

  it('serves its issuing root on the management port', async () => {
    const root = new X509Certificate(await pebble.rootCertificate());
    expect(root.ca).toBe(true);
    expect(root.subject).toContain('Pebble Root CA');
    expect(pebble.managementUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });
});

describe('stopping and restarting', () => {
  it('leaves no process and no listener after stop(), and stop() may be called twice', async () => {
    const pebble = await start();
    expect(isProcessAlive(pebble.pid)).toBe(true);
    await pebble.stop();
    await pebble.stop();
    expect(isProcessAlive(pebble.pid)).toBe(false);
    expect(await portOpen(pebble.directoryUrl)).toBe(false);
    expect(fs.existsSync(path.join(dataDir, 'pebble', 'pebble.pid'))).toBe(false);
  });

  it('keeps its TLS CA across restarts but gets a new issuing root (Pebble keeps no state)', async () => {
    const first = await start();
    const firstRoot = await first.rootCertificate();
    await first.stop();
    const second = await start();
    try {
      expect(second.tlsCaPem).toBe(first.tlsCaPem);
      expect(await second.rootCertificate()).not.toBe(firstRoot);
    } finally {
      await second.stop();
    }
  });

  it('fails naming the port, and leaves nothing running, when its port is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      const failure = startPebble({ dataDir, dnsServer: unusedDns, port: taken, managementPort: await freePort(), validitySeconds: 3600 });
      await expect(failure).rejects.toBeInstanceOf(PebbleStartFailed);
      await expect(failure).rejects.toThrow(new RegExp(`port ${taken} on 127.0.0.1 is not available`));
      expect(fs.existsSync(path.join(dataDir, 'pebble', 'pebble.pid'))).toBe(false);
    } finally {
      blocker.close();
    }
  });

  it('refuses one port for both listeners before starting anything', async () => {
    const port = await freePort();
    const failure = startPebble({ dataDir, dnsServer: unusedDns, port, managementPort: port, validitySeconds: 3600 });
    await expect(failure).rejects.toBeInstanceOf(PebbleStartFailed);
    await expect(failure).rejects.toThrow(`ACME and management listeners both on port ${port}`);
    expect(fs.existsSync(path.join(dataDir, 'pebble', 'pebble.pid'))).toBe(false);
  });
});
