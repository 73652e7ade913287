/**
 * The decoy SMTP server (src/tarpit/tarpit-server.ts) on loopback, real sockets, in process: pacing
 * (a lower bound only), 451 lines, 535 / decoy 235, STARTTLS with its self-signed certificate,
 * passwords never in an event, caps, long lines, lifetime.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { TarpitServer } from '../src/tarpit/tarpit-server.js';
import { selfSignedContext } from '../src/tarpit/tarpit-cert.js';
import type { TarpitConfig, TarpitEvent, TarpitSessionEvent } from '../src/tarpit/tarpit-types.js';
import { waitFor } from './support/wait.js';

const base: TarpitConfig = {
  rate: 100_000,
  decoyRate: 0,
  maxConnections: 4096,
  perAddress: 16,
  lifetimeSec: 600,
  idleSec: 120,
  maxLine: 1024,
  lines: ['451 4.3.0 First decoy line', 'Second decoy line'],
  hostname: 'decoy.test',
  seed: 1,
};

async function start(over: Partial<TarpitConfig> = {}, tls = false): Promise<{ srv: TarpitServer; net: Server; port: number; events: TarpitEvent[] }> {
  const events: TarpitEvent[] = [];
  const ctx = tls ? await selfSignedContext('decoy.test') : null;
  const srv = new TarpitServer({ ...base, ...over }, (e) => events.push(e), ctx);
  const net = createServer();
  srv.serve(net);
  await new Promise<void>((r) => net.listen(0, '127.0.0.1', r));
  return { srv, net, port: (net.address() as AddressInfo).port, events };
}

/** A line-reading client over a socket (plain or TLS). */
class Client {
  buf = '';
  closed = false;
  constructor(public sock: Socket) {
    this.attach(sock);
  }
  attach(s: Socket): void {
    this.sock = s;
    s.setEncoding('latin1');
    s.on('data', (d: string) => (this.buf += d));
    s.on('close', () => (this.closed = true));
    s.on('error', () => (this.closed = true));
  }
  /** The next whole reply (its lines), waiting as long as it takes. */
  async reply(deadlineMs = 20_000): Promise<string[]> {
    const done = (): number => {
      const m = /(^|\n)\d{3} [^\n]*\n/.exec(this.buf);
      return m ? m.index + m[0].length : -1;
    };
    await waitFor(() => done() >= 0 || this.closed, 'a reply', deadlineMs);
    const n = done();
    if (n < 0) throw new Error(`closed before a reply; got ${JSON.stringify(this.buf)}`);
    const r = this.buf.slice(0, n);
    this.buf = this.buf.slice(n);
    return r.split('\r\n').filter((l) => l !== '');
  }
  send(s: string): void {
    this.sock.write(s);
  }
}

async function client(port: number): Promise<Client> {
  const s = connect(port, '127.0.0.1');
  const c = new Client(s);
  await new Promise<void>((r) => {
    s.once('connect', r);
    s.once('error', () => r()); // a refused one is reset at once
  });
  return c;
}

const sessions = (ev: TarpitEvent[]): TarpitSessionEvent[] => ev.filter((e): e is TarpitSessionEvent => e.event === 'tarpit_session');

test('tarpit: the greeting is paced at rate bytes/s (a lower bound only), commands get the 451 lines, QUIT 221', async () => {
  const t = await start({ rate: 20 });
  const t0 = performance.now();
  const c = await client(t.port);
  const g = await c.reply();
  const took = (performance.now() - t0) / 1000;
  assert.deepEqual(g, ['220 decoy.test ESMTP']);
  const bytes = '220 decoy.test ESMTP\r\n'.length;
  // The first tick sends rate × 0.1 s bytes at once, so the floor is (bytes - 2) / rate.
  assert.ok(took >= (bytes - 2) / 20, `greeting of ${bytes} bytes at 20 B/s took only ${took} s`);
  t.srv.close();
  t.net.close();
  c.sock.destroy();

  const f = await start();
  const d = await client(f.port);
  await d.reply();
  d.send('EHLO bot\r\n');
  const ehlo = await d.reply();
  assert.ok(ehlo.includes('250-AUTH PLAIN LOGIN'), ehlo.join('|'));
  assert.ok(!ehlo.some((l) => l.includes('STARTTLS')), 'no STARTTLS without a certificate');
  d.send('MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nNOOP\r\n');
  for (let i = 0; i < 4; i++) {
    const [l] = await d.reply();
    assert.match(l!, /^451 (4\.3\.0 First decoy line|4\.3\.0 Second decoy line)$/);
  }
  d.send('QUIT\r\n');
  assert.deepEqual(await d.reply(), ['221 2.0.0 Bye']);
  await waitFor(() => sessions(f.events).length === 1, 'the session event');
  const ev = sessions(f.events)[0]!;
  assert.equal(ev.end, 'quit');
  assert.equal(ev.commands, 6);
  assert.equal(ev.client, '127.0.0.1');
  assert.equal(ev.local_port, f.port);
  assert.ok(ev.bytes_out > 0 && ev.bytes_in > 0);
  f.srv.close();
  f.net.close();
});

test('tarpit: AUTH answered 535 at decoy rate 0 (usernames kept, passwords never seen), 235 then 451 at MAIL at rate 1', async () => {
  const pw = 'Sup3rSecretPw';
  const plain = Buffer.from(`\0alice@example.com\0${pw}`).toString('base64');
  const t = await start({ decoyRate: 0 });
  const c = await client(t.port);
  await c.reply();
  c.send(`AUTH PLAIN ${plain}\r\n`);
  assert.match((await c.reply())[0]!, /^535 /);
  c.send('AUTH LOGIN\r\n');
  assert.deepEqual(await c.reply(), ['334 VXNlcm5hbWU6']);
  c.send(`${Buffer.from('bob\x1b[31m').toString('base64')}\r\n`);
  assert.deepEqual(await c.reply(), ['334 UGFzc3dvcmQ6']);
  c.send(`${Buffer.from(pw).toString('base64')}\r\n`);
  assert.match((await c.reply())[0]!, /^535 /);
  c.send('AUTH PLAIN\r\n');
  assert.deepEqual(await c.reply(), ['334 ']);
  c.send(`${Buffer.from(`carol\0carol\0${pw}`).toString('base64')}\r\n`);
  assert.match((await c.reply())[0]!, /^535 /);
  c.sock.destroy();
  await waitFor(() => sessions(t.events).length === 1, 'the session event');
  const ev = sessions(t.events)[0]!;
  assert.deepEqual(ev.usernames, ['alice@example.com', 'bob\\x1b[31m', 'carol']);
  assert.equal(ev.auth_attempts, 3);
  assert.equal(ev.decoy_successes, 0);
  assert.equal(ev.end, 'closed');
  const all = JSON.stringify(t.events);
  assert.ok(!all.includes(pw) && !all.includes(Buffer.from(pw).toString('base64')), 'a password in an event');
  t.srv.close();
  t.net.close();

  const d = await start({ decoyRate: 1 });
  const k = await client(d.port);
  await k.reply();
  k.send(`AUTH PLAIN ${plain}\r\n`);
  assert.deepEqual(await k.reply(), ['235 2.7.0 Authentication successful']);
  k.send('MAIL FROM:<spam@x>\r\n');
  assert.match((await k.reply())[0]!, /^451 /);
  k.send('RCPT TO:<v@y>\r\nDATA\r\n');
  assert.match((await k.reply())[0]!, /^451 /);
  assert.match((await k.reply())[0]!, /^451 /);
  k.send('QUIT\r\n');
  await k.reply();
  await waitFor(() => sessions(d.events).length === 1, 'the session event');
  assert.equal(sessions(d.events)[0]!.decoy_successes, 1);
  d.srv.close();
  d.net.close();
});

test('tarpit: STARTTLS with the self-signed certificate, then the same behaviour inside TLS', async () => {
  const t = await start({ decoyRate: 1 }, true);
  const c = await client(t.port);
  await c.reply();
  c.send('EHLO bot\r\n');
  assert.ok((await c.reply()).includes('250-STARTTLS'));
  c.send('STARTTLS\r\n');
  assert.deepEqual(await c.reply(), ['220 2.0.0 Ready to start TLS']);
  const raw = c.sock;
  raw.removeAllListeners('data');
  const s = tlsConnect({ socket: raw, rejectUnauthorized: false, servername: 'decoy.test' });
  await new Promise<void>((r, j) => {
    s.once('secureConnect', r);
    s.once('error', j);
  });
  assert.equal(s.getPeerCertificate().subject.CN, 'decoy.test');
  const tc = new Client(s);
  tc.send('EHLO bot\r\n');
  const ehlo = await tc.reply();
  assert.ok(ehlo.includes('250-AUTH PLAIN LOGIN') && !ehlo.some((l) => l.includes('STARTTLS')), ehlo.join('|'));
  tc.send(`AUTH LOGIN ${Buffer.from('dave').toString('base64')}\r\n`);
  assert.deepEqual(await tc.reply(), ['334 UGFzc3dvcmQ6']);
  tc.send(`${Buffer.from('hunter2hunter2').toString('base64')}\r\n`);
  assert.match((await tc.reply())[0]!, /^235 /);
  tc.send('MAIL FROM:<a@b>\r\n');
  assert.match((await tc.reply())[0]!, /^451 /);
  tc.send('QUIT\r\n');
  assert.deepEqual(await tc.reply(), ['221 2.0.0 Bye']);
  await waitFor(() => sessions(t.events).length === 1, 'the session event');
  const ev = sessions(t.events)[0]!;
  assert.equal(ev.starttls, true);
  assert.deepEqual(ev.usernames, ['dave']);
  assert.ok(!JSON.stringify(t.events).includes('hunter2'));
  t.srv.close();
  t.net.close();
});

test('tarpit: the total and per-address caps refuse at once and count; usernames stop at 16', async () => {
  const t = await start({ maxConnections: 3, perAddress: 2, decoyRate: 0 });
  const a = await client(t.port);
  const b = await client(t.port);
  const c = await client(t.port); // third from 127.0.0.1: over the per-address cap
  await waitFor(() => c.closed, 'the per-address refusal');
  assert.equal(t.srv.counts.refusedPerAddress, 1);
  assert.deepEqual(t.events[0], { event: 'tarpit_refused', client: '127.0.0.1', reason: 'per_address' });
  // Another loopback address counts separately, up to the total cap.
  const other = async (): Promise<Client> => {
    const s = connect({ port: t.port, host: '127.0.0.1', localAddress: '127.0.0.2' });
    const k = new Client(s);
    await new Promise<void>((r) => {
      s.once('connect', r);
      s.once('error', () => r());
    });
    return k;
  };
  const d = await other();
  const e = await other();
  await waitFor(() => e.closed, 'the total refusal');
  assert.equal(t.srv.counts.refusedTotal, 1);
  assert.equal(t.srv.connections, 3);
  await a.reply();
  for (let i = 0; i < 20; i++) {
    a.send(`AUTH PLAIN ${Buffer.from(`\0user${i}\0pw`).toString('base64')}\r\n`);
    await a.reply();
  }
  a.sock.destroy();
  await waitFor(() => sessions(t.events).length === 1, 'the session event');
  const ev = sessions(t.events)[0]!;
  assert.equal(ev.usernames.length, 16);
  assert.equal(ev.usernames_dropped, 4);
  assert.equal(ev.auth_attempts, 20);
  for (const x of [b, d]) x.sock.destroy();
  t.srv.close();
  t.net.close();
});

test('tarpit: a long-line flood is discarded as it arrives (memory bounded), the connection still answers', async () => {
  const t = await start({ maxLine: 1024 });
  const c = await client(t.port);
  await c.reply();
  const chunk = Buffer.alloc(64 * 1024, 0x41);
  for (let i = 0; i < 160; i++) {
    // 10 MiB without a newline
    if (!c.sock.write(chunk)) await new Promise((r) => c.sock.once('drain', r));
  }
  await waitFor(() => t.srv.counts.longLines >= 1, 'the long line counted');
  assert.ok(t.srv.bufferedInput <= 1024, `holds ${t.srv.bufferedInput} bytes of input`);
  c.send('\r\nNOOP\r\n');
  assert.match((await c.reply())[0]!, /^451 /);
  c.sock.destroy();
  t.srv.close();
  t.net.close();
});

test('tarpit: the lifetime ends a session (end: lifetime), idle ends a silent one', async () => {
  const t = await start({ lifetimeSec: 1, rate: 1 });
  const c = await client(t.port);
  await waitFor(() => c.closed, 'the lifetime end', 10_000);
  await waitFor(() => sessions(t.events).length === 1, 'the session event');
  const ev = sessions(t.events)[0]!;
  assert.equal(ev.end, 'lifetime');
  assert.ok(ev.held_s >= 1);
  t.srv.close();
  t.net.close();
  const i = await start({ idleSec: 1 });
  const d = await client(i.port);
  await d.reply();
  await waitFor(() => d.closed, 'the idle end', 10_000);
  await waitFor(() => sessions(i.events).length === 1, 'the session event');
  assert.equal(sessions(i.events)[0]!.end, 'idle');
  i.srv.close();
  i.net.close();
});
