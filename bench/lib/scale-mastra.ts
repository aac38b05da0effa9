/**
 * The Mastra server of bench/scale.ts, in a process of its own: thousands of sleeping runs would
 * otherwise share the harness's core and event loop with the Slack emulator and the load. It counts
 * what Flowgate asks of it at its HTTP server: requests, connections (peak and now), and the runs'
 * event streams open (`stream`, `resume-stream`, `observe`). The harness's own requests (starting
 * runs elsewhere) carry `x-bench: setup` and are not counted, nor are their connections.
 *
 * IPC: the child sends `{ type: 'ready', url }`; the parent sends `{ id, type: 'stats' | 'ends' }`
 * and gets `{ id, … }` back (see `Stats` and `Ends`); `{ type: 'stop' }` (or the parent going
 * away) ends the child.
 */
import type { Socket } from 'node:net';
import { startMastraServer } from '../../test/support/mastra/server.ts';
import { FROM_ELSEWHERE, FROM_SLACK, type RunMarks, sleeper } from './scale-workflow.ts';

export interface Stats {
  /** Requests Flowgate made. */
  requests: number;
  /** Connections Flowgate holds open now, and the most at once. */
  sockets: number;
  peakSockets: number;
  /** Event streams of runs open now. */
  streams: number;
  /** Runs whose first step ran, and whose final step ran. */
  begun: number;
  ended: number;
}

/** Each ended run: id, when its final step ran (epoch ms), whether a stream of it was open then. */
export type Ends = [runId: string, at: number, streamed: boolean][];

const begun = new Set<string>();
const ends: Ends = [];
const openStreams = new Map<string, number>();
const marks: RunMarks = {
  begun: (runId) => void begun.add(runId),
  ended: (runId) => void ends.push([runId, Date.now(), (openStreams.get(runId) ?? 0) > 0]),
};

const server = await startMastraServer({
  workflows: { [FROM_SLACK]: sleeper(FROM_SLACK, marks), [FROM_ELSEWHERE]: sleeper(FROM_ELSEWHERE, marks) },
});

let requests = 0;
let sockets = 0;
let peakSockets = 0;
const seen = new WeakSet<Socket>();
server.httpServer.on('request', (req, res) => {
  const setup = req.headers['x-bench'] === 'setup';
  const socket = req.socket;
  if (!seen.has(socket)) {
    seen.add(socket); // a connection is Flowgate's or the harness's from its first request on
    if (!setup) {
      sockets++;
      peakSockets = Math.max(peakSockets, sockets);
      socket.once('close', () => sockets--);
    }
  }
  if (setup) return;
  requests++;
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const runId = url.searchParams.get('runId');
  if (runId === null || !/\/(stream|resume-stream|observe)$/.test(url.pathname)) return;
  openStreams.set(runId, (openStreams.get(runId) ?? 0) + 1);
  res.once('close', () => {
    const left = (openStreams.get(runId) ?? 1) - 1;
    if (left > 0) openStreams.set(runId, left);
    else openStreams.delete(runId);
  });
});

function streamsOpen(): number {
  let n = 0;
  for (const count of openStreams.values()) n += count;
  return n;
}

process.on('message', async (m: { id?: number; type: string }) => {
  if (m.type === 'stats') {
    const stats: Stats = {
      requests,
      sockets,
      peakSockets,
      streams: streamsOpen(),
      begun: begun.size,
      ended: ends.length,
    };
    process.send?.({ id: m.id, ...stats });
  } else if (m.type === 'ends') {
    process.send?.({ id: m.id, ends });
  } else if (m.type === 'stop') {
    await server.close();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));

process.send?.({ type: 'ready', url: server.url });
