import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { parseRecords, parseRecordsSync, type RawRecord, RecordSplitter } from '../../src/mastra/records.ts';
import { errorOf } from '../support/mastra/errors.ts';

const RS = '\x1e';
const enc = new TextEncoder();

/** Splits `bytes` at the given cut points into chunks. */
function chunked(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.filter((c) => c > 0 && c < bytes.length))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  out.push(bytes.subarray(prev));
  return out;
}

async function* iter(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const c of chunks) yield c;
}

async function collect(chunks: Uint8Array[]) {
  const out = [];
  for await (const r of parseRecords(iter(chunks))) out.push(r);
  return out;
}

describe('record stream parser', () => {
  test('parses records terminated by 0x1E, with positions', async () => {
    const body = `{"a":1}${RS}{"b":[2,3]}${RS}"x"${RS}`;
    const recs = await collect([enc.encode(body)]);
    expect(recs.map((r) => r.value)).toEqual([{ a: 1 }, { b: [2, 3] }, 'x']);
    expect(recs.map((r) => r.index)).toEqual([0, 1, 2]);
    expect(recs.map((r) => r.byteOffset)).toEqual([0, 8, 20]);
    expect(recs.map((r) => r.byteLength)).toEqual([7, 11, 3]);
  });

  test('records split across chunks at every possible point give the same result', async () => {
    const body = enc.encode(`{"type":"workflow-start","runId":"r"}${RS}{"n":12345}${RS}{"s":"hé"}${RS}`);
    const whole = (await collect([body])).map((r) => r.value);
    for (let cut = 1; cut < body.length; cut++) {
      expect((await collect(chunked(body, [cut]))).map((r) => r.value)).toEqual(whole);
    }
    // one byte per chunk
    const bytes = Array.from(body, (_, i) => body.subarray(i, i + 1));
    const recs = await collect(bytes);
    expect(recs.map((r) => r.value)).toEqual(whole);
    expect(recs.map((r) => r.byteOffset)).toEqual((await collect([body])).map((r) => r.byteOffset));
  });

  test('UTF-8 multibyte characters split across chunks are decoded intact', async () => {
    const text = 'naïve 日本語 🚀🎉 ok';
    const body = enc.encode(`${JSON.stringify({ text })}${RS}${JSON.stringify({ more: '€' })}${RS}`);
    for (let cut = 1; cut < body.length; cut++) {
      const recs = await collect(chunked(body, [cut]));
      expect(recs.map((r) => r.value)).toEqual([{ text }, { more: '€' }]);
    }
  });

  test('property: any chunking of any record list parses to the same values', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.jsonValue(), { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        async (values, cutSeeds) => {
          const body = enc.encode(values.map((v) => JSON.stringify(v) + RS).join(''));
          const cuts = cutSeeds.map((s) => (body.length === 0 ? 0 : s % body.length));
          const recs = await collect(chunked(body, cuts));
          // JSON round trip normalizes -0 and the like, so compare against that.
          expect(recs.map((r) => r.value)).toEqual(values.map((v) => JSON.parse(JSON.stringify(v))));
        },
      ),
      { numRuns: 200 },
    );
  });

  test('empty and whitespace-only records are skipped and not counted', async () => {
    const body = `${RS}{"a":1}${RS}${RS}  \n${RS}{"b":2}${RS}\n`;
    const recs = await collect([enc.encode(body)]);
    expect(recs.map((r) => r.value)).toEqual([{ a: 1 }, { b: 2 }]);
    expect(recs.map((r) => r.index)).toEqual([0, 1]);
  });

  test('trailing data without a terminator at the end of the stream is a truncated-stream protocol error', async () => {
    const body = enc.encode(`{"a":1}${RS}{"b":2}${RS}{"c":`);
    const seen: unknown[] = [];
    const err = await errorOf(
      (async () => {
        for await (const r of parseRecords(iter(chunked(body, [5, 12])))) seen.push(r.value);
      })(),
    );
    expect(seen).toEqual([{ a: 1 }, { b: 2 }]);
    expect(err.code).toBe('protocol');
    expect(err.message).toMatch(/truncated/i);
    expect(err.position).toEqual({ record: 2, byte: 16 });
    expect(err.snippet).toBe('{"c":');
  });

  test('a complete record missing only its final terminator is also reported as truncated', async () => {
    const err = await errorOf(collect([enc.encode(`{"a":1}${RS}{"b":2}`)]));
    expect(err.code).toBe('protocol');
    expect(err.position?.record).toBe(1);
  });

  test('a malformed record is a protocol error with its record index, byte offset and a snippet', async () => {
    const body = enc.encode(`{"a":1}${RS}{"b":2}${RS}{not json}${RS}{"d":4}${RS}`);
    const err = await errorOf(collect(chunked(body, [3, 17])));
    expect(err.code).toBe('protocol');
    expect(err.position).toEqual({ record: 2, byte: 16 });
    expect(err.snippet).toBe('{not json}');
    expect(err.message).toContain('record 2 at byte 16');
  });

  test('a 1 MiB record arriving in 4 KiB chunks is joined correctly, and chunks are kept, not re-scanned', () => {
    const big = { type: 'workflow-step-result', payload: { output: 'x'.repeat(1024 * 1024) } };
    const body = enc.encode(`${JSON.stringify(big)}${RS}{"after":true}${RS}`);
    const splitter = new RecordSplitter();
    const out: RawRecord[] = [];
    let maxPending = 0;
    for (let i = 0; i < body.length; i += 4096) {
      splitter.push(body.subarray(i, i + 4096), out);
      maxPending = Math.max(maxPending, splitter.pendingBytes);
    }
    splitter.end();
    expect(out).toHaveLength(2);
    expect(JSON.parse(out[0]!.text)).toEqual(big);
    expect(out[1]!.byteOffset).toBe(out[0]!.byteLength + 1);
    expect(maxPending).toBeGreaterThan(1024 * 1024 - 4096);
    expect(splitter.pendingBytes).toBe(0);
    expect(splitter.byteCount).toBe(body.length);
  });

  test('parseRecordsSync parses a whole body (fixture text)', () => {
    const recs = parseRecordsSync(
      `{"type":"workflow-start","runId":"r","from":"WORKFLOW","payload":{}}${RS}`,
    );
    expect(recs).toHaveLength(1);
    expect(recs[0]!.value).toMatchObject({ type: 'workflow-start' });
  });

  test('stopping early calls return() on the source', async () => {
    let returned = false;
    const source: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]() {
        let i = 0;
        return {
          next: async () => ({ done: false, value: enc.encode(`{"i":${i++}}${RS}`) }),
          return: async () => {
            returned = true;
            return { done: true, value: undefined };
          },
        };
      },
    };
    for await (const r of parseRecords(source)) {
      if (r.index === 3) break;
    }
    expect(returned).toBe(true);
  });
});
