/**
 * The tarpit child: forked by watch (tarpit-supervisor.ts) as an unprivileged user with a small
 * heap. It never binds: watch passes the listening socket over IPC. Events go back over IPC.
 */
import type { Server } from 'node:net';
import { selfSignedContext } from './tarpit-cert.js';
import { TarpitServer } from './tarpit-server.js';
import type { ChildMessage, ParentMessage, TarpitEvent } from './tarpit-types.js';

const send = (m: ChildMessage): void => {
  if (process.connected) process.send?.(m);
};

let server: TarpitServer | null = null;
let lastCount = -1;

process.on('message', (m: ParentMessage, handle?: unknown) => {
  if (m.type === 'shutdown') {
    server?.close(); // each session's event is sent first (IPC keeps the order)
    if (process.connected) process.send?.({ type: 'stats', connections: 0 } satisfies ChildMessage, () => process.exit(0));
    else process.exit(0);
    return;
  }
  if (m.type === 'listen' && handle && !server) {
    const cfg = m.config;
    selfSignedContext(cfg.hostname)
      .catch(() => null) // no certificate: EHLO offers no STARTTLS
      .then((tls) => {
        server = new TarpitServer(cfg, (ev: TarpitEvent) => send({ type: 'event', ev }), tls);
        server.serve(handle as Server);
        send({ type: 'listening' });
        setInterval(() => {
          const n = server?.connections ?? 0;
          if (n !== lastCount) send({ type: 'stats', connections: n });
          lastCount = n;
        }, 1000);
      })
      .catch((e: Error) => {
        send({ type: 'failed', err: e.message });
        process.exit(1);
      });
  }
});
// watch went away: so does the tarpit.
process.on('disconnect', () => {
  server?.close();
  process.exit(0);
});
