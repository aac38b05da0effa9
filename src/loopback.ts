/**
 * Local servers (the sandbox's page, its embedded Mastra server, Flowgate's receiver in the
 * sandbox, the Slack emulator) answer only requests meant for them: a web page open in the same
 * browser must not reach them, neither through a hostile domain that resolves to 127.0.0.1 (DNS
 * rebinding: a foreign `Host`) nor by a cross-site request (a foreign `Origin`, or a browser's
 * `Sec-Fetch-Site` saying so). Programs (Flowgate, tests) send `Host: 127.0.0.1:PORT` and no
 * `Origin`, and get through.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

/** The names a loopback server may be addressed by. */
const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]'];

export interface Refusal {
  /** 421 for a foreign Host, 403 for a cross-site request. */
  status: 403 | 421;
  reason: string;
}

/** Why a request to a server listening on loopback `port` must be refused, or `undefined`. */
export function foreignRequest(req: IncomingMessage, port: number): Refusal | undefined {
  const host = (req.headers.host ?? '').toLowerCase();
  if (!LOOPBACK_HOSTS.some((name) => host === `${name}:${port}`)) {
    return { status: 421, reason: `This server answers on 127.0.0.1:${port} only.` };
  }
  const origin = req.headers.origin;
  if (origin !== undefined && origin.toLowerCase() !== `http://${host}`) {
    return { status: 403, reason: 'Cross-origin requests are refused.' };
  }
  // Without an Origin (a GET from a tag, say), the browser still says where the request comes
  // from. Only following a link to a page is let through from elsewhere: it reads nothing back.
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') {
    const navigation =
      (req.method === 'GET' || req.method === 'HEAD') &&
      req.headers['sec-fetch-mode'] === 'navigate' &&
      req.headers['sec-fetch-dest'] === 'document';
    if (!navigation) return { status: 403, reason: 'Cross-site requests are refused.' };
  }
  return undefined;
}

function refuse(res: ServerResponse, refusal: Refusal): void {
  res.writeHead(refusal.status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': String(Buffer.byteLength(refusal.reason)),
    'cache-control': 'no-store',
    connection: 'close',
  });
  res.end(refusal.reason);
}

/**
 * Makes `server` (listening, or about to listen, on loopback) refuse foreign requests and
 * WebSocket upgrades with a short plain-text reason, before any of its own handlers see them —
 * the ones it has and any added later. Call it before the server listens, or in the same tick
 * as its `listening` event (no request is read before then).
 */
export function loopbackOnly<S extends Server>(server: S): S {
  const emit = server.emit as (this: S, event: string | symbol, ...args: unknown[]) => boolean;
  server.emit = function (this: S, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'request' || event === 'upgrade') {
      const req = args[0] as IncomingMessage;
      const port = (server.address() as AddressInfo | null)?.port ?? -1;
      const refusal = foreignRequest(req, port);
      if (refusal) {
        if (event === 'request') refuse(args[1] as ServerResponse, refusal);
        else {
          const socket = args[1] as Duplex;
          socket.end(
            `HTTP/1.1 ${refusal.status} ${refusal.status === 421 ? 'Misdirected Request' : 'Forbidden'}\r\n` +
              `content-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(refusal.reason)}\r\nconnection: close\r\n\r\n${refusal.reason}`,
          );
        }
        return true;
      }
    }
    return emit.call(this, event, ...args);
  } as S['emit'];
  return server;
}
