/**
 * `npm start` with no Slack settings: starts the sandbox, prints one line with its address, and
 * stops within about 2 s of SIGINT or SIGTERM (a second signal, or a stop that hangs, exits at once).
 */
import { enableCompileCache } from 'node:module';
import { StartupError } from '../app.ts';
import { ConfigError, type Env } from '../config.ts';
import { PolicyError } from '../policy/load.ts';

/** How long a stop may take before the process exits anyway. */
const STOP_DEADLINE_MS = 1500;

/** True when `npm start` should open the sandbox: no Slack bot token is configured. */
export function sandboxWanted(env: Env = process.env): boolean {
  return (env.SLACK_BOT_TOKEN?.trim() ?? '') === '';
}

export async function runSandbox(env: Env = process.env): Promise<void> {
  enableCompileCache?.(); // later starts skip compiling what this one compiled
  const { startSandbox } = await import('./sandbox.ts');
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  try {
    sandbox = await startSandbox({ env });
  } catch (error) {
    const known =
      error instanceof ConfigError || error instanceof PolicyError || error instanceof StartupError;
    process.stderr.write(`${known ? error.message : `The sandbox could not start: ${String(error)}`}\n`);
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(0);
    stopping = true;
    process.stderr.write(`${signal}: stopping the Flowgate sandbox…\n`);
    const deadline = setTimeout(() => process.exit(0), STOP_DEADLINE_MS);
    deadline.unref();
    void sandbox
      .stop()
      .catch(() => {})
      .finally(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.stdout.write(`Flowgate sandbox: open ${sandbox.url}\n`);
}
