import { describe, expect, it } from 'vitest';
import {
  bareZoneId,
  configuredZoneId,
  longestMatchingZone,
  mergeTxtValues,
  normalizeName,
  quoteTxt,
  removeTxtMatching,
  removeTxtValues,
  unquoteTxt,
} from '../../functions/lib/dns/route53.js';
import { formatServer, parseServer } from '../../functions/lib/dns/propagation.js';

describe('zone matching', () => {
  const zones = [{ name: 'example.com' }, { name: 'dev.example.com', id: 'Z2' }, { name: 'other.org' }];

  it.each([
    ['_acme-challenge.example.com', 'example.com'],
    ['_acme-challenge.www.example.com', 'example.com'],
    ['_acme-challenge.dev.example.com', 'dev.example.com'],
    ['_acme-challenge.a.b.dev.example.com.', 'dev.example.com'],
    ['_ACME-challenge.Other.ORG', 'other.org'],
  ])('%s → %s', (fqdn, zone) => {
    expect(longestMatchingZone(fqdn, zones)?.name).toBe(zone);
  });

  it('does not match a zone that is only a suffix of a label', () => {
    expect(longestMatchingZone('_acme-challenge.notexample.com', zones)).toBeUndefined();
    expect(longestMatchingZone('_acme-challenge.example.net', zones)).toBeUndefined();
  });

  it('takes the configured zone id of a name, wildcards included', () => {
    const ids = { '*.example.com': '/hostedzone/ZWILD', 'api.other.org': 'ZAPI' };
    expect(configuredZoneId('_acme-challenge.example.com', ids)).toBe('ZWILD');
    expect(configuredZoneId('_acme-challenge.api.other.org', ids)).toBe('ZAPI');
    expect(configuredZoneId('_acme-challenge.www.other.org', ids)).toBeUndefined();
  });

  it('normalises names and zone ids as Route 53 returns them', () => {
    expect(normalizeName('\\052.Example.COM.')).toBe('*.example.com');
    expect(bareZoneId('/hostedzone/Z123')).toBe('Z123');
    expect(bareZoneId('Z123')).toBe('Z123');
  });
});

describe('TXT values', () => {
  it('quotes and unquotes', () => {
    expect(quoteTxt('abc')).toBe('"abc"');
    expect(unquoteTxt('"abc"')).toBe('abc');
    expect(unquoteTxt('"ab" "cd"')).toBe('abcd');
    expect(unquoteTxt(quoteTxt('say "hi" \\'))).toBe('say "hi" \\');
  });

  it('merges ours into a set without touching another writer', () => {
    const foreign = ['"someone-elses-value"', '"multi" "string"'];
    expect(mergeTxtValues(foreign, ['v1', 'v2', 'v1'])).toEqual([...foreign, '"v1"', '"v2"']);
  });

  it('does not add a value twice', () => {
    expect(mergeTxtValues(['"v1"'], ['v1'])).toEqual(['"v1"']);
  });

  it('removes only ours', () => {
    expect(removeTxtValues(['"foreign"', '"v1"', '"v2"'], ['v1', 'v2'])).toEqual(['"foreign"']);
    expect(removeTxtValues(['"v1"'], ['v1'])).toEqual([]);
    expect(removeTxtValues([], ['v1'])).toEqual([]);
  });

  it('removes only the values the predicate recognises, reading them unquoted', () => {
    const isOurs = (v: string) => v.startsWith('ours-');
    expect(removeTxtMatching(['"foreign"', '"ours-1"', '"multi" "string"', '"ours-2"'], isOurs)).toEqual(['"foreign"', '"multi" "string"']);
    expect(removeTxtMatching(['"ours-1"'], isOurs)).toEqual([]);
  });
});

describe('nameserver addresses', () => {
  it.each([
    ['127.0.0.1:8053', { host: '127.0.0.1', port: 8053 }],
    ['127.0.0.1', { host: '127.0.0.1', port: 53 }],
    ['[::1]:8053', { host: '::1', port: 8053 }],
    ['::1', { host: '::1', port: 53 }],
    ['ns1.example.net', { host: 'ns1.example.net', port: 53 }],
    ['localhost:8053', { host: 'localhost', port: 8053 }],
  ])('%s', (server, parsed) => {
    expect(parseServer(server)).toEqual(parsed);
  });

  it('formats for Resolver.setServers', () => {
    expect(formatServer('127.0.0.1', 8053)).toBe('127.0.0.1:8053');
    expect(formatServer('::1', 53)).toBe('[::1]:53');
  });
});
