/**
 * `smtpstrike dump` as a command: -c, -w (the file written replays to the same counts), BPF filters
 * offline through tcpdump (and the error when tcpdump is missing or the filter is bad), several
 * files merged in time order, compressed input, usage errors, a closed pipe (`| head -1`), and,
 * as root with tcpdump, a live capture on the loopback interface ended by -c and by SIGINT.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { CLI, smtpstrike } from './support/cli.js';
import { tempDir } from './support/synth.js';

const HAVE_TCPDUMP = spawnSync('tcpdump', ['--version']).status === 0;
const IS_ROOT = process.getuid?.() === 0;
const HEADER = /^\d\d:\d\d:\d\d\.\d{6} /;

function skipLoudly(t: { skip: (m: string) => void }, why: string): void {
  process.stderr.write(`SKIPPED LOUDLY: dump-cli: ${why}\n`);
  t.skip(why);
}

function dump(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string; lines: string[] } {
  const r = spawnSync(process.execPath, [CLI, 'dump', ...args], { encoding: 'latin1', env: { ...process.env, TZ: 'UTC', ...env }, maxBuffer: 256 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, lines: r.stdout.split('\n').filter((l) => l !== '') };
}
const headers = (lines: string[]): string[] => lines.filter((l) => HEADER.test(l));

function tcpdumpHeaders(args: string[]): string[] {
  const r = spawnSync('tcpdump', ['-nn', ...args], { encoding: 'latin1', env: { ...process.env, TZ: 'UTC' } });
  return r.stdout.split('\n').filter((l) => HEADER.test(l));
}

test('-c stops after that many packets; -n and -nn are accepted', () => {
  const r = dump(['-nn', '-c', '5', '-r', 'pcaps/testbed/login-587.pcap']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(headers(r.lines).length, 5);
  assert.equal(headers(dump(['-n', '-c', '1', '-r', 'pcaps/testbed/login-587.pcap']).lines).length, 1);
});

test('-w writes the packets shown: tcpdump reads the same lines, replay gives the same counts', () => {
  const { dir, cleanup } = tempDir();
  try {
    for (const file of ['pcaps/testbed/login-587.pcap', 'pcaps/testbed/login-587-any.pcap', 'pcaps/crafted/fmt-nsec-le.pcap', 'pcaps/crafted/ipv6.pcap']) {
      const out = join(dir, 'out.pcap');
      const r = dump(['-r', file, '-w', out]);
      assert.equal(r.status, 0, r.stderr);
      const original = smtpstrike(['replay', '--json', file]).summary;
      const written = smtpstrike(['replay', '--json', out]).summary;
      assert.deepEqual(written.clients, original.clients, file);
      assert.deepEqual(
        written.blocks.map((b) => [b.key, b.rule]),
        original.blocks.map((b) => [b.key, b.rule]),
        file,
      );
      assert.equal(written.coverage.packets, original.coverage.packets, file);
      assert.deepEqual(headers(dump(['-r', out]).lines), headers(r.lines), `${file}: the written file prints the same`);
      if (HAVE_TCPDUMP) assert.deepEqual(tcpdumpHeaders(['-r', out]), headers(r.lines), `${file}: tcpdump reads the written file`);
    }
    // A -w file that cannot be written: one line, nothing printed, exit status 1.
    const bad = dump(['-r', 'pcaps/testbed/login-587.pcap', '-w', join(dir, 'no', 'such', 'dir.pcap')]);
    assert.equal(bad.status, 1);
    assert.equal(bad.stdout, '');
    assert.match(bad.stderr, /^smtpstrike: cannot write -w .*: ENOENT\n$/);
    // With -c only the packets shown are written.
    const out = join(dir, 'first40.pcap');
    dump(['-r', 'pcaps/testbed/login-587.pcap', '-c', '40', '-w', out]);
    assert.equal(smtpstrike(['replay', '--json', out]).summary.coverage.packets, 40);
  } finally {
    cleanup();
  }
});

test('several files are merged in time order, like replay', () => {
  const files = ['pcaps/crafted/multifile-b.pcap', 'pcaps/crafted/multifile-a.pcap'];
  const r = dump(files.flatMap((f) => ['-r', f]));
  assert.equal(r.status, 0, r.stderr);
  const h = headers(r.lines);
  assert.equal(h.length, headers(dump(['-r', files[0]!]).lines).length + headers(dump(['-r', files[1]!]).lines).length);
  const times = h.map((l) => l.slice(0, 15));
  assert.deepEqual(times, [...times].sort());
  const strikes = r.lines.filter((l) => l.includes('>> STRIKE')).length;
  assert.equal(strikes, smtpstrike(['replay', '--json', ...files]).lines.filter((e) => e.type === 'strike').length);
});

test('gzip-compressed captures are read; a broken file is reported with exit status 2 after what could be read', () => {
  assert.deepEqual(headers(dump(['-r', 'pcaps/crafted/fmt-usec-le-gz.pcap.gz']).lines), headers(dump(['-r', 'pcaps/crafted/fmt-usec-le.pcap']).lines));
  const broken = dump(['-r', 'pcaps/crafted/broken-truncated.pcap']);
  assert.equal(broken.status, 2);
  assert.match(broken.stderr, /broken-truncated\.pcap: .*byte offset \d+/);
  assert.ok(headers(broken.lines).length > 0);
  assert.doesNotMatch(broken.stderr, /\n\s+at /, 'no stack trace');
});

test('a BPF expression filters offline through tcpdump, like tcpdump -r FILE EXPR', (t) => {
  if (!HAVE_TCPDUMP) return skipLoudly(t, 'offline filter: tcpdump is not installed');
  for (const [file, expr] of [
    ['pcaps/testbed/starttls.pcap', ['tcp', 'port', '25']],
    ['pcaps/testbed/login-587.pcap', ['tcp[tcpflags]', '&', 'tcp-push', '!=', '0']],
    ['pcaps/crafted/ipv6.pcap', ['ip6 and src net 2001:db8:1::/48']],
    ['pcaps/testbed/login-587-any.pcap', ['tcp', 'dst', 'port', '587']],
  ] as const) {
    const r = dump(['-r', file, ...expr]);
    assert.equal(r.status, 0, r.stderr);
    const want = tcpdumpHeaders(['-r', file, ...expr]);
    assert.ok(want.length > 0);
    // Relative sequence numbers start over where the filter cut a connection, in tcpdump too.
    assert.deepEqual(headers(r.lines), want, `${file} ${expr.join(' ')}`);
  }
  // Compressed input is decompressed here and handed to tcpdump on its stdin.
  const gz = dump(['-r', 'pcaps/crafted/fmt-usec-le-gz.pcap.gz', 'src', 'host', '192.0.2.25']);
  assert.equal(gz.status, 0, gz.stderr);
  assert.deepEqual(headers(gz.lines), tcpdumpHeaders(['-r', 'pcaps/crafted/fmt-usec-le.pcap', 'src', 'host', '192.0.2.25']));
  // The strike marks follow what the filter let through.
  const only535 = dump(['-r', 'pcaps/testbed/login-587.pcap', 'src port 587']);
  assert.ok(!only535.lines.some((l) => l.startsWith('    C: ')), 'no client lines when only the server side passes');
});

test("a bad filter is tcpdump's complaint and exit status 1", (t) => {
  if (!HAVE_TCPDUMP) return skipLoudly(t, 'bad filter: tcpdump is not installed');
  const r = dump(['-r', 'pcaps/testbed/login-587.pcap', 'tcp', 'port']);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^smtpstrike: bad filter "tcp port": .*syntax error/m);
});

test('a filter without tcpdump installed: a clear error, nothing printed, exit status 1', () => {
  const r = dump(['-r', 'pcaps/testbed/login-587.pcap', 'port', '587'], { PATH: '/nonexistent' });
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /the filter "port 587" needs tcpdump .* tcpdump is not installed \(apt-get install tcpdump\)/);
  // Without a filter, tcpdump is not needed.
  const plain = dump(['-c', '2', '-r', 'pcaps/testbed/login-587.pcap'], { PATH: '/nonexistent' });
  assert.equal(plain.status, 0, plain.stderr);
  assert.equal(headers(plain.lines).length, 2);
});

test('usage: -r or -i, not both, not neither', () => {
  const neither = dump([]);
  assert.equal(neither.status, 1);
  assert.match(neither.stderr, /needs -r FILE .* or -i IFACE/);
  const both = dump(['-r', 'x.pcap', '-i', 'lo']);
  assert.equal(both.status, 1);
  assert.match(both.stderr, /not both/);
});

test('a closed pipe (| head -1) ends the dump quietly: exit status 0, no stack trace', () => {
  const { dir, cleanup } = tempDir();
  try {
    // A capture big enough that the dump is still writing when head has gone: login-587 many times over.
    const src = readFileSync('pcaps/testbed/login-587.pcap');
    const recs: Buffer[] = [src.subarray(0, 24)];
    for (let k = 0; k < 300; k++) {
      for (let o = 24; o + 16 <= src.length;) {
        const cap = src.readUInt32LE(o + 8);
        const r = Buffer.from(src.subarray(o, o + 16 + cap));
        r.writeUInt32LE(r.readUInt32LE(0) + k * 10, 0);
        recs.push(r);
        o += 16 + cap;
      }
    }
    const big = join(dir, 'big.pcap');
    writeFileSync(big, Buffer.concat(recs));
    const script = `"${process.execPath}" "${CLI}" dump -r "${big}" 2>"${join(dir, 'err')}" | head -1; echo "status=\${PIPESTATUS[0]}"`;
    const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' }, timeout: 60_000 });
    const lines = r.stdout.split('\n');
    assert.match(lines[0]!, HEADER);
    assert.equal(lines[1], 'status=0');
    assert.equal(readFileSync(join(dir, 'err'), 'utf8'), '');
    // And the same through grep, which reads everything.
    const g = spawnSync('bash', ['-c', `"${process.execPath}" "${CLI}" dump -r "${big}" | grep -c 'length 62$'`], { encoding: 'utf8' });
    assert.equal(Number(g.stdout.trim()), 300 * 5, g.stdout);
  } finally {
    cleanup();
  }
});

test("SIGINT while reading a quiet pipe (tcpdump -w - | smtpstrike dump -r -): tcpdump's one-line summary, exit status 0", async () => {
  const child = spawn(process.execPath, [CLI, 'dump', '-r', '-'], { env: { ...process.env, TZ: 'UTC' } });
  let out = '';
  let err = '';
  child.stdout.setEncoding('latin1').on('data', (d: string) => {
    out += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  // The file header and the first records, then nothing more (the writer is still there).
  child.stdin.write(readFileSync('pcaps/testbed/login-587.pcap').subarray(0, 2000));
  for (let i = 0; i < 300 && out.split('\n').length < 10; i++) await new Promise((r) => setTimeout(r, 10));
  child.kill('SIGINT');
  const code = await exit;
  child.stdin.destroy();
  assert.equal(code, 0, err);
  const shown = out.split('\n').filter((l) => HEADER.test(l)).length;
  assert.ok(shown > 5);
  assert.equal(err, `${shown} packets captured\n`);
});

/** A tiny SMTP server on 127.0.0.1 that fails every AUTH with 535. */
async function smtpServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.write('220 mx.test ESMTP\r\n');
    let buf = '';
    let authStep = 0;
    s.on('data', (d) => {
      buf += d.toString('latin1');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).replace(/\r$/, '');
        buf = buf.slice(nl + 1);
        if (authStep === 1) {
          authStep = 2;
          s.write('334 UGFzc3dvcmQ6\r\n');
          continue;
        }
        if (authStep === 2) {
          authStep = 0;
          s.write('535 5.7.8 Error: authentication failed\r\n');
          continue;
        }
        if (/^AUTH LOGIN$/i.test(line)) {
          authStep = 1;
          s.write('334 VXNlcm5hbWU6\r\n');
        } else if (/^QUIT/i.test(line)) s.end('221 bye\r\n');
        else s.write('250 ok\r\n');
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

async function attack(port: number, user: string): Promise<void> {
  const s = connect(port, '127.0.0.1');
  s.setEncoding('latin1');
  let got = '';
  s.on('data', (d: string) => {
    got += d;
  });
  const waitFor = async (re: RegExp): Promise<void> => {
    for (let i = 0; i < 200 && !re.test(got); i++) await new Promise((r) => setTimeout(r, 10));
  };
  await waitFor(/^220 /m);
  for (const [line, reply] of [
    ['EHLO x', /^250 /m],
    ['AUTH LOGIN', /^334 VXNl/m],
    [Buffer.from(user).toString('base64'), /^334 UGFz/m],
    [Buffer.from('hunter2').toString('base64'), /^535 /m],
    ['QUIT', /^221 /m],
  ] as const) {
    s.write(`${line}\r\n`);
    await waitFor(reply);
  }
  s.destroy();
}

function startDump(args: string[]): {
  child: ReturnType<typeof spawn>;
  out: () => string;
  err: () => string;
  ready: Promise<void>;
  exit: Promise<number | null>;
} {
  const child = spawn(process.execPath, [CLI, 'dump', ...args], { env: { ...process.env, TZ: 'UTC' } });
  let out = '';
  let err = '';
  child.stdout.setEncoding('latin1').on('data', (d: string) => {
    out += d;
  });
  let resolveReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => {
    resolveReady = r;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d;
    if (/listening on /.test(err)) resolveReady();
  });
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  void exit.then(() => resolveReady());
  return { child, out: () => out, err: () => err, ready, exit };
}

test("live on lo: lines per packet as they come, SMTP lines and strikes, SIGINT prints tcpdump's summary", async (t) => {
  if (!IS_ROOT) return skipLoudly(t, 'live capture needs root (CAP_NET_RAW)');
  if (!HAVE_TCPDUMP) return skipLoudly(t, 'live capture: tcpdump is not installed');
  const srv = await smtpServer();
  try {
    const d = startDump(['-i', 'lo', '--ports', String(srv.port), 'tcp', 'port', String(srv.port)]);
    await d.ready;
    assert.match(d.err(), /listening on lo, link-type EN10MB/);
    await attack(srv.port, 'alice');
    await attack(srv.port, 'bob');
    // Lines arrive while the capture runs (flushed per packet), before any signal.
    for (let i = 0; i < 300 && !/>> STRIKE 2\/3 127\.0\.0\.1/.test(d.out()); i++) await new Promise((r) => setTimeout(r, 20));
    assert.match(d.out(), /    C: <username: alice>\n/);
    assert.match(d.out(), />> STRIKE 2\/3 127\.0\.0\.1 \(535, LOGIN bob\)/);
    d.child.kill('SIGINT');
    assert.equal(await d.exit, 0);
    const shown = d
      .out()
      .split('\n')
      .filter((l) => HEADER.test(l)).length;
    assert.match(d.err(), new RegExp(`^${shown} packets captured, \\d+ packets received by filter, \\d+ packets dropped by kernel$`, 'm'));
    assert.ok(!d.out().includes('hunter2') && !d.out().includes(Buffer.from('hunter2').toString('base64')), 'the password is not shown');
  } finally {
    await srv.close();
  }
});

test('live with -c: stops by itself after that many packets', async (t) => {
  if (!IS_ROOT) return skipLoudly(t, 'live capture needs root (CAP_NET_RAW)');
  if (!HAVE_TCPDUMP) return skipLoudly(t, 'live capture: tcpdump is not installed');
  const srv = await smtpServer();
  try {
    const d = startDump(['-i', 'lo', '-c', '3', '--ports', String(srv.port), 'tcp', 'port', String(srv.port)]);
    await d.ready;
    await attack(srv.port, 'carol');
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      d.exit,
      new Promise<string>((r) => {
        timer = setTimeout(() => r('timeout'), 15_000);
      }),
    ]);
    clearTimeout(timer);
    if (code === 'timeout') d.child.kill('SIGKILL');
    assert.equal(code, 0, d.err());
    assert.equal(
      d
        .out()
        .split('\n')
        .filter((l) => HEADER.test(l)).length,
      3,
    );
    assert.match(d.err(), /^3 packets captured/m);
  } finally {
    await srv.close();
  }
});

test('live: a missing interface is one line of error, exit status 1', (t) => {
  if (!HAVE_TCPDUMP) return skipLoudly(t, 'live capture: tcpdump is not installed');
  const r = dump(['-i', 'nosuchif0']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^smtpstrike: .*nosuchif0/m);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});
