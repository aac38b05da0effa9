import type { AddressInfo, Server } from 'node:net';

/**
 * Starts `server` listening on `port` (0: a free one) at `host` (default: every interface).
 * Resolves to the port it listens on; rejects with what kept it from listening (e.g. the port taken).
 */
export async function listen(server: Server, port: number, host?: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(host === undefined ? { port } : { port, host }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}
