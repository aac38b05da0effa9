/**
 * A bare `http.createServer` on 127.0.0.1 (port 0) for fault tests that nock cannot do safely
 * (aborts and timeouts mid-stream): each test scripts the replies with its own handler.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RawRequest {
  method: string;
  url: string;
  body: string;
}

export interface RawServer {
  url: string;
  /** Every request received, in order (body read before the handler runs). */
  requests: RawRequest[];
  close(): Promise<void>;
}

export type RawHandler = (
  req: IncomingMessage & { bodyText: string },
  res: ServerResponse,
  index: number,
) => void;

export async function startRawServer(handler: RawHandler): Promise<RawServer> {
  const requests: RawRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const bodyText = Buffer.concat(chunks).toString('utf8');
      const index = requests.length;
      requests.push({ method: req.method ?? '', url: req.url ?? '', body: bodyText });
      handler(Object.assign(req, { bodyText }), res, index);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Serializes records the way the Mastra server does: JSON + 0x1E each. */
export function records(...values: unknown[]): string {
  return values.map((v) => `${JSON.stringify(v)}\x1e`).join('');
}
