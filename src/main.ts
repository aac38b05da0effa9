/**
 * `npm start`: load `.env`, validate the configuration, start Flowgate, stop cleanly on a signal
 * (SIGTERM or SIGINT: exit code 0 within 2 s; see the README on running under a supervisor).
 */
import { createFlowgateApp, STOP_WITHIN_MS, StartupError } from './app.ts';
import { ConfigError, loadConfig, readDotEnv } from './config.ts';
import { PolicyError } from './policy/load.ts';
import { runSandbox, sandboxWanted } from './sandbox/run.ts';

async function main(): Promise<void> {
  let flowgate: ReturnType<typeof createFlowgateApp>;
  try {
    readDotEnv();
    if (sandboxWanted()) return await runSandbox(); // no Slack settings: the local sandbox
    flowgate = createFlowgateApp(loadConfig());
  } catch (error) {
    if (error instanceof ConfigError || error instanceof PolicyError) {
      process.stderr.write(`${error.message}\n\nSee .env.example for every setting.\n`);
      process.exitCode = 1;
      return;
    }
    throw error;
  }
  // SIGTERM (a supervisor) or SIGINT (Ctrl-C), also while starting: stop within STOP_WITHIN_MS and
  // exit 0. A repeated signal changes nothing (Ctrl-C under `npm start` reaches node twice: from
  // the terminal and from npm); should stopping ever hang, the process exits anyway with 1.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`${signal}: stopping Flowgate…\n`);
    setTimeout(() => {
      process.stderr.write('Flowgate did not stop in time; exiting anyway.\n');
      process.exit(1);
    }, STOP_WITHIN_MS + 500).unref();
    void flowgate.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`Flowgate did not stop cleanly: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  try {
    await flowgate.start();
  } catch (error) {
    if (stopping) return; // stopped by a signal while starting: the stop exits
    stopping = true;
    await flowgate.stop().catch(() => {});
    const reason =
      error instanceof StartupError ? error.message : `Flowgate could not start: ${String(error)}`;
    process.stderr.write(`${reason}\n`);
    process.exit(1); // a half-started Slack connection may otherwise keep retrying
  }
}

process.on('unhandledRejection', (reason) => {
  process.stderr.write(
    `Unhandled rejection (kept running): ${reason instanceof Error ? reason.message : String(reason)}\n`,
  );
});

await main();
