// PEM framing: ACM takes PEM text in blob fields and answers with PEM strings.

export interface PemBlock {
  readonly label: string;
  /** The whole block, header to footer, with its own headers (e.g. Proc-Type). */
  readonly text: string;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

export function pemBlocks(text: string): PemBlock[] {
  return [...text.matchAll(BLOCK)].map((m) => ({ label: m[1]!, text: m[0] }));
}

/** True when nothing but whitespace lies outside the PEM blocks. */
export function onlyPem(text: string): boolean {
  return text.replace(BLOCK, '').trim() === '';
}
