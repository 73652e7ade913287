/** Small helpers to build captures in memory for unit tests (frames from scripts/lib/frames.ts). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapWriter } from '../../src/source/pcap-writer.js';
import { linkTypeOf, TcpConversation, type Link } from '../../scripts/lib/frames.js';
import type { EventSink, PipelineEvent } from '../../src/events.js';

export interface Frame {
  frame: Buffer;
  tsUsec: number;
}

/** Collects frames; `write()` puts them in a pcap file in a temp dir. */
export class FrameList {
  readonly frames: Frame[] = [];
  readonly sink = (frame: Buffer, tsUsec: number): void => {
    this.frames.push({ frame, tsUsec });
  };
  conversation(link: Link, client: string, cport: number, server: string, sport: number, isnC = 1000, isnS = 5000, vlan?: number[]): TcpConversation {
    return new TcpConversation(link, { ip: client, port: cport }, { ip: server, port: sport }, this.sink, isnC, isnS, vlan);
  }
  async write(path: string, link: Link = 'en10mb'): Promise<string> {
    const w = new PcapWriter(path, linkTypeOf[link]);
    for (const f of this.frames) await w.write(f.frame, Math.floor(f.tsUsec / 1e6), f.tsUsec % 1e6);
    await w.close();
    return path;
  }
}

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'smtpstrike-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export class EventLog implements EventSink {
  readonly events: PipelineEvent[] = [];
  event(ev: PipelineEvent): void {
    this.events.push(ev);
  }
  of<T extends PipelineEvent['type']>(type: T): (PipelineEvent & { type: T })[] {
    return this.events.filter((e): e is PipelineEvent & { type: T } => e.type === type);
  }
}

export const b64 = (s: string): string => Buffer.from(s, 'latin1').toString('base64');

/** A full LOGIN session: greeting, EHLO, AUTH LOGIN, user, password, reply, QUIT. */
export function loginSession(c: TcpConversation, t0: number, user: string, reply: string, cuts: number[] = []): number {
  let t = t0;
  c.open(t);
  c.fromServer('220 mail.example.test ESMTP Postfix\r\n', (t += 1000));
  c.fromClient('EHLO bot\r\n', (t += 1000));
  c.fromServer('250-mail.example.test\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n', (t += 1000));
  c.fromClient('AUTH LOGIN\r\n', (t += 1000));
  c.fromServer('334 VXNlcm5hbWU6\r\n', (t += 1000));
  c.fromClient(`${b64(user)}\r\n`, (t += 1000));
  c.fromServer('334 UGFzc3dvcmQ6\r\n', (t += 1000));
  c.fromClient(`${b64('wrong')}\r\n`, (t += 1000));
  c.fromServer(reply, (t += 1000), cuts);
  c.fromClient('QUIT\r\n', (t += 1000));
  c.fromServer('221 2.0.0 Bye\r\n', (t += 1000));
  c.close((t += 1000));
  return t;
}
