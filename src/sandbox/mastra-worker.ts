/**
 * The embedded Mastra server in a worker thread of its own: its packages take over a second to
 * load, and in a worker that happens while the main thread starts the emulator and Flowgate.
 * Protocol: the worker posts `{ type: 'ready', url }` (or `{ type: 'failed', message }`); the
 * parent ends it with `terminate()`, which also stops any running step at once.
 */
import { enableCompileCache } from 'node:module';
import { parentPort } from 'node:worker_threads';

enableCompileCache?.();
try {
  const { startEmbeddedMastra } = await import('./mastra.ts');
  const server = await startEmbeddedMastra();
  parentPort?.postMessage({ type: 'ready', url: server.url });
} catch (error) {
  parentPort?.postMessage({
    type: 'failed',
    message: error instanceof Error ? error.message : String(error),
  });
}
