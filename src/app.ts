/**
 * Wiring: config → the workflow client, store, policy, Slack clients, publisher, tracker,
 * progress messages, use cases and Bolt listeners. `start()` listens (HTTP or Socket Mode) and
 * re-follows every run whose progress message was not final when the process last stopped.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App } from '@slack/bolt';
import { WorkflowCatalog } from './catalog.ts';
import { type Config, DEFAULTS } from './config.ts';
import { DeadlineScheduler } from './deadlines/scheduler.ts';
import type { Deadline, Firing } from './deadlines/types.ts';
import { RunLeases, replicaId } from './following/leases.ts';
import { SharedFollowing } from './following/shared-following.ts';
import { RunTracker } from './following/tracker.ts';
import { boltLogger, createJsonLogger, type Logger } from './logger.ts';
import { loopbackOnly } from './loopback.ts';
import { type MastraCall, MastraClient } from './mastra/client.ts';
import type { JsonSchema } from './mastra/types.ts';
import { FlowgateMetrics } from './metrics.ts';
import { CHECK_WITHIN_MS, opsRoutes, startOpsServer } from './ops.ts';
import { loadPolicy, withAdmins } from './policy/load.ts';
import type { Policy } from './policy/types.ts';
import { slackFailure } from './slack/errors.ts';
import {
  BOLT_CLIENT_TIMEOUT_MS,
  slackClientOptions,
  socketModeClientOptions,
} from './slack/io/call-policies.ts';
import { storeGuard } from './slack/io/edit-guard.ts';
import { type SlackCall, SlackGateway, slackErrorCode } from './slack/io/gateway.ts';
import { Outbox } from './slack/io/outbox.ts';
import { StorePermits } from './slack/io/permits.ts';
import { ProgressPublisher, type Publisher, type PublisherOptions } from './slack/io/publisher.ts';
import { registerListeners } from './slack/listeners/register.ts';
import type { RenderedMessage } from './slack/render/run-message.ts';
import { Deadlines, quorumProblems } from './slack/services/deadlines/deadlines.ts';
import { deadlineActions } from './slack/services/deadlines/index.ts';
import { ProgressMessages } from './slack/services/progress-messages.ts';
import { RunsStartedElsewhere } from './slack/services/runs-started-elsewhere.ts';
import { type AnswerEvent, validationProblems } from './slack/usecases/context.ts';
import { createUseCases, type UseCases } from './slack/usecases/index.ts';
import { openStore, type Store } from './store/index.ts';
import { Retention } from './store/retention.ts';
import { withTimeout } from './util/with-timeout.ts';

/** Flowgate cannot start, for a reason the person running it can fix; `message` says how. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

const TOKEN_REFUSED = new Set([
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
]);

/** Why Slack or the network refused to let Flowgate start, in words that name the setting to fix. */
function startupError(error: unknown, config: Config, token: 'SLACK_BOT_TOKEN' | 'SLACK_APP_TOKEN'): Error {
  const code = slackErrorCode(error);
  if (code && TOKEN_REFUSED.has(code)) {
    return new StartupError(
      token === 'SLACK_BOT_TOKEN'
        ? `Slack refused SLACK_BOT_TOKEN (${code}). Copy the Bot User OAuth Token (xoxb-…) from your Slack app's OAuth & Permissions page; reinstall the app to the workspace if it was revoked.`
        : `Slack refused SLACK_APP_TOKEN (${code}). Create an app-level token (xapp-…) with the connections:write scope on your Slack app's Basic Information page.`,
    );
  }
  if (code) return new StartupError(`Slack refused to start the app (${code}).`);
  const errno = (error as { code?: unknown } | undefined)?.code;
  if (errno === 'EADDRINUSE' && config.slack.mode === 'http') {
    return new StartupError(`Port ${config.slack.port} is already in use. Set PORT to a free port.`);
  }
  const failure = slackFailure(error);
  if (failure.kind === 'http' || failure.kind === 'rate_limited') {
    const what = failure.kind === 'http' ? `HTTP ${failure.status}` : 'rate limited';
    return new StartupError(
      `Slack's Web API at ${config.slackApiUrl} answered ${what} at start-up. Slack may be having trouble: start Flowgate again in a minute.`,
    );
  }
  if (errno === 'slack_webapi_request_error') {
    return new StartupError(
      `Slack's Web API could not be reached at ${config.slackApiUrl} (${(error as Error).message}). Check the network, or SLACK_API_URL.`,
    );
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** `stop()` resolves within this long, even mid-step and with Slack not answering. */
export const STOP_WITHIN_MS = 1500;
/** Of which the publisher may spend this long delivering the progress states it holds. */
const FLUSH_WITHIN_MS = 1000;

/** Waits for `work` (its failure ignored), but not past `deadline` (a `performance.now()` time). */
async function before(deadline: number, work: Promise<unknown>): Promise<void> {
  await withTimeout(
    work.catch(() => {}),
    Math.max(0, deadline - performance.now()),
    undefined,
  );
}

/** Values never to log: the configured tokens and secrets, and the database URL's password. */
function secretsOf(config: Config): string[] {
  const secrets = [config.slack.botToken, config.mastra.authToken, config.metricsToken];
  if (config.slack.mode === 'socket') secrets.push(config.slack.appToken);
  else secrets.push(config.slack.signingSecret);
  if (URL.canParse(config.dbPath)) {
    const password = new URL(config.dbPath).password;
    if (password) secrets.push(password, decodeURIComponent(password));
  }
  return secrets.filter((s): s is string => s !== undefined && s !== '');
}

export interface FlowgateApp {
  app: App;
  /** The use cases the listeners call, by capability (src/slack/usecases/). */
  useCases: UseCases;
  progress: ProgressMessages;
  publisher: Publisher<RenderedMessage>;
  tracker: RunTracker;
  store: Store;
  /** Which runs this replica follows (leases in the store). */
  leases: RunLeases;
  /** Runs followed without a live stream, waiting for the shared check to see them change. */
  shared: SharedFollowing;
  /** Runs Flowgate did not start: found, posted and kept in step. */
  elsewhere: RunsStartedElsewhere;
  /** What is kept of waiting steps' deadlines and quorums (their actions: the scheduler's). */
  deadlines: Deadlines;
  /** The one loop that fires stored deadlines when due: reminders, escalations, timeouts. */
  scheduler: DeadlineScheduler;
  /** Thread replies and DMs, each sent once; its loop tries again what failed. */
  outbox: Outbox;
  /** This app's metrics (`GET /metrics`), in a registry of its own. */
  metrics: FlowgateMetrics;
  /** This replica's id (`leases.id`), on every JSON log line as `replica`. */
  replica: string;
  /**
   * Checks the bot token with Slack, listens, then re-follows unfinished runs. Resolves to the
   * bound port in HTTP mode (and the ops server's with `FLOWGATE_OPS_PORT`);
   * rejects with a `StartupError` naming the setting to fix.
   */
  start(): Promise<{ port?: number; opsPort?: number }>;
  /**
   * Stops within `STOP_WITHIN_MS`: stops listening, cuts every run stream, flushes what the
   * publisher holds, closes the store. Runs still going are followed again by the next start.
   */
  stop(): Promise<void>;
}

export interface FlowgateAppOptions {
  /** Instead of the JSON logger (LOG_FORMAT) on stdout, e.g. the sandbox's short lines. */
  logger?: Logger;
  /** Where the JSON logger writes its lines (default stdout; tests capture them). */
  logWrite?: (line: string) => void;
  /** Polling cadence of runs whose event stream ended while they still run. */
  pollIntervalMs?: number;
  /** Policy to use instead of loading `config.policyPath`. */
  policy?: Policy;
  /** Interface to listen on in HTTP mode (default: all). */
  host?: string;
  /** HTTP mode on loopback (the sandbox): refuse requests not addressed to it there, or cross-site (src/loopback.ts). */
  loopbackOnly?: boolean;
  /** How often stored deadlines are looked for (the worst delay of a deadline). Default 250 ms. */
  deadlineIntervalMs?: number;
  /** How often notices to try again are looked for (src/slack/io/outbox.ts). Default 1000 ms. */
  outboxIntervalMs?: number;
  /** Benchmarks only: no metrics counted (the hooks left out; `/metrics` still answers), to measure their cost. */
  metrics?: false;
  /**
   * Makes the publisher of progress updates from Flowgate's options, instead of the coalescing
   * `ProgressPublisher` (benchmarks measure it against a baseline: bench/lib/naive-publisher.ts).
   */
  publisher?: (options: PublisherOptions<RenderedMessage>) => Publisher<RenderedMessage>;
  /** Each person's allowance of `runs` and lookups of unknown runs (default: 6 at once, then one per 5 s). */
  lookupLimit?: { burst: number; refillMs: number };
}

export function createFlowgateApp(config: Config, options: FlowgateAppOptions = {}): FlowgateApp {
  const replica = replicaId();
  // The replica on every JSON line; a logger passed in (the sandbox's short lines) is kept as it is.
  const logger =
    options.logger ??
    createJsonLogger({
      level: config.logLevel,
      format: config.logFormat ?? 'json',
      secrets: secretsOf(config),
      fields: { replica },
      ...(options.logWrite ? { write: options.logWrite } : {}),
    });
  const metrics = new FlowgateMetrics();
  const counted = options.metrics !== false;
  const store = openStore(config.dbPath);
  // One list of admins for every decision: the policy file's and FLOWGATE_ADMINS.
  const policy = withAdmins(options.policy ?? loadPolicy(config.policyPath), config.admins);
  const client = new MastraClient({
    baseUrl: config.mastra.url,
    apiPrefix: config.mastra.apiPrefix,
    ...(config.mastra.authToken ? { headers: { authorization: `Bearer ${config.mastra.authToken}` } } : {}),
    ...(config.mastra.streams !== undefined ? { streamConnections: config.mastra.streams } : {}),
    ...(config.mastra.connections !== undefined ? { connections: config.mastra.connections } : {}),
    ...(counted ? { onCall: (call: MastraCall) => metrics.mastraCall(call) } : {}),
    // Streams never queue for long: the tracker hands them out (and says when all are taken).
    onExhausted: ({ budget, connections }) => {
      if (budget === 'control')
        logger.warn(
          `Every one of the ${connections} connections for calls to the Mastra server is in use; further calls wait for one (raise FLOWGATE_MASTRA_CONNECTIONS).`,
        );
    },
  });
  // Bolt's own lines (and its Web API clients') come out as Flowgate's, at LOG_LEVEL.
  const slackLogger = boltLogger(logger, config.logLevel);
  // Set once Bolt's auth.test accepted the bot token at start-up.
  let slackAccepted = false;
  const routes = opsRoutes({
    database: () => store.health().then(() => 'ok'),
    mastra: () => client.listWorkflows({ partial: true, deadlineMs: CHECK_WITHIN_MS }).then(() => 'ok'),
    slack: async () => (slackAccepted ? 'ok' : 'the bot token was not accepted (yet)'),
    metrics,
    metricsToken: config.metricsToken,
  });
  // The SDK retries nothing: Bolt's own client makes one attempt (auth.test at start-up), the
  // gateway retries each call by its policy, the Socket Mode connection keeps its own (retry.ts).
  const clientOptions = slackClientOptions(config.slackApiUrl, BOLT_CLIENT_TIMEOUT_MS);
  const app =
    config.slack.mode === 'socket'
      ? new App({
          token: config.slack.botToken,
          appToken: config.slack.appToken,
          socketMode: true,
          logger: slackLogger,
          clientOptions,
          installerOptions: { clientOptions: socketModeClientOptions(config.slackApiUrl) },
          deferInitialization: true,
        })
      : new App({
          token: config.slack.botToken,
          signingSecret: config.slack.signingSecret,
          logger: slackLogger,
          clientOptions,
          deferInitialization: true,
          customRoutes: Object.entries(routes).map(([path, handler]) => ({ path, method: ['GET'], handler })),
        });
  const gateway = new SlackGateway({
    token: config.slack.botToken,
    slackApiUrl: config.slackApiUrl,
    logger: app.logger,
    ...(counted ? { onCall: (call: SlackCall) => metrics.slackCall(call) } : {}),
  });
  const publisherOptions: PublisherOptions<RenderedMessage> = {
    send: (ref, message) => gateway.updateMessage(ref.channel, ref.ts, message),
    // Across replicas and restarts: never an older state after a newer one, never an edit that
    // changes nothing (a compare-and-set in the store, src/slack/io/edit-guard.ts).
    guard: storeGuard(store),
    minIntervalMs: config.updateIntervalMs,
    // One ledger in the database for every replica on it: the budget holds across them exactly.
    budget: {
      perMinute: config.updatesPerMinute,
      permits: new StorePermits({
        store,
        name: 'chat.update',
        perMinute: config.updatesPerMinute,
        logger,
      }),
    },
    onError: (ref, error, info) => {
      if (!info.willRetry) logger.warn(`progress update of ${ref.channel}/${ref.ts} gave up`, error);
    },
  };
  const publisher: Publisher<RenderedMessage> = options.publisher
    ? options.publisher(publisherOptions)
    : new ProgressPublisher(publisherOptions);
  // Live streams for as many runs as the stream connections allow; every other run by the shared poll.
  const tracker = new RunTracker({
    streams: config.mastra.streams ?? DEFAULTS.mastraStreams,
    pollIntervalMs: options.pollIntervalMs ?? 2000,
    onStreamsFull: (streams) =>
      logger.warn(
        `All ${streams} live event streams to the Mastra server are taken: the runs beyond them are followed by one shared check every ${config.watchIntervalMs} ms, and a run just started or answered takes the stream of the quietest (raise FLOWGATE_MASTRA_STREAMS for more live runs).`,
      ),
    onError: (runId, error) =>
      logger.warn(`run ${runId}: following hit an error, will retry`, error, { runId }),
  });
  const shared = new SharedFollowing();
  const catalog = new WorkflowCatalog(client);
  // `replica` (above): one id for this replica's log lines, run leases and claims of notices.
  const outbox = new Outbox({
    store,
    gateway,
    logger,
    owner: replica,
    onAsked: (runId) => progress?.refresh(runId),
    wanted: async (notice) =>
      !notice.asks || !notice.runId || !progress ? true : progress.stillAsking(notice.runId, notice.asks),
    ...(options.outboxIntervalMs !== undefined ? { intervalMs: options.outboxIntervalMs } : {}),
  });
  const deadlines = new Deadlines({
    store,
    policy,
    outbox,
    problemsOf: (schema, value) => validationProblems(schema as JsonSchema, value),
  });
  const retention = new Retention({
    store,
    logger,
    retentionMs: (config.retentionDays ?? DEFAULTS.retentionDays) * 24 * 60 * 60_000,
  });
  // Set once progress exists: the leases hand it the runs they claim or lose.
  let progress: ProgressMessages | undefined;
  const leases = new RunLeases({
    store,
    replicaId: replica,
    leaseMs: config.leaseMs ?? DEFAULTS.leaseMs,
    logger,
    onClaimed: (rows) => progress?.followClaimed(rows),
    onLost: (runIds) => progress?.letGo(runIds),
  });
  progress = new ProgressMessages({
    store,
    tracker,
    publisher,
    gateway,
    catalog,
    client,
    policy,
    logger,
    leases,
    deadlines,
    shared,
    outbox,
  });
  const useCases: UseCases = createUseCases({
    client,
    catalog,
    store,
    policy,
    gateway,
    progress,
    outbox,
    command: config.command,
    logger,
    deadlines,
    ...(counted ? { onAnswer: (event: AnswerEvent) => metrics.answer(event) } : {}),
    ...(options.lookupLimit ? { lookupLimit: options.lookupLimit } : {}),
  });
  // Built last: what a deadline does needs the progress messages and the answering use case.
  const scheduler = new DeadlineScheduler({
    queue: store,
    intervalMs: options.deadlineIntervalMs ?? 250,
    actions: deadlineActions({
      store,
      policy,
      client,
      catalog,
      outbox,
      logger,
      deadlines,
      refresh: (runId) => progress.refresh(runId),
      askByDm: (row, info, questions, who) => progress.askWhereTheyCanRead(row, info, questions, who),
      answerAs: (row, question, data, note) => useCases.answering.answerAsFlowgate(row, question, data, note),
    }),
    ...(counted
      ? { onFire: (deadline: Deadline, firing: Firing) => metrics.deadlineFired(deadline.kind, firing.late) }
      : {}),
    onError: (error, deadline) => {
      if (counted) metrics.deadlineFailed();
      logger.warn(
        deadline ? `run ${deadline.runId}: its ${deadline.kind} deadline failed` : 'deadlines check failed',
        error,
        deadline ? { runId: deadline.runId } : undefined,
      );
    },
  });
  const elsewhere = new RunsStartedElsewhere({
    client,
    catalog,
    store,
    policy,
    gateway,
    progress,
    tracker,
    logger,
    intervalMs: config.watchIntervalMs,
    shared,
    ...(counted ? { onWatchCycle: (ms: number) => metrics.watchCycle(ms) } : {}),
  });
  metrics.observe({
    streams: () => tracker.streams.held,
    shared: () => shared.size,
    leases: () => leases.held().length,
    publisher: () => publisher.stats(),
  });
  registerListeners(app, useCases, config.command);
  app.error(async (error) => {
    logger.error('unhandled error in a listener', error);
  });

  let server: Server | undefined;
  let opsServer: Server | undefined;
  return {
    app,
    useCases,
    progress,
    publisher,
    tracker,
    store,
    leases,
    shared,
    elsewhere,
    deadlines,
    scheduler,
    outbox,
    metrics,
    replica,
    async start() {
      // The database first: unreachable or unusable, nothing else starts (one clear line).
      await store.ready().catch((error: unknown) => {
        throw new StartupError(error instanceof Error ? error.message : String(error));
      });
      // Bolt checks the bot token (auth.test) here, so a refused token stops the start-up.
      await app.init().catch((error: unknown) => {
        throw startupError(error, config, 'SLACK_BOT_TOKEN');
      });
      slackAccepted = true;
      // `required` above 1 only on yes/no steps: known from the server's resume schemas. When the
      // server cannot be asked now, each step is checked again when it starts waiting.
      const refused = await quorumProblems(policy, catalog).catch((error: unknown) => {
        logger.warn('could not check the policy’s required approvals against the Mastra server now', error);
        return [];
      });
      if (refused.length > 0) {
        throw new StartupError(
          [
            `The policy${policy.source ? ` (${policy.source})` : ''} cannot be followed:`,
            ...refused.map((p) => `  - ${p}`),
          ].join('\n'),
        );
      }
      let port: number | undefined;
      if (config.slack.mode === 'http') {
        const listen = options.host ? { port: config.slack.port, host: options.host } : config.slack.port;
        server = (await app.start(listen).catch((error: unknown) => {
          throw startupError(error, config, 'SLACK_BOT_TOKEN');
        })) as Server;
        // In the same tick as it started listening: no request has been read yet.
        if (options.loopbackOnly) loopbackOnly(server);
        port = (server.address() as AddressInfo).port;
        logger.info(
          `Flowgate listening on port ${port} (POST /slack/events, GET /healthz, /readyz, /metrics)`,
        );
      } else {
        await app.start().catch((error: unknown) => {
          throw startupError(error, config, 'SLACK_APP_TOKEN');
        });
        logger.info('Flowgate connected to Slack in Socket Mode');
      }
      let opsPort: number | undefined;
      if (config.opsPort !== undefined) {
        const ops = await startOpsServer(routes, config.opsPort, options.host).catch((error: unknown) => {
          throw (error as { code?: unknown }).code === 'EADDRINUSE'
            ? new StartupError(
                `Port ${config.opsPort} is already in use. Set FLOWGATE_OPS_PORT to a free port.`,
              )
            : error;
        });
        opsServer = ops.server;
        opsPort = ops.port;
        logger.info(`Flowgate serving GET /healthz, /readyz, /metrics on port ${opsPort}`);
      }
      await leases.start(); // claims this replica's share of the unfinished runs, and follows them
      const resumed = leases.held().length;
      if (resumed > 0) logger.info(`following ${resumed} unfinished run(s) again`);
      await elsewhere.checkChannels();
      elsewhere.start();
      scheduler.start(); // what fell due while Flowgate was down fires now, marked late
      outbox.start(); // notices left unsent (Slack failed, a process stopped) go out now
      retention.start(); // finished runs past the retention period, by one replica per hour
      return {
        ...(port === undefined ? {} : { port }),
        ...(opsPort === undefined ? {} : { opsPort }),
      };
    },
    async stop() {
      // Within STOP_WITHIN_MS whatever Slack and Mastra do: runs are followed again at the next
      // start (from the store), so nothing needs to wait for a step to end.
      const deadline = performance.now() + STOP_WITHIN_MS;
      progress.stop(); // no new follows; nothing is recorded as final from here on
      gateway.close(); // calls waiting to retry give up now
      await before(deadline, elsewhere.stop()); // no more checks for runs started elsewhere
      await before(deadline, scheduler.stop()); // no more deadlines fire here; others fire them
      await before(deadline, outbox.stop()); // notices not sent yet are sent by others, or the next start
      await before(deadline, retention.stop());
      server?.closeAllConnections();
      opsServer?.closeAllConnections();
      opsServer?.close();
      await before(deadline, app.stop());
      await before(deadline, tracker.stop()); // cuts every run stream and poll at once
      await publisher.close({ withinMs: Math.min(FLUSH_WITHIN_MS, deadline - performance.now()) });
      await before(deadline, progress.idle());
      // Hands every run this replica held to the others at once.
      await before(
        deadline,
        leases.stop().catch((error: unknown) => logger.warn('handing runs over failed', error)),
      );
      await before(deadline, client.close());
      await store.close();
    },
  };
}
