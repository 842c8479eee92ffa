// Listen addresses versus the addresses clients dial and write into URLs.

/** Address to connect to for a listen address (wildcards mean this machine). */
export function connectHost(listenHost: string): string {
  return listenHost === '0.0.0.0' || listenHost === '::' || listenHost === '' ? '127.0.0.1' : listenHost;
}

/** A host as it appears in a URL or `host:port` (IPv6 in brackets). */
export function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
