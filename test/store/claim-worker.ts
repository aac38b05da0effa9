// Worker for the cross-connection claim race in sqlite.test.ts: waits at a shared barrier, then claims
// every step of one run as `userId` through its own Store on the shared file, and reports the results.
import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from '../../src/store/index.ts';

interface Data {
  path: string;
  userId: string;
  runId: string;
  steps: number;
  barrier: SharedArrayBuffer;
  workers: number;
}

const data = workerData as Data;
const store = openStore(data.path);
const counter = new Int32Array(data.barrier);
// Barrier: everyone has opened the store before anyone claims.
if (Atomics.add(counter, 0, 1) + 1 === data.workers) Atomics.notify(counter, 0);
while (Atomics.load(counter, 0) < data.workers) Atomics.wait(counter, 0, Atomics.load(counter, 0));

const results = [];
for (let i = 0; i < data.steps; i++) {
  const result = await store.claimAnswer(data.runId, `step-${i}`, data.userId, new Date());
  results.push(result.claimed ? { claimed: true } : { claimed: false, by: result.by });
}
await store.close();
parentPort?.postMessage(results);
