/**
 * Generated SMTP conversations (from scratch, not mutated): a mix of well-formed and broken client
 * and server lines, sent over TCP in one segment per message or cut at arbitrary places. Without
 * gaps, where the segments are cut must not change what the pipeline reports.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { linkTypeOf } from '../../scripts/lib/frames.js';
import type { EventSink, PipelineEvent } from '../../src/events.js';
import { Pipeline } from '../../src/pipeline.js';
import { newPacketRecord } from '../../src/source/packet-record.js';
import { FrameList } from '../support/synth.js';
import { fuzzPipelineOptions } from './targets.js';

export interface Message {
  fromClient: boolean;
  text: string;
  /** Segment sizes for the cut delivery. */
  cuts: number[];
}

const b64 = (s: string): string => Buffer.from(s, 'latin1').toString('base64');

const serverLine = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      '220 mx ESMTP',
      '250-mx',
      '250-AUTH PLAIN LOGIN',
      '250 8BITMIME',
      '334 VXNlcm5hbWU6',
      '334 UGFzc3dvcmQ6',
      '334 ',
      '235 2.7.0 Authentication successful',
      '535 5.7.8 Error: authentication failed',
      '535-5.7.8 first',
      '535 5.7.8 second',
      '454 4.7.0 Temporary failure',
      '354 go ahead',
      '221 bye',
      '220 2.0.0 Ready to start TLS',
      '500 5.5.2 what',
      '250 ok',
      '53',
      '5355 x',
      '',
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...'0123455- \r\nabc'.split('')), maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 40, size: 'max' }) },
);

const clientLine = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      'EHLO bot',
      'AUTH LOGIN',
      'AUTH PLAIN',
      `AUTH PLAIN ${b64('\0alice\0pw')}`,
      `AUTH LOGIN ${b64('bob')}`,
      'AUTH CRAM-MD5',
      b64('carol'),
      b64('\0dave\0pw'),
      b64('secret'),
      '*',
      'MAIL FROM:<a@b.test>',
      'RCPT TO:<c@d.test>',
      'DATA',
      'BDAT 12 LAST',
      'BDAT 5',
      '.',
      'STARTTLS',
      'QUIT',
      'RSET',
      '535 5.7.8 inside a body',
      '',
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 40 }) },
);

const eol = fc.constantFrom('\r\n', '\r\n', '\n');

function message(fromClient: boolean): fc.Arbitrary<Message> {
  return fc.record({
    fromClient: fc.constant(fromClient),
    text: fc.tuple(fc.array(fromClient ? clientLine : serverLine, { minLength: 1, maxLength: 3 }), eol).map(([lines, e]) => lines.map((l) => l + e).join('')),
    cuts: fc.array(fc.integer({ min: 1, max: 16 }), { maxLength: 6 }),
  });
}

export const dialogArb: fc.Arbitrary<Message[]> = fc.array(fc.oneof(message(false), message(true)), { minLength: 1, maxLength: 14, size: 'max' });

class Events implements EventSink {
  readonly auth: string[] = [];
  event(ev: PipelineEvent): void {
    if (ev.type === 'auth_failure' || ev.type === 'auth_success' || ev.type === 'auth_tempfail') {
      this.auth.push(JSON.stringify([ev.type, ev.code, ev.mech, ev.user, ev.text, ev.matched]));
    }
  }
}

/** Runs one conversation through the pipeline; `cut` says whether messages are split at their cuts. */
/** Source port and TCP payload length of one of our Ethernet/IPv4 frames. */
function portAndLen(f: Buffer): [number, number] {
  return [f.readUInt16BE(34), f.length - 54];
}

/** Swaps each two consecutive data segments of the same direction: out-of-order arrival. */
function reorder<T extends { frame: Buffer }>(frames: readonly T[]): T[] {
  const out = [...frames];
  for (let i = 0; i + 1 < out.length; i++) {
    const [pa, la] = portAndLen(out[i]!.frame);
    const [pb, lb] = portAndLen(out[i + 1]!.frame);
    if (pa === pb && la > 0 && lb > 0) {
      [out[i], out[i + 1]] = [out[i + 1]!, out[i]!];
      i++;
    }
  }
  return out;
}

type Delivery = 'once' | 'twice' | 'reordered';

function run(dialog: readonly Message[], cut: boolean, delivery: Delivery = 'once'): { auth: string[]; pipeline: Pipeline } {
  const frames = new FrameList();
  const c = frames.conversation('en10mb', '192.0.2.7', 40000, '198.51.100.1', 587);
  let t = 1_700_000_000_000_000;
  c.open(t);
  for (const m of dialog) {
    const bytes = Buffer.from(m.text, 'latin1');
    c.send(m.fromClient, bytes, (t += 1000), cut ? m.cuts : []);
  }
  c.close(t + 1000);
  const sink = new Events();
  const p = new Pipeline(fuzzPipelineOptions(), sink);
  const rec = newPacketRecord();
  const order = delivery === 'twice' ? frames.frames.flatMap((x) => [x, x]) : delivery === 'reordered' ? reorder(frames.frames) : frames.frames;
  for (const f of order) {
    rec.buf = f.frame;
    rec.off = 0;
    rec.caplen = f.frame.length;
    rec.origlen = f.frame.length;
    rec.tsSec = Math.floor(f.tsUsec / 1e6);
    rec.tsNsec = (f.tsUsec % 1e6) * 1000;
    rec.linktype = linkTypeOf.en10mb;
    p.packet(rec);
  }
  p.finish();
  return { auth: sink.auth, pipeline: p };
}

/**
 * Never throws; cutting the segments differently, capturing every packet twice, or swapping
 * consecutive segments of one direction changes nothing; no more failures than server lines that start with `5`.
 */
export function fuzzSmtpDialog(dialog: readonly Message[]): void {
  const whole = run(dialog, false);
  const cut = run(dialog, true);
  assert.deepEqual(cut.auth, whole.auth, 'segment boundaries changed the auth outcomes');
  // Every packet captured twice (a retransmission of the same bytes) changes nothing either.
  assert.deepEqual(run(dialog, true, 'twice').auth, whole.auth, 'duplicated packets changed the auth outcomes');
  // Segments of one direction arriving out of order are put back in order.
  assert.deepEqual(run(dialog, true, 'reordered').auth, whole.auth, 'out-of-order segments changed the auth outcomes');
  const fives = dialog.filter((m) => !m.fromClient).reduce((n, m) => n + m.text.split('\n').filter((l) => l.startsWith('5')).length, 0);
  const failures = whole.auth.filter((a) => a.startsWith('["auth_failure"')).length;
  assert.ok(failures <= fives, `${failures} failures from ${fives} server lines starting with 5`);
}
