/**
 * Slack's Socket Mode, emulated: `apps.connections.open` hands out a `ws://` URL on the emulator's
 * own port; an app that connects gets `hello`, is pinged every few seconds (Slack's SDK reconnects
 * when pings stop), and receives envelopes (`slash_commands`, `interactive`, `events_api`) that it
 * must acknowledge with `{ envelope_id, payload? }` within 3 seconds, as on Slack.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';

export type EnvelopeType = 'slash_commands' | 'interactive' | 'events_api';

interface Pending {
  resolve(payload: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export class SocketModeServer {
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #sockets = new Set<WebSocket>();
  readonly #pending = new Map<string, Pending>();
  readonly #path: string;
  readonly #pingIntervalMs: number;
  readonly #appId: string;
  #seq = 0;
  #tickets = 0;

  constructor(options: { appId: string; path?: string; pingIntervalMs?: number }) {
    this.#appId = options.appId;
    this.#path = options.path ?? '/socket-mode';
    this.#pingIntervalMs = options.pingIntervalMs ?? 10_000;
  }

  /** Takes over WebSocket upgrades of `path` on `server`. */
  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname !== this.#path) {
        socket.destroy();
        return;
      }
      this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws));
    });
  }

  /** The URL `apps.connections.open` answers with, for a server at `baseUrl` (`http://…`). */
  connectionUrl(baseUrl: string): string {
    this.#tickets += 1;
    return `${baseUrl.replace(/^http/, 'ws')}${this.#path}?ticket=emulator-${this.#tickets}`;
  }

  /** Open Socket Mode connections. */
  get connections(): number {
    return this.#sockets.size;
  }

  /**
   * Sends one envelope to the newest connection and resolves to the payload of its
   * acknowledgement (`undefined` for a bare ack). Rejects when no app is connected or no ack
   * arrives within `timeoutMs` (Slack then shows the user an error).
   */
  send(type: EnvelopeType, payload: unknown, timeoutMs = 3000): Promise<unknown> {
    const socket = [...this.#sockets].at(-1);
    if (!socket) return Promise.reject(new Error('No app is connected in Socket Mode.'));
    this.#seq += 1;
    const envelopeId = `emulator-envelope-${this.#seq}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(envelopeId);
        reject(
          new Error(`The app did not acknowledge ${type} envelope ${envelopeId} within ${timeoutMs} ms.`),
        );
      }, timeoutMs);
      this.#pending.set(envelopeId, { resolve, reject, timer });
      socket.send(
        JSON.stringify({
          envelope_id: envelopeId,
          type,
          payload,
          accepts_response_payload: type !== 'events_api',
          ...(type === 'events_api' ? { retry_attempt: 0, retry_reason: '' } : {}),
        }),
      );
    });
  }

  /** Closes every connection (with `disconnect` first, as Slack does) and fails waiting sends. */
  close(): void {
    for (const socket of this.#sockets) {
      socket.send(
        JSON.stringify({ type: 'disconnect', reason: 'warning', debug_info: { host: 'emulator' } }),
      );
      socket.terminate();
    }
    this.#sockets.clear();
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(new Error(`The emulator closed before envelope ${id} was acknowledged.`));
    }
    this.#pending.clear();
    this.#wss.close();
  }

  #accept(ws: WebSocket): void {
    this.#sockets.add(ws);
    const ping = setInterval(() => ws.ping(), this.#pingIntervalMs);
    ping.unref();
    ws.on('close', () => {
      clearInterval(ping);
      this.#sockets.delete(ws);
    });
    ws.on('error', () => ws.terminate());
    ws.on('message', (data) => this.#onMessage(String(data)));
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.#sockets.size,
        debug_info: { host: 'emulator', approximate_connection_time: 18060 },
        connection_info: { app_id: this.#appId },
      }),
    );
  }

  #onMessage(text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof message !== 'object' || message === null) return;
    const { envelope_id: id, payload } = message as { envelope_id?: unknown; payload?: unknown };
    if (typeof id !== 'string') return;
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    pending.resolve(payload);
  }
}
