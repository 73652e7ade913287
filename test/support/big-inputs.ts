/**
 * Large inputs made on the spot, for tests that need more output than a pipe holds (a reader that
 * closes early must find the CLI still writing).
 */
import { writeFileSync } from 'node:fs';
import { TcpConversation } from '../../scripts/lib/frames.js';
import { LinkType } from '../../src/decode/link-layer.js';
import { PcapWriter } from '../../src/source/pcap-writer.js';

/** The n-th address of 10.0.0.0/8 (n < 2^24). */
export const nthClient = (n: number): string => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;

/** A pcap in which each of `clients` addresses sends one AUTH PLAIN and gets a 535 (a second apart). */
export async function manyFailuresCapture(path: string, clients: number): Promise<string> {
  const w = new PcapWriter(path, LinkType.EN10MB);
  const t0 = 1_700_000_000_000_000;
  for (let i = 0; i < clients; i++) {
    const frames: { frame: Buffer; ts: number }[] = [];
    const c = new TcpConversation('en10mb', { ip: nthClient(i), port: 40000 + (i % 20000) }, { ip: '192.0.2.25', port: 587 }, (frame, ts) =>
      frames.push({ frame, ts }),
    );
    const t = t0 + i * 1_000_000;
    c.open(t);
    c.fromClient(`AUTH PLAIN ${Buffer.from(`\0user${i}\0secret`).toString('base64')}\r\n`, t + 1000);
    c.fromServer('535 5.7.8 Error: authentication failed\r\n', t + 2000);
    for (const f of frames) {
      const pause = w.write(f.frame, Math.floor(f.ts / 1e6), f.ts % 1e6);
      if (pause) await pause;
    }
  }
  await w.close();
  return path;
}

/** Postfix lines, one client and account per line: `outcome` picks SASL failures or successful logins. */
export function postfixLog(path: string, lines: number, outcome: 'failure' | 'success'): string {
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const s = String(i % 60).padStart(2, '0');
    const m = String(Math.floor(i / 60) % 60).padStart(2, '0');
    const h = String(Math.floor(i / 3600) % 24).padStart(2, '0');
    const stamp = `Feb 12 ${h}:${m}:${s} mail.example.com`;
    out.push(
      outcome === 'failure'
        ? `${stamp} postfix/smtpd[1990]: warning: unknown[${nthClient(i)}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6`
        : `${stamp} postfix/submission/smtpd[2001]: 4F1A2B3C01: client=unknown[${nthClient(i)}], sasl_method=PLAIN, sasl_username=user${i}`,
    );
  }
  writeFileSync(path, out.join('\n') + '\n');
  return path;
}
