// The local authoritative DNS server: answers from the local Route 53 zones on
// one port over UDP and TCP, so Pebble validates DNS-01 against exactly what
// the functions wrote, with the propagation lag the local cloud is set to.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type Server, type Socket } from 'node:net';
import * as dnsPacket from 'dns-packet';
import type { Packet } from 'dns-packet';
import type { Route53Service } from '../aws/services/route53/service.js';
import type { LocalCloud } from '../aws/types.js';
import { answerQuery, errorResponse, RCODE, type ZoneView } from './answer.js';

export interface DnsServerOptions {
  readonly cloud: LocalCloud;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** 0 = an ephemeral port (the same one for UDP and TCP). Default 8053. */
  readonly port?: number;
}

export interface DnsServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Plain DNS over UDP without EDNS; with EDNS the smaller of the client's size and ours. */
const CLASSIC_UDP_SIZE = 512;
const EDNS_UDP_SIZE = 1232;
const TCP_IDLE_MS = 10_000;

export async function startDnsServer(options: DnsServerOptions): Promise<DnsServer> {
  const route53 = options.cloud.service<Route53Service>('route53');
  await route53.ready();
  const view: ZoneView = route53;
  const now = () => options.cloud.now();
  const host = options.host ?? '127.0.0.1';

  const sockets = new Set<Socket>();
  const tcp = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serveTcp(socket, view, now);
  });
  const { udp, port } = await listenPair(host, options.port ?? 8053, tcp);
  udp.on('message', (message, peer) => {
    const reply = replyTo(message, view, now(), 'udp');
    try {
      if (reply) udp.send(reply, peer.port, peer.address);
    } catch {
      // Closing: the client will retry elsewhere.
    }
  });

  return {
    port,
    async close() {
      for (const socket of sockets) socket.destroy();
      await Promise.all([
        new Promise<void>((resolve) => udp.close(() => resolve())),
        new Promise<void>((resolve) => tcp.close(() => resolve())),
      ]);
    },
  };
}

/** Binds UDP and TCP to the same port; with port 0, retries when the kernel's UDP pick is taken for TCP. */
async function listenPair(host: string, port: number, tcp: Server): Promise<{ udp: UdpSocket; port: number }> {
  for (let attempt = 0; ; attempt++) {
    const udp = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, host, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    const bound = udp.address().port;
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(bound, host, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
      udp.on('error', () => undefined); // a bad datagram's send error must not stop the server
      return { udp, port: bound };
    } catch (err) {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      if (port !== 0 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 20) throw err;
    }
  }
}

function serveTcp(socket: Socket, view: ZoneView, now: () => Date): void {
  let pending: Buffer = Buffer.alloc(0);
  socket.setTimeout(TCP_IDLE_MS, () => socket.destroy());
  socket.on('error', () => undefined);
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    // Each message is preceded by its two-byte length (RFC 1035 4.2.2); several may share a segment.
    while (pending.length >= 2) {
      const length = pending.readUInt16BE(0);
      if (pending.length < 2 + length) break;
      const message = pending.subarray(2, 2 + length);
      pending = pending.subarray(2 + length);
      const reply = replyTo(message, view, now(), 'tcp');
      if (!reply) continue;
      const framed = Buffer.alloc(2 + reply.length);
      framed.writeUInt16BE(reply.length, 0);
      reply.copy(framed, 2);
      socket.write(framed);
    }
  });
}

/** The encoded reply to one message, or undefined when it deserves none (not a query, or too short to answer). */
function replyTo(message: Buffer, view: ZoneView, now: Date, transport: 'udp' | 'tcp'): Buffer | undefined {
  let query: dnsPacket.DecodedPacket;
  try {
    query = dnsPacket.decode(message);
  } catch {
    if (message.length < 12 || (message[2]! & 0x80) !== 0) return undefined;
    return dnsPacket.encode(errorResponse({ id: message.readUInt16BE(0), flags: message.readUInt16BE(2) & 0x7fff, questions: [] }, RCODE.FORMERR));
  }
  if (query.type === 'response') return undefined;

  let response: Packet;
  try {
    response = answerQuery(query, view, now);
  } catch {
    response = errorResponse(query, RCODE.SERVFAIL);
  }
  const opt = (query.additionals ?? []).find((rr) => rr.type === 'OPT') as { udpPayloadSize?: number } | undefined;
  if (opt) response.additionals = [{ type: 'OPT', name: '.', udpPayloadSize: EDNS_UDP_SIZE } as dnsPacket.Answer];

  const encoded = dnsPacket.encode(response);
  const limit = opt ? Math.max(CLASSIC_UDP_SIZE, Math.min(opt.udpPayloadSize ?? CLASSIC_UDP_SIZE, EDNS_UDP_SIZE)) : CLASSIC_UDP_SIZE;
  if (transport === 'tcp' || encoded.length <= limit) return encoded;
  // Too big for this datagram: say so (TC) and let the client retry over TCP.
  return dnsPacket.encode({
    ...response,
    flags: (response.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE,
    answers: [],
    authorities: [],
  });
}
