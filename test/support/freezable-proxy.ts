import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on a loopback port in front of a server, which a test can freeze: while frozen,
 * bytes in both directions are held (not lost) and delivered at thaw — a Redis that is up but
 * answers late, deterministically (no sleep, no machine-speed assumption).
 */
export class FreezableProxy {
  private frozen = false;
  private readonly held: { to: Socket; data: Buffer }[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(upstreamPort: number): Promise<FreezableProxy> {
    let self: FreezableProxy | null = null;
    const server = createServer((client) => {
      const up = connect(upstreamPort, '127.0.0.1');
      const p = self!;
      p.sockets.add(client).add(up);
      const relay = (from: Socket, to: Socket): void => {
        from.on('data', (d: Buffer) => {
          if (p.frozen) p.held.push({ to, data: d });
          else to.write(d);
        });
        from.on('close', () => to.destroy());
        from.on('error', () => to.destroy());
      };
      relay(client, up);
      relay(up, client);
    });
    const port = await new Promise<number>((resolve) =>
      server.listen(0, '127.0.0.1', () => {
        const a = server.address();
        resolve(typeof a === 'object' && a ? a.port : 0);
      }),
    );
    self = new FreezableProxy(server, port);
    return self;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}/0`;
  }

  freeze(): void {
    this.frozen = true;
  }

  thaw(): void {
    this.frozen = false;
    for (const { to, data } of this.held.splice(0)) if (!to.destroyed) to.write(data);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
