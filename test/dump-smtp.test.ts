/**
 * `smtpstrike dump`'s SMTP lines: reassembled commands and replies under the packet that completes
 * them, AUTH usernames decoded, credentials never shown, and the marks of the real strike engine
 * (the same as `replay --json`'s events on every shipped capture).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, smtpstrike } from './support/cli.js';
import { FrameList, tempDir } from './support/synth.js';

const HEADER = /^\d\d:\d\d:\d\d\.\d{6} /;

function dump(args: string[]): { status: number | null; stdout: string; stderr: string; lines: string[] } {
  const r = spawnSync(process.execPath, [CLI, 'dump', ...args], { encoding: 'latin1', env: { ...process.env, TZ: 'UTC' }, maxBuffer: 256 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, lines: r.stdout.split('\n').filter((l) => l !== '') };
}

/** Packets with the annotation lines printed under each. */
function packets(lines: string[]): { header: string; notes: string[] }[] {
  const out: { header: string; notes: string[] }[] = [];
  for (const l of lines) {
    if (HEADER.test(l)) out.push({ header: l, notes: [] });
    else if (l.startsWith('    ') && out.length) out[out.length - 1]!.notes.push(l.trim());
    else if (l.startsWith('    ')) out.push({ header: '', notes: [l.trim()] });
  }
  return out;
}

const captures = ['pcaps/testbed', 'pcaps/crafted'].flatMap((d) =>
  readdirSync(d)
    .filter((f) => /\.(pcap|pcapng)(\.gz)?$/.test(f))
    .sort()
    .map((f) => join(d, f)),
);

test("the issue's examples: C:/S: lines, the decoded username, STRIKE n/3, BLOCK, REJECT (auth), AUTH OK", () => {
  const r = dump(['-r', 'pcaps/testbed/login-587.pcap']);
  assert.equal(r.status, 0, r.stderr);
  const notes = r.lines.filter((l) => l.startsWith('    '));
  for (const want of [
    '    C: AUTH LOGIN',
    '    S: 334 VXNlcm5hbWU6',
    '    C: <username: alice>',
    '    S: 334 UGFzc3dvcmQ6',
    '    C: ***',
    '    S: 535 5.7.8 Error: authentication failed: (reason unavailable)',
    '    >> STRIKE 1/3 10.200.0.2 (535, LOGIN alice)',
    '    >> STRIKE 2/3 10.200.0.2 (535, LOGIN alice)',
    '    >> STRIKE 3/3 10.200.0.2 (535, LOGIN alice)',
    '    >> REJECT 10.200.0.2 (auth): SMTP_AUTH_REJECTED: Go AWAY',
    '    >> AUTH OK 10.200.0.2 (235, LOGIN alice)',
    '    >> FAIL 10.200.0.2 (535, LOGIN alice): on a connection the rules refused, not counted',
  ]) {
    assert.ok(notes.includes(want), `missing: ${want}`);
  }
  assert.ok(
    notes.some((l) => /^    >> BLOCK 10\.200\.0\.2 \(auth\) from 15:23:59 until 15:43:58 \(1199 s\)$/.test(l)),
    'BLOCK line',
  );
  // A reject is printed under the refused SYN.
  const p = packets(r.lines);
  for (const pk of p.filter((x) => x.notes.some((n) => n.startsWith('>> REJECT')))) assert.match(pk.header, /Flags \[S\],/);
});

test('STARTTLS: OPAQUE under the 220 that starts TLS; nothing decoded after it, only TLS record headers', () => {
  const r = dump(['-r', 'pcaps/testbed/starttls.pcap']);
  const p = packets(r.lines);
  const i = p.findIndex((x) => x.notes.includes('>> OPAQUE (STARTTLS)'));
  assert.ok(i > 0, 'OPAQUE mark');
  assert.deepEqual(p[i]!.notes, ['S: 220 2.0.0 Ready to start TLS', '>> OPAQUE (STARTTLS)']);
  // The TLS records that follow on that connection carry no SMTP lines: one line per record
  // header (test/dump-tls.test.ts checks those), and the mark of the outcome the inference found
  // inside TLS (this session's 535, struck like a read one).
  const port = /\.(\d+): Flags/.exec(p[i]!.header)![1];
  let records = 0;
  const marks: string[] = [];
  for (const x of p.slice(i + 1)) {
    if (!x.header.includes(`.${port}:`) && !x.header.includes(`.${port} >`)) continue;
    for (const n of x.notes) {
      if (n.startsWith('>> ')) {
        marks.push(n);
        continue;
      }
      assert.match(n, /^[CS]: TLS (handshake|change_cipher_spec|encrypted handshake|alert|app) \d+( .*)?$/);
      records++;
    }
  }
  assert.ok(records > 10, `record lines: ${records}`);
  assert.deepEqual(marks, ['>> STRIKE 1/3 10.200.0.5 (535 inferred inside TLS, record 79)']);
});

test('a 535 split across 2 and 3 segments appears once, under the packet that completes it', () => {
  for (const [file, expected] of [
    ['pcaps/crafted/split2.pcap', 2],
    ['pcaps/crafted/split3.pcap', 3],
  ] as const) {
    const p = packets(dump(['-r', file]).lines);
    const with535 = p.filter((x) => x.notes.some((n) => n.startsWith('S: 535 ')));
    assert.equal(with535.length, expected, `${file}: one packet per 535`);
    for (const x of with535) {
      assert.equal(x.notes.filter((n) => n.startsWith('S: 535 ')).length, 1);
      // The completing segment ends the line: its tcpdump text is not a cut-off line start.
      const i = p.indexOf(x);
      const prev = p[i - 1]!;
      assert.ok(!prev.notes.some((n) => n.startsWith('S: 535')), 'not under the earlier part');
      assert.ok(
        x.notes.some((n) => /^>> STRIKE 1\/3 /.test(n)),
        'strike mark right under it',
      );
    }
    // split3's replies come as "53" | "5" | " 5.7.8 …" and "5" | "35 5.7.8 Err" | "or: …": the
    // early parts carry no S: line.
    if (file.endsWith('split3.pcap')) {
      const heads = p.filter((x) => / length (2|1): SMTP: (53|5) \[\|smtp\]$| length 12: SMTP: 35 5\.7\.8 Err \[\|smtp\]$/.test(x.header));
      assert.equal(heads.length, 4);
      for (const h of heads) assert.deepEqual(h.notes, []);
    }
  }
});

test('out of order and retransmitted replies: each line once, when the bytes before it arrive', () => {
  for (const file of ['pcaps/crafted/ooo.pcap', 'pcaps/crafted/retrans.pcap']) {
    const r = dump(['-r', file]);
    const fails = r.lines.filter((l) => l.startsWith('    S: 535 '));
    const strikes = r.lines.filter((l) => l.startsWith('    >> STRIKE '));
    const replay = smtpstrike(['replay', '--json', file]).lines.filter((e) => e.type === 'auth_failure');
    assert.equal(fails.length, replay.length, file);
    assert.equal(strikes.length, replay.length, file);
  }
});

test('credentials are never shown in the SMTP lines; usernames are', () => {
  const passwords = ['wrong1', 'wrong2', 'wrong3', 'wrong4', 'wrong5', 'secret', 'bad', 'bad1', 'bad2', 'bad3', 'wrongplain', 'eve'];
  for (let i = 0; i < 10; i++) passwords.push(`guess${i}`, `wrong${i}`);
  const b64 = passwords.map((p) => Buffer.from(p).toString('base64'));
  const verbs = /^(EHLO|HELO|LHLO|MAIL|RCPT|DATA|BDAT|RSET|NOOP|QUIT|VRFY|EXPN|HELP|STARTTLS|ETRN|XCLIENT|XFORWARD)\b/i;
  let users = 0;
  for (const file of captures) {
    const r = dump(['-r', file]);
    for (const l of r.lines.filter((x) => x.startsWith('    '))) {
      for (const b of b64) assert.ok(!l.includes(b), `${file}: base64 password in "${l}"`);
      const m = /(?:^|\] )C: (.*)$/.exec(l.trim());
      if (!m) continue;
      const text = m[1]!;
      for (const p of passwords) assert.ok(!new RegExp(`(^|[^A-Za-z0-9])${p}([^A-Za-z0-9]|$)`).test(text), `${file}: password in "${l}"`);
      // Every client line is a command, an AUTH line with a decoded name, or masked.
      assert.ok(
        verbs.test(text) ||
          /^AUTH [A-Z0-9-]*( <username: [^>]*>)?( \*\*\*)?$/.test(text) ||
          /^<username: [^>]*>( \*\*\*)?$/.test(text) ||
          text.startsWith('***') ||
          text.startsWith('* (AUTH cancelled)') ||
          text.startsWith('[') ||
          /^TLS [a-z_ ]+ \d+$/.test(text),
        `${file}: unexpected client line "${l}"`,
      ); // a TLS record header (opaque flow)
      if (text.includes('<username: ')) users++;
    }
  }
  assert.ok(users > 50, `decoded usernames seen: ${users}`);
});

test("--redact: no payload text in the packet lines (tcpdump's port-25 text can be a credential); not with -A/-X", () => {
  for (const file of ['pcaps/testbed/plain-25.pcap', 'pcaps/crafted/pipelined.pcap', 'pcaps/crafted/mechs.pcap']) {
    const plain = dump(['-r', file]);
    assert.ok(
      plain.lines.some((l) => /, length \d+: SMTP: AUTH PLAIN [A-Za-z0-9+/=]+$/.test(l)),
      `${file}: tcpdump's text shows the PLAIN blob`,
    );
    const r = dump(['-r', file, '--redact']);
    assert.equal(r.status, 0, r.stderr);
    const h = r.lines.filter((l) => HEADER.test(l));
    assert.equal(h.length, plain.lines.filter((l) => HEADER.test(l)).length);
    for (const l of h) assert.match(l, /, length \d+$/, l);
    assert.deepEqual(
      r.lines.filter((l) => !HEADER.test(l)),
      plain.lines.filter((l) => !HEADER.test(l)),
      'the SMTP lines are unchanged',
    );
  }
  const both = dump(['-r', 'pcaps/testbed/plain-25.pcap', '--redact', '-A']);
  assert.equal(both.status, 1);
  assert.match(both.stderr, /--redact .* -A and -X/);
});

test('every AUTH form: LOGIN, LOGIN with initial response, PLAIN (both ways, with authzid), CRAM-MD5, cancel, mid-stream', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const f = new FrameList();
    const b = (s: string): string => Buffer.from(s, 'latin1').toString('base64');
    const PW = 'Tr0ub4dor&3';
    let t = 1_700_000_000_000_000;
    const conv = (n: number, port = 587): ReturnType<FrameList['conversation']> => f.conversation('en10mb', `192.0.2.${n}`, 40000 + n, '198.51.100.1', port);
    const steps = (c: ReturnType<FrameList['conversation']>, lines: [boolean, string][]): void => {
      for (const [fromClient, text] of lines) {
        if (fromClient) c.fromClient(text, (t += 1000));
        else c.fromServer(text, (t += 1000));
      }
    };
    const c1 = conv(1);
    c1.open((t += 1000));
    steps(c1, [
      [false, '220 mx\r\n'],
      [true, 'EHLO x\r\n'],
      [false, '250 mx\r\n'],
      [true, 'AUTH LOGIN\r\n'],
      [false, '334 VXNlcm5hbWU6\r\n'],
      [true, `${b('alice')}\r\n`],
      [false, '334 UGFzc3dvcmQ6\r\n'],
      [true, `${b(PW)}\r\n`],
      [false, '535 5.7.8 no\r\n'],
      [true, `AUTH LOGIN ${b('bob')}\r\n`],
      [false, '334 UGFzc3dvcmQ6\r\n'],
      [true, `${b(PW)}\r\n`],
      [false, '535 5.7.8 no\r\n'],
      [true, `AUTH PLAIN ${b(`\0carol\0${PW}`)}\r\n`],
      [false, '535 5.7.8 no\r\n'],
      [true, 'AUTH PLAIN\r\n'],
      [false, '334 \r\n'],
      [true, `${b(`admin\0dave\0${PW}`)}\r\n`],
      [false, '235 2.7.0 ok\r\n'],
      [true, 'AUTH CRAM-MD5\r\n'],
      [false, '334 PDEyMzQ1QG14Pg==\r\n'],
      [true, `${b(`erin ${PW}`)}\r\n`],
      [false, '535 5.7.8 no\r\n'],
      [true, 'AUTH LOGIN\r\n'],
      [false, '334 VXNlcm5hbWU6\r\n'],
      [true, '*\r\n'],
      [false, '501 5.7.0 cancelled\r\n'],
      [true, 'QUIT\r\n'],
      [false, '221 bye\r\n'],
    ]);
    c1.close((t += 1000));
    // A connection whose start (and AUTH command) the capture missed.
    const c2 = conv(2);
    c2.advance(true, 100);
    c2.advance(false, 300);
    steps(c2, [
      [false, '334 VXNlcm5hbWU6\r\n'],
      [true, `${b('frank')}\r\n`],
      [false, '334 UGFzc3dvcmQ6\r\n'],
      [true, `${b(PW)}\r\n`],
      [false, '535 5.7.8 no\r\n'],
    ]);
    const file = await f.write(join(dir, 'auth.pcap'));
    const r = dump(['-r', file, '-A']);
    assert.equal(r.status, 0, r.stderr);
    const notes = r.lines.filter((l) => l.startsWith('    ')).map((l) => l.trim());
    const inOrder = [
      'C: AUTH LOGIN',
      'S: 334 VXNlcm5hbWU6',
      'C: <username: alice>',
      'S: 334 UGFzc3dvcmQ6',
      'C: ***',
      'S: 535 5.7.8 no',
      '>> STRIKE 1/3 192.0.2.1 (535, LOGIN alice)',
      'C: AUTH LOGIN <username: bob>',
      'S: 334 UGFzc3dvcmQ6',
      'C: ***',
      'S: 535 5.7.8 no',
      '>> STRIKE 2/3 192.0.2.1 (535, LOGIN bob)',
      'C: AUTH PLAIN <username: carol> ***',
      'S: 535 5.7.8 no',
      '>> STRIKE 3/3 192.0.2.1 (535, PLAIN carol)',
    ];
    let at = -1;
    for (const w of inOrder) {
      const i = notes.indexOf(w, at + 1);
      assert.ok(i > at, `"${w}" after position ${at} in:\n${notes.join('\n')}`);
      at = i;
    }
    for (const w of [
      'C: AUTH PLAIN',
      'S: 334',
      'C: <username: dave> ***',
      '>> AUTH OK 192.0.2.1 (235, PLAIN dave)',
      'C: AUTH CRAM-MD5',
      '>> STRIKE 3/3 192.0.2.1 (535, CRAM-MD5)',
      'C: * (AUTH cancelled)',
      'C: *** (AUTH data; the AUTH command was not seen)',
    ]) {
      assert.ok(notes.includes(w), `missing "${w}"`);
    }
    assert.ok(notes.some((n) => n.startsWith('>> BLOCK 192.0.2.1 (auth)')));
    assert.ok(notes.some((n) => /^\[192\.0\.2\.2\.40002 > 198\.51\.100\.1\.587\] |^>> STRIKE 1\/3 192\.0\.2\.2/.test(n)));
    // Neither the password nor any base64 form of it is in an SMTP line (only -A's raw bytes show it).
    for (const n of notes) {
      assert.ok(!n.includes(PW), n);
      for (const secret of [b(PW), b(`\0carol\0${PW}`), b(`admin\0dave\0${PW}`), b(`erin ${PW}`)]) assert.ok(!n.includes(secret), n);
    }
  } finally {
    cleanup();
  }
});

/** What replay reports, as the marks dump prints for it. */
function replayMarks(file: string, extra: string[]): string[] {
  const marks: string[] = [];
  for (const e of smtpstrike(['replay', '--json', ...extra, file]).lines) {
    if (e.type === 'strike') marks.push(`STRIKE ${String(e.n)}/${String(e.hitcount)} ${String(e.client)}`);
    else if (e.type === 'reject') marks.push(`REJECT ${String(e.client)} (${String(e.rule)})`);
    else if (e.type === 'block') marks.push(`BLOCK ${String(e.client)} (${String(e.rule)})`);
    else if (e.type === 'starttls') marks.push('OPAQUE');
    else if (e.type === 'auth_success') marks.push(`AUTH OK ${String(e.client)}`);
  }
  return marks;
}

function dumpMarks(file: string, extra: string[]): string[] {
  const marks: string[] = [];
  for (const l of dump(['-r', file, ...extra]).lines) {
    const m = /(?:^    |\] )>> (STRIKE \d+\/\d+ \S+|REJECT \S+ \((?:auth|conn)\)|BLOCK \S+|OPAQUE|AUTH OK \S+)(?: \(as \S+\))?(?: \((auth|conn)\))?/.exec(l);
    if (m) marks.push(m[1]!.startsWith('BLOCK') ? `${m[1]} (${m[2]})` : m[1]!);
  }
  return marks;
}

test("the marks are the strike engine's: the same strikes, rejects, blocks, STARTTLS and successes as replay, on every shipped capture", () => {
  let total = 0;
  for (const file of captures) {
    const want = replayMarks(file, []);
    assert.deepEqual(dumpMarks(file, []), want, file);
    total += want.length;
  }
  assert.ok(total > 100, `marks compared: ${total}`);
});

test('options reach the engine: --tempfail-strikes, --whitelist, --hitcount, --ports', () => {
  for (const [file, extra] of [
    ['pcaps/testbed/penalty-454.pcap', ['--tempfail-strikes']],
    ['pcaps/crafted/tempfail.pcap', []],
    ['pcaps/crafted/whitelist.pcap', ['--whitelist', '203.0.113.0/24']],
    ['pcaps/testbed/login-587.pcap', ['--hitcount', '2']],
  ] as const) {
    assert.deepEqual(dumpMarks(file, [...extra]), replayMarks(file, [...extra]), `${file} ${extra.join(' ')}`);
  }
  const t = dump(['-r', 'pcaps/crafted/tempfail.pcap']).lines;
  assert.ok(t.includes('    >> TEMPFAIL 198.51.100.48 (454, LOGIN alice): temporary failure, not a strike (--tempfail-strikes counts it)'));
  const w = dump(['-r', 'pcaps/crafted/whitelist.pcap', '--whitelist', '203.0.113.0/24']).lines;
  assert.ok(w.includes('    >> FAIL 203.0.113.7 (535, LOGIN alice): whitelisted, not counted'));
  // Port 587 only: the port-25 sessions get no SMTP lines.
  const p = packets(dump(['-r', 'pcaps/testbed/starttls.pcap', '--ports', '587']).lines);
  assert.ok(p.some((x) => x.notes.length > 0));
  for (const x of p) if (/\.25[: ]/.test(x.header)) assert.deepEqual(x.notes, [], x.header);
});

test('--no-smtp prints tcpdump lines only', () => {
  const r = dump(['-r', 'pcaps/testbed/login-587.pcap', '--no-smtp']);
  assert.equal(r.status, 0);
  assert.ok(r.lines.length > 0 && r.lines.every((l) => HEADER.test(l)));
});

test('IPv6 clients: the counted prefix is named; gaps and cut lines are said', () => {
  const v6 = dump(['-r', 'pcaps/crafted/ipv6.pcap']).lines;
  assert.ok(v6.includes('    >> STRIKE 1/3 2001:db8:1::a (as 2001:db8:1::/64) (535, LOGIN alice)'));
  const gap = dump(['-r', 'pcaps/crafted/gap.pcap']).lines;
  assert.ok(gap.includes('    S: [gap: 27 bytes lost]'));
  assert.ok(gap.includes('    S: 535 5.7.8 Err [rest of the line lost]'));
  const mid = dump(['-r', 'pcaps/crafted/midstream.pcap']).lines;
  assert.ok(mid.includes('    S: [capture began mid-stream]'));
  assert.ok(mid.includes('    C: *** (AUTH data; the AUTH command was not seen)'));
});
