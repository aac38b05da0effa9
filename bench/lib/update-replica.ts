/**
 * One replica's progress edits for `bench/budgets.ts` (a worker thread: an event loop of its own):
 * the real publisher with its permits from the ledger in PostgreSQL (src/slack/io/permits.ts), editing
 * its messages through the real gateway as fast as they change. Told `{ stall: ms }`, it blocks its
 * event loop that long (a busy loop, as a starved CPU would); told `stop`, it closes and reports.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SlackGateway } from '../../src/slack/io/gateway.ts';
import { StorePermits } from '../../src/slack/io/permits.ts';
import { type MessageRef, ProgressPublisher } from '../../src/slack/io/publisher.ts';
import { openStore } from '../../src/store/index.ts';

export interface UpdateReplicaData {
  databaseUrl: string;
  slackApiUrl: string;
  token: string;
  perMinute: number;
  refs: MessageRef[];
}

const data = workerData as UpdateReplicaData;
const store = openStore(data.databaseUrl);
await store.ready();
const gateway = new SlackGateway({ token: data.token, slackApiUrl: data.slackApiUrl });
const publisher = new ProgressPublisher<{ text: string }>({
  send: (ref, message) => gateway.updateMessage(ref.channel, ref.ts, message),
  minIntervalMs: 100,
  budget: {
    perMinute: data.perMinute,
    permits: new StorePermits({ store, name: 'chat.update', perMinute: data.perMinute }),
  },
});
let version = 0;
const feed = setInterval(() => {
  version++;
  for (const ref of data.refs) publisher.publish(ref, version, { text: `state ${version}` });
}, 50);

parentPort!.on('message', async (message: { stall?: number } | 'stop') => {
  if (message === 'stop') {
    clearInterval(feed);
    await publisher.close({ withinMs: 1000 });
    gateway.close();
    await store.close();
    parentPort!.postMessage({ stats: publisher.stats() });
    return;
  }
  const until = Date.now() + (message.stall ?? 0);
  while (Date.now() < until) {
    // busy: nothing else of this replica runs
  }
});
parentPort!.postMessage('ready');
