// ACME profiles (draft-ietf-acme-profiles): the directory's `meta.profiles` names
// what the CA offers; a profile it does not offer would be refused at newOrder, or
// worse, ignored. The check runs where the order is created, against the live
// directory, so a CA that drops a profile fails that certificate with the list.

/** `meta.profiles`: profile name → a human description (or URL) from the CA. */
export type OfferedProfiles = Readonly<Record<string, string>>;

export type ProfileDecision =
  | { readonly ok: true; readonly profile?: string }
  | { readonly ok: false; readonly message: string };

/** The profile a certificate orders with: its own, else its issuer's, else none (the CA's default). */
export function profileFor(spec: { profile?: string }, issuer: { profile?: string }): string | undefined {
  return spec.profile ?? issuer.profile;
}

/** Whether `requested` may be ordered from a CA whose directory offers `offered` (undefined: no `meta.profiles`). */
export function checkProfile(requested: string | undefined, offered: OfferedProfiles | undefined, directoryUrl: string): ProfileDecision {
  if (requested === undefined) return { ok: true };
  const names = offered ? Object.keys(offered).sort() : [];
  if (names.includes(requested)) return { ok: true, profile: requested };
  if (names.length === 0) {
    return {
      ok: false,
      message:
        `profile "${requested}" is configured, but the CA at ${directoryUrl} offers no profiles (its directory has no meta.profiles) — ` +
        'remove "profile" from the certificate and its issuer, or use a CA that offers it',
    };
  }
  return {
    ok: false,
    message:
      `profile "${requested}" is not offered by the CA at ${directoryUrl}; it offers ${names.map((n) => `"${n}"`).join(', ')} — ` +
      'set "profile" to one of them',
  };
}
