// Pebble's listener TLS material: a private CA and a certificate for localhost,
// made once per data directory and reused while it stays valid.
import { webcrypto, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface PebbleTls {
  readonly caPath: string;
  readonly caPem: string;
  readonly certPath: string;
  readonly keyPath: string;
}

/** Write-then-rename, so a crash never leaves a half-written file; `mode` applies before the content lands. */
export function writeFileAtomic(file: string, content: string, mode: number): void {
  const tmp = `${file}.${process.pid}.tmp`;
  // Only a newly created file takes `mode`: never reuse a leftover.
  fs.rmSync(tmp, { force: true });
  fs.writeFileSync(tmp, content, { mode, flag: 'wx' });
  fs.renameSync(tmp, file);
}

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64.replace(/\n$/, '')}\n-----END ${label}-----\n`;
}

function stillUsable(certPath: string): boolean {
  try {
    const cert = new X509Certificate(fs.readFileSync(certPath));
    return Date.parse(cert.validTo) > Date.now() + 7 * 24 * 3600 * 1000;
  } catch {
    return false;
  }
}

/**
 * A private CA and a listener certificate for localhost / 127.0.0.1 / ::1, made once
 * per data directory. The CA's key is used once and never written: nothing else
 * needs to be signed by it, and a key that does not exist cannot leak.
 */
export async function ensurePebbleTls(dir: string): Promise<PebbleTls> {
  const tls = {
    caPath: path.join(dir, 'tls-ca.pem'),
    certPath: path.join(dir, 'tls-cert.pem'),
    keyPath: path.join(dir, 'tls-key.pem'),
  };
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (fs.existsSync(tls.caPath) && fs.existsSync(tls.keyPath) && stillUsable(tls.certPath)) {
    return { ...tls, caPem: fs.readFileSync(tls.caPath, 'utf8') };
  }

  // Loaded only here: status checks (local:up/down) import this module and need not pay for it.
  // @peculiar/x509 2.x resolves algorithms through tsyringe, which needs a Reflect polyfill first.
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  const crypto = webcrypto as unknown as NonNullable<Parameters<typeof x509.X509CertificateGenerator.create>[1]>;
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const notBefore = new Date(Date.now() - 3600_000); // tolerate small clock skew
  const notAfter = new Date(Date.now() + 5 * 365 * 24 * 3600_000);
  const caKeys = (await crypto.subtle.generateKey(alg, false, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: 'CN=certpipe local Pebble TLS CA',
      keys: caKeys,
      notBefore,
      notAfter,
      signingAlgorithm: alg,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
      ],
    },
    crypto,
  );

  const leafKeys = (await crypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const leaf = await x509.X509CertificateGenerator.create(
    {
      subject: 'CN=localhost',
      issuer: ca.subject,
      publicKey: leafKeys.publicKey,
      signingKey: caKeys.privateKey,
      notBefore,
      notAfter,
      signingAlgorithm: alg,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([
          { type: 'dns', value: 'localhost' },
          { type: 'ip', value: '127.0.0.1' },
          { type: 'ip', value: '::1' },
        ]),
        await x509.SubjectKeyIdentifierExtension.create(leafKeys.publicKey, false, crypto),
        await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
      ],
    },
    crypto,
  );

  const keyPem = pem('PRIVATE KEY', await crypto.subtle.exportKey('pkcs8', leafKeys.privateKey));
  writeFileAtomic(tls.keyPath, keyPem, 0o600);
  writeFileAtomic(tls.certPath, leaf.toString('pem') + '\n', 0o644);
  // The CA last: its presence marks the set complete.
  const caPem = ca.toString('pem') + '\n';
  writeFileAtomic(tls.caPath, caPem, 0o644);
  return { ...tls, caPem };
}
