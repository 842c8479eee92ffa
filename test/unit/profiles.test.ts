// The profile check (acme/profiles.ts): which profile an order carries, and when
// the CA's directory does not offer it, a message that lists what it does offer.
import { describe, expect, it } from 'vitest';
import { checkProfile, profileFor } from '../../functions/lib/acme/profiles.js';

const DIR = 'https://ca.test/dir';
const LETS_ENCRYPT = { classic: 'https://letsencrypt.org/docs/profiles#classic', shortlived: 'https://letsencrypt.org/docs/profiles#shortlived', tlsserver: 'https://letsencrypt.org/docs/profiles#tlsserver' };

describe('profileFor', () => {
  it.each([
    ['the certificate wins over its issuer', { profile: 'shortlived' }, { profile: 'classic' }, 'shortlived'],
    ["the issuer's when the certificate names none", {}, { profile: 'tlsserver' }, 'tlsserver'],
    ["none: the CA's default", {}, {}, undefined],
  ])('%s', (_case, spec, issuer, expected) => {
    expect(profileFor(spec, issuer)).toBe(expected);
  });
});

describe('checkProfile', () => {
  it('no profile configured: nothing to check, whatever the CA offers', () => {
    expect(checkProfile(undefined, undefined, DIR)).toEqual({ ok: true });
    expect(checkProfile(undefined, LETS_ENCRYPT, DIR)).toEqual({ ok: true });
  });

  it('an offered profile is ordered', () => {
    expect(checkProfile('shortlived', LETS_ENCRYPT, DIR)).toEqual({ ok: true, profile: 'shortlived' });
  });

  it('an unknown profile is refused with the list of profiles offered, sorted', () => {
    const decision = checkProfile('sixday', LETS_ENCRYPT, DIR);
    expect(decision).toEqual({
      ok: false,
      message: `profile "sixday" is not offered by the CA at ${DIR}; it offers "classic", "shortlived", "tlsserver" — set "profile" to one of them`,
    });
  });

  it('a CA whose directory has no meta.profiles refuses any profile, and says so', () => {
    const decision = checkProfile('classic', undefined, DIR);
    expect(decision.ok).toBe(false);
    expect(!decision.ok && decision.message).toContain('offers no profiles (its directory has no meta.profiles)');
    expect(checkProfile('classic', {}, DIR).ok).toBe(false);
  });

  it('profile names are matched exactly (the CA defines them)', () => {
    expect(checkProfile('Classic', LETS_ENCRYPT, DIR).ok).toBe(false);
  });
});
