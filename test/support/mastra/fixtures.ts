/**
 * Raw HTTP captures of a reference Mastra server (docs/mastra.md, Captured replies: the
 * request behind each, what it shows and which tests use it). Each file is `curl -i` output: status line, headers, body.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const FIXTURES_DIR = fileURLToPath(new URL('./fixtures/', import.meta.url));

export interface Fixture {
  name: string;
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** The body as text. */
  text: string;
  isStream: boolean;
}

/** Undoes HTTP/1.1 chunked framing (fixture 100 was captured with `curl --raw`). */
function dechunk(raw: Buffer): Buffer {
  const parts: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const eol = raw.indexOf('\r\n', pos);
    if (eol === -1) break;
    const size = Number.parseInt(raw.toString('latin1', pos, eol), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(raw.subarray(eol + 2, eol + 2 + size));
    pos = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

export function fixtureNames(): string[] {
  return readdirSync(FIXTURES_DIR)
    .filter((f) => f.endsWith('.http'))
    .sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10));
}

/** Loads a fixture by file name or by number prefix (`"15"` → `15-stream-approval-suspends.http`). */
export function loadFixture(nameOrNumber: string): Fixture {
  const name = nameOrNumber.endsWith('.http')
    ? nameOrNumber
    : fixtureNames().find((f) => f.startsWith(`${nameOrNumber}-`));
  if (name === undefined) throw new Error(`No fixture ${nameOrNumber}`);
  const raw = readFileSync(`${FIXTURES_DIR}${name}`);
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.toString('latin1', 0, split).split('\r\n');
  let body: Buffer = raw.subarray(split + 4);
  const status = Number.parseInt(head[0]?.split(' ')[1] ?? '0', 10);
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  if (/^[0-9a-f]+\r\n/.test(body.toString('latin1', 0, 12))) body = dechunk(body);
  const isStream =
    ((headers['content-type'] ?? '').startsWith('text/plain') && status === 200) ||
    head[0]?.includes('body only') === true;
  return { name, status, headers, body, text: body.toString('utf8'), isStream };
}
