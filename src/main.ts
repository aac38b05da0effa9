/** `npm start`: load `.env`, validate the configuration, start Flowgate, stop cleanly on a signal. */
import { createFlowgateApp, StartupError } from './app.ts';
import { ConfigError, loadConfig, readDotEnv } from './config.ts';
import { PolicyError } from './policy.ts';
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
  try {
    await flowgate.start();
  } catch (error) {
    await flowgate.stop().catch(() => {});
    const reason =
      error instanceof StartupError ? error.message : `Flowgate could not start: ${String(error)}`;
    process.stderr.write(`${reason}\n`);
    process.exit(1); // a half-started Slack connection may otherwise keep retrying
  }
  const stop = async (signal: string) => {
    process.stderr.write(`${signal}: stopping Flowgate…\n`);
    await flowgate.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

process.on('unhandledRejection', (reason) => {
  process.stderr.write(
    `Unhandled rejection (kept running): ${reason instanceof Error ? reason.message : String(reason)}\n`,
  );
});

await main();
