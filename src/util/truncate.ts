/** Cutting text to a length (in UTF-16 code units, as Slack counts), marked with "…" where cut. */

/** Cuts `text` to at most `max` characters, ending with "…" when cut. Never splits a surrogate pair. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 1) return '…'.slice(0, Math.max(0, max));
  let end = max - 1;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

/** Keeps the end of `text` (e.g. the most specific part of a path), starting with "…" when cut. */
export function truncateStart(text: string, max: number): string {
  if (text.length <= max) return text;
  let start = text.length - (max - 1);
  const code = text.charCodeAt(start);
  if (code >= 0xdc00 && code <= 0xdfff) start += 1;
  return `…${text.slice(start)}`;
}
