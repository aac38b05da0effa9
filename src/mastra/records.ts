/**
 * Parser for Mastra's record streams (docs/mastra.md, Event stream framing): `JSON 0x1E JSON 0x1E …`, every record
 * terminated by 0x1E (a raw 0x1E cannot occur inside JSON).
 *
 * Linear in the input: each byte is scanned for 0x1E exactly once (`indexOf` from where the last
 * scan stopped, over new bytes only); a record split across chunks is kept as a list of pieces and
 * joined once when its terminator arrives, so a 1 MiB record arriving in 4 KiB chunks costs the same
 * as one arriving whole. Bytes are decoded only at record boundaries, so a UTF-8 character split
 * across chunks is never mangled (0x1E is ASCII and never part of a multi-byte sequence).
 *
 * Rules:
 * - empty or whitespace-only records are skipped and not counted;
 * - at the end of the stream, whitespace after the last terminator is ignored; any other
 *   unterminated bytes are a truncated record: a `protocol` error (the server always terminates
 *   every record, so a missing terminator means the body was cut short).
 */
import { MastraError, snippetOf } from './errors.ts';

export const RECORD_SEPARATOR = 0x1e;

/** One parsed record and where it was in the body. */
export interface StreamRecord {
  value: unknown;
  /** 0-based index among the non-empty records of this body. */
  index: number;
  /** Offset of the record's first byte in the body. */
  byteOffset: number;
  /** Length of the record in bytes, without its terminator. */
  byteLength: number;
}

/** A complete, still undecoded record. */
export interface RawRecord {
  text: string;
  index: number;
  byteOffset: number;
  byteLength: number;
}

function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

function isBlank(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return false;
  }
  return true;
}

/**
 * Splits a byte stream into records. Push chunks in order; complete records are appended to the
 * `out` array given to `push()`. Call `end()` once the input is exhausted.
 */
export class RecordSplitter {
  /** Pieces of the current unterminated record, joined once when it completes. */
  #pieces: Buffer[] = [];
  #piecesLength = 0;
  /** Total bytes pushed so far. */
  #bytes = 0;
  /** Non-empty records emitted so far. */
  #index = 0;

  /** Non-empty records completed so far. */
  get recordCount(): number {
    return this.#index;
  }

  /** Bytes pushed so far. */
  get byteCount(): number {
    return this.#bytes;
  }

  /** Bytes held for an unterminated record. */
  get pendingBytes(): number {
    return this.#piecesLength;
  }

  push(chunk: Uint8Array, out: RawRecord[]): void {
    const buf = asBuffer(chunk);
    const len = buf.length;
    if (len === 0) return;
    const chunkOffset = this.#bytes;
    this.#bytes += len;
    let start = 0;
    let sep = buf.indexOf(RECORD_SEPARATOR, 0);
    while (sep !== -1) {
      if (this.#piecesLength === 0) {
        if (sep > start && !isBlank(buf, start, sep)) {
          out.push({
            text: buf.toString('utf8', start, sep),
            index: this.#index++,
            byteOffset: chunkOffset + start,
            byteLength: sep - start,
          });
        }
      } else {
        const byteLength = this.#piecesLength + (sep - start);
        this.#pieces.push(buf.subarray(start, sep));
        const whole = Buffer.concat(this.#pieces, byteLength);
        this.#pieces = [];
        this.#piecesLength = 0;
        if (!isBlank(whole, 0, whole.length)) {
          out.push({
            text: whole.toString('utf8'),
            index: this.#index++,
            byteOffset: chunkOffset + sep - byteLength,
            byteLength,
          });
        }
      }
      start = sep + 1;
      sep = start < len ? buf.indexOf(RECORD_SEPARATOR, start) : -1;
    }
    if (start < len) {
      this.#pieces.push(start === 0 ? buf : buf.subarray(start));
      this.#piecesLength += len - start;
    }
  }

  /** Ends the input: throws a `protocol` error if an unterminated, non-blank record is left. */
  end(): void {
    if (this.#piecesLength === 0) return;
    const rest = Buffer.concat(this.#pieces, this.#piecesLength);
    const byteOffset = this.#bytes - this.#piecesLength;
    this.#pieces = [];
    this.#piecesLength = 0;
    if (isBlank(rest, 0, rest.length)) return;
    const snippet = snippetOf(rest.toString('utf8', 0, Math.min(rest.length, 200)));
    throw new MastraError(
      'protocol',
      `Truncated record stream: ${rest.length} bytes after the last record separator at byte ${byteOffset} (record ${this.#index}) never ended: ${snippet}`,
      { position: { record: this.#index, byte: byteOffset }, snippet, recordsReceived: this.#index },
    );
  }
}

/** JSON-parses a raw record; a malformed one is a `protocol` error naming its position. */
export function parseRawRecord(raw: RawRecord): StreamRecord {
  let value: unknown;
  try {
    value = JSON.parse(raw.text);
  } catch (e) {
    const snippet = snippetOf(raw.text);
    throw new MastraError(
      'protocol',
      `Malformed record ${raw.index} at byte ${raw.byteOffset}: ${(e as Error).message}: ${snippet}`,
      {
        position: { record: raw.index, byte: raw.byteOffset },
        snippet,
        cause: e,
        recordsReceived: raw.index,
      },
    );
  }
  return { value, index: raw.index, byteOffset: raw.byteOffset, byteLength: raw.byteLength };
}

/**
 * Parses any byte stream of `0x1E`-terminated JSON records, yielding each record with its position.
 * Pulls the source only as fast as records are consumed (backpressure); stopping early
 * (`break` / `return()`) calls the source iterator's `return()`.
 */
export async function* parseRecords(
  source: AsyncIterable<Uint8Array>,
): AsyncGenerator<StreamRecord, void, undefined> {
  const splitter = new RecordSplitter();
  const batch: RawRecord[] = [];
  for await (const chunk of source) {
    splitter.push(chunk, batch);
    if (batch.length === 0) continue;
    for (let i = 0; i < batch.length; i++) {
      yield parseRawRecord(batch[i]!);
    }
    batch.length = 0;
  }
  splitter.end();
}

/** Synchronous convenience: every record of a complete body. */
export function parseRecordsSync(body: Uint8Array | string): StreamRecord[] {
  const splitter = new RecordSplitter();
  const raw: RawRecord[] = [];
  splitter.push(typeof body === 'string' ? Buffer.from(body, 'utf8') : body, raw);
  splitter.end();
  return raw.map(parseRawRecord);
}
