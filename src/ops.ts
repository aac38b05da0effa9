/**
 * What operators and orchestrators ask of a replica over HTTP: `GET /healthz` (liveness: the
 * process answers, and the database), `GET /readyz` (readiness: the database, the Mastra server and
 * Slack's acceptance of the bot token) and `GET /metrics` (Prometheus text, optionally behind a
 * bearer token). In HTTP mode they are routes of Bolt's receiver; with `FLOWGATE_OPS_PORT` (Socket
 * Mode's only way) also of a small server of their own (`startOpsServer`), with nothing else on
 * it. Answers are plain text.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listen } from './listen.ts';
import type { FlowgateMetrics } from './metrics.ts';
import { withTimeout } from './util/with-timeout.ts';

/** How long each check waits before it counts as failed. */
export const CHECK_WITHIN_MS = 2000;

/** `ok`, or why a dependency is not usable now. */
export type Check = () => Promise<string>;

export interface OpsOptions {
  /** The database: `ok` or why not. */
  database: Check;
  /** The Mastra server answers a cheap call. */
  mastra: Check;
  /** Slack accepted the bot token (auth.test at start-up). */
  slack: Check;
  metrics: FlowgateMetrics;
  /** When set, `/metrics` wants `Authorization: Bearer <token>`. */
  metricsToken?: string | undefined;
}

export type OpsHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** `check()`'s answer, `unreachable` when it throws, or `no answer within …` when it is late. */
export async function within(check: Check, ms = CHECK_WITHIN_MS): Promise<string> {
  return withTimeout(
    check().catch(() => 'unreachable'),
    ms,
    `no answer within ${ms} ms`,
  );
}

function text(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(body);
}

/** Answers `lines` (`name: ok|why`), 200 when every one is `ok`, else 503 naming the ones that failed (`not ready: mastra`). */
function report(res: ServerResponse, notOk: string, checks: [string, string][]): void {
  const failed = checks.filter(([, result]) => result !== 'ok').map(([name]) => name);
  const head = failed.length === 0 ? 'ok' : `${notOk}: ${failed.join(', ')}`;
  text(
    res,
    failed.length === 0 ? 200 : 503,
    `${head}\n${checks.map(([name, result]) => `${name}: ${result}`).join('\n')}\n`,
  );
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match?.[1]) return false;
  const given = Buffer.from(match[1]);
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/** The three routes, by path. */
export function opsRoutes(options: OpsOptions): Record<'/healthz' | '/readyz' | '/metrics', OpsHandler> {
  return {
    '/healthz': (_req, res) => {
      // The database too: a replica that cannot reach it should be taken out of rotation.
      void within(options.database).then((database) => report(res, 'unhealthy', [['database', database]]));
    },
    '/readyz': (_req, res) => {
      void Promise.all([within(options.database), within(options.mastra), within(options.slack)]).then(
        ([database, mastra, slack]) =>
          report(res, 'not ready', [
            ['database', database],
            ['mastra', mastra],
            ['slack', slack],
          ]),
      );
    },
    '/metrics': (req, res) => {
      if (
        options.metricsToken !== undefined &&
        !bearerMatches(req.headers.authorization, options.metricsToken)
      ) {
        text(res, 401, 'unauthorized: send Authorization: Bearer <FLOWGATE_METRICS_TOKEN>\n', {
          'www-authenticate': 'Bearer',
        });
        return;
      }
      options.metrics.scrape().then(
        ({ contentType, text: body }) => {
          res.writeHead(200, { 'content-type': contentType });
          res.end(body);
        },
        () => text(res, 500, 'metrics could not be collected\n'),
      );
    },
  };
}

/** A server of their own for the routes (GET only), on `port` (0: any free one). */
export async function startOpsServer(
  routes: Record<string, OpsHandler>,
  port: number,
  host?: string,
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (!route) return text(res, 404, 'not found: GET /healthz, /readyz or /metrics\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'GET only\n', { allow: 'GET' });
    route(req, res);
  });
  server.on('clientError', (_error, socket) => socket.destroy());
  return { server, port: await listen(server, port, host) };
}
