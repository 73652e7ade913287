/**
 * Measures the tarpit child's resident memory with N idle loopback connections (native-notes/tarpit.md):
 * `node dist/scripts/tarpit-rss.js 1000 4096`. Each connection has its greeting paced at 1 B/s, so
 * every one is held with a reply owed (the pacing timer's work list at its largest).
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { TarpitSupervisor } from '../src/tarpit/tarpit-supervisor.js';
import { DEFAULT_TARPIT_LINES, TARPIT_DEFAULTS } from '../src/tarpit/tarpit-lines.js';

const rssKb = (pid: number): number => Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const counts = process.argv.slice(2).map(Number);
  const max = Math.max(...counts);
  const sup = new TarpitSupervisor(
    {
      address: { host: '127.0.0.1', port: 0 },
      user: TARPIT_DEFAULTS.user,
      heapMb: TARPIT_DEFAULTS.heapMb,
      config: {
        rate: 1,
        decoyRate: 0.1,
        maxConnections: max,
        perAddress: max,
        lifetimeSec: 600,
        idleSec: 600,
        maxLine: 1024,
        lines: [...DEFAULT_TARPIT_LINES],
        hostname: 'decoy.example',
      },
    },
    { info: () => undefined, warn: (o) => console.error(o), error: (o) => console.error(o) },
  );
  await sup.start();
  const pid = sup.pid!;
  await sleep(1000);
  console.log(`idle child, no connection: RSS ${(rssKb(pid) / 1024).toFixed(1)} MiB`);
  const socks: Socket[] = [];
  for (const n of counts.sort((a, b) => a - b)) {
    while (socks.length < n) {
      const s = connect(sup.address.port, '127.0.0.1');
      s.on('error', () => undefined);
      socks.push(s);
      if (socks.length % 200 === 0) await sleep(50);
    }
    for (let i = 0; i < 100 && sup.counts.connections < n; i++) await sleep(100);
    await sleep(2000);
    console.log(`${n} idle connections (child reports ${sup.counts.connections}): RSS ${(rssKb(pid) / 1024).toFixed(1)} MiB`);
  }
  for (const s of socks) s.destroy();
  await sup.stop();
}
void main();
