/** Letters, digits and the punctuation of QEMU options and file names; nothing a shell interprets. */
export const PLAIN = /^[A-Za-z0-9_.,=:+\/-]*$/;

/** A literal as one shell word: bare when plain, else in single quotes. */
export function shellWord(text: string): string {
  if (text !== '' && PLAIN.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
