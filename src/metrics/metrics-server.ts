/**
 * The Prometheus endpoint: GET /metrics on one HTTP listener, the registry rendered at each scrape
 * (its collect callbacks read the live counters then). Anything else is 404 (405 for another method
 * on /metrics). No TLS, no authentication: bind it to loopback or a management network.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { ListenAddress } from './listen-address.js';

export class MetricsServer {
  private server: Server | null = null;

  constructor(private readonly registry: Registry) {}

  /** Listens; resolves with the address actually bound (port 0: the kernel's choice). Rejects with a clear message. */
  async listen(at: ListenAddress): Promise<ListenAddress> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: the metrics are at /metrics\n');
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('GET /metrics\n');
        return;
      }
      this.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': this.registry.contentType });
          res.end(req.method === 'HEAD' ? undefined : text);
        },
        (e: Error) => {
          res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${e.message}\n`);
        },
      );
    });
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      const fail = (e: NodeJS.ErrnoException): void => {
        const why =
          e.code === 'EADDRINUSE'
            ? 'the port is in use'
            : e.code === 'EADDRNOTAVAIL'
              ? 'no such address on this host'
              : e.code === 'EACCES'
                ? 'permission denied'
                : e.message;
        reject(new Error(`cannot serve metrics on ${at.host}:${at.port}: ${why}`));
      };
      server.once('error', fail);
      server.listen(at.port, at.host, () => {
        server.off('error', fail);
        resolve();
      });
    });
    server.unref(); // never what keeps watch running
    this.server = server;
    const a = server.address() as AddressInfo;
    return { host: a.address, port: a.port };
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
