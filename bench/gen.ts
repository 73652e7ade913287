/**
 * Benchmark capture generator.
 *
 *   node dist/bench/gen.js [--size-mb 1100] [--clients 50000] [--seed 1] [--out bench/out/synth.pcap]
 *                          [--span-s N] [--bg-share 0.35] [--quiet]
 *
 * Writes a deterministic classic pcap (Ethernet, µs) of at least the requested size: interleaved
 * SMTP sessions (ports 25/587, AUTH LOGIN/PLAIN, 334/535/235/454 replies, mail with decoy bodies,
 * STARTTLS flows that go opaque) from ~50k client IPs to a few servers, mixed with HTTP/HTTPS, DNS
 * and ICMP background traffic, plus `<out without .pcap>.truth.json` with the per-client ground
 * truth (pcaps/TRUTH-FORMAT.md) computed from what was written.
 *
 * Model: every session or flow is a generator that emits packets at the current simulated time and
 * yields the delay (µs) until its next step; a binary heap orders the steps, so hundreds of
 * sessions are open at once and timestamps only increase.
 */
import { statSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { PcapOut, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, ipFromString, ipToString, w32be } from './emit.js';
import { Rng } from './rng.js';

// ---------------------------------------------------------------------------------------------
// options

export interface GenOptions {
  sizeMb: number;
  clients: number;
  seed: number;
  out: string;
  /** Simulated capture span to aim for, seconds. */
  spanS: number;
  /** Share of packets that are not SMTP. */
  bgShare: number;
  quiet: boolean;
}

/** Bump when the generator's output changes, so the harness makes its capture again. */
export const GEN_VERSION = 1;

export function truthPathFor(pcap: string): string {
  return pcap.replace(/\.pcap$/, '') + '.truth.json';
}

// ---------------------------------------------------------------------------------------------
// scheduling

type Task = Iterator<number, void, undefined>;

class Heap {
  private t: number[] = [];
  private s: number[] = [];
  private v: Task[] = [];
  private seq = 0;
  get size(): number {
    return this.t.length;
  }

  push(time: number, task: Task): void {
    const t = this.t,
      s = this.s,
      v = this.v;
    let i = t.length;
    const sq = this.seq++;
    t.push(time);
    s.push(sq);
    v.push(task);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = t[p]!;
      if (pt < time || (pt === time && s[p]! < sq)) break;
      t[i] = pt;
      s[i] = s[p]!;
      v[i] = v[p]!;
      i = p;
    }
    t[i] = time;
    s[i] = sq;
    v[i] = task;
  }

  /** Removes the earliest entry; its time is left in `poppedTime`. */
  poppedTime = 0;
  pop(): Task {
    const t = this.t,
      s = this.s,
      v = this.v;
    const topT = t[0]!;
    const top = v[0]!;
    const lt = t.pop()!,
      ls = s.pop()!,
      lv = v.pop()!;
    const n = t.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        let c = l;
        if (r < n && (t[r]! < t[l]! || (t[r] === t[l] && s[r]! < s[l]!))) c = r;
        if (t[c]! > lt || (t[c] === lt && s[c]! > ls)) break;
        t[i] = t[c]!;
        s[i] = s[c]!;
        v[i] = v[c]!;
        i = c;
      }
      t[i] = lt;
      s[i] = ls;
      v[i] = lv;
    }
    this.poppedTime = topT;
    return top;
  }
}

// ---------------------------------------------------------------------------------------------
// servers and reply texts (design.md §1)

type Flavor = 'postfix' | 'exim' | 'sendmail' | 'gsmtp';

interface Server {
  ip: number;
  name: string;
  domain: string;
  flavor: Flavor;
  weight: number;
  greeting: string;
  r535: string;
  r235: string;
  r454: string | null;
  r221: string;
  r421: string;
  rQueued: (rng: Rng) => string;
}

const POSTFIX_EHLO = (name: string): string =>
  `250-${name}\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n` +
  '250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n';

function ehloReply(srv: Server, helo: string, cip: number): string {
  switch (srv.flavor) {
    case 'postfix':
      return POSTFIX_EHLO(srv.name);
    case 'exim':
      return (
        `250-${srv.name} Hello ${helo} [${ipToString(cip)}]\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n250-PIPELINING\r\n` +
        '250-AUTH PLAIN LOGIN\r\n250-CHUNKING\r\n250-STARTTLS\r\n250 HELP\r\n'
      );
    case 'sendmail':
      return (
        `250-${srv.name} Hello ${helo} [${ipToString(cip)}], pleased to meet you\r\n250-ENHANCEDSTATUSCODES\r\n` +
        '250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE\r\n250-DSN\r\n250-ETRN\r\n250-AUTH LOGIN PLAIN\r\n250-STARTTLS\r\n' +
        '250-DELIVERBY\r\n250 HELP\r\n'
      );
    case 'gsmtp':
      return (
        `250-${srv.name} at your service, [${ipToString(cip)}]\r\n250-SIZE 35882577\r\n250-8BITMIME\r\n` +
        '250-STARTTLS\r\n250-AUTH LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER XOAUTH\r\n250-ENHANCEDSTATUSCODES\r\n' +
        '250-PIPELINING\r\n250-CHUNKING\r\n250 SMTPUTF8\r\n'
      );
  }
}

const HEX = '0123456789ABCDEF';
function hexId(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += HEX[rng.int(16)];
  return s;
}

/** A Postfix + Dovecot server (two of them differ only in name, address and weight). */
function postfixServer(ip: string, name: string, weight: number): Server {
  return {
    ip: ipFromString(ip),
    name,
    domain: 'example.net',
    flavor: 'postfix',
    weight,
    greeting: `220 ${name} ESMTP Postfix (Debian/GNU)\r\n`,
    r535: '535 5.7.8 Error: authentication failed: (reason unavailable)\r\n',
    r235: '235 2.7.0 Authentication successful\r\n',
    r454: '454 4.7.0 Temporary authentication failure: Connection lost to authentication server\r\n',
    r221: '221 2.0.0 Bye\r\n',
    r421: `421 4.4.2 ${name} Error: timeout exceeded\r\n`,
    // queue ids that start with "535" are decoys: not at line start
    rQueued: (rng) => `250 2.0.0 Ok: queued as ${rng.chance(0.3) ? '535' + hexId(rng, 7) : hexId(rng, 10)}\r\n`,
  };
}

function makeServers(): Server[] {
  return [
    postfixServer('203.0.113.10', 'mx1.example.net', 30),
    postfixServer('203.0.113.11', 'mx2.example.net', 25),
    {
      ip: ipFromString('198.51.100.25'),
      name: 'mail.example.org',
      domain: 'example.org',
      flavor: 'exim',
      weight: 20,
      greeting: '220 mail.example.org ESMTP Exim 4.96 Mon, 03 Mar 2025 06:00:00 +0000\r\n',
      r535: '535 Incorrect authentication data\r\n',
      r235: '235 Authentication succeeded\r\n',
      r454: null,
      r221: '221 mail.example.org closing connection\r\n',
      r421: '421 mail.example.org: SMTP command timeout - closing connection\r\n',
      rQueued: (rng) => `250 OK id=1t${hexId(rng, 4)}-000${hexId(rng, 2)}-535\r\n`,
    },
    {
      ip: ipFromString('198.51.100.26'),
      name: 'smtp.example.com',
      domain: 'example.com',
      flavor: 'sendmail',
      weight: 15,
      greeting: '220 smtp.example.com ESMTP Sendmail 8.17.1.9/8.17.1.9/Debian-2; Mon, 3 Mar 2025 06:00:00 GMT\r\n',
      r535: '535 5.7.0 authentication failed\r\n',
      r235: '235 2.0.0 OK Authenticated\r\n',
      r454: '454 4.7.0 Temporary authentication failure\r\n',
      r221: '221 2.0.0 smtp.example.com closing connection\r\n',
      r421: '421 4.4.1 smtp.example.com Lost input channel\r\n',
      rQueued: (rng) => `250 2.0.0 5${hexId(rng, 5)}535 Message accepted for delivery\r\n`,
    },
    {
      // a relay whose 535 is multi-line (counts once)
      ip: ipFromString('192.0.2.25'),
      name: 'relay.example.com',
      domain: 'example.com',
      flavor: 'gsmtp',
      weight: 10,
      greeting: '220 relay.example.com ESMTP a1b2c3d4e5 - gsmtp\r\n',
      r535:
        '535-5.7.8 Username and Password not accepted. For more information, go to\r\n' +
        '535 5.7.8  https://support.example.com/mail/?p=BadCredentials a1b2c3d4e5 - gsmtp\r\n',
      r235: '235 2.7.0 Accepted\r\n',
      r454: '454 4.7.0 Too many login attempts, please try again later. a1b2c3d4e5 - gsmtp\r\n',
      r221: '221 2.0.0 closing connection a1b2c3d4e5 - gsmtp\r\n',
      r421: '421 4.4.2 relay.example.com Error: timeout exceeded\r\n',
      rQueued: (rng) => `250 2.0.0 OK  1740981600 ${hexId(rng, 10).toLowerCase()}.535 - gsmtp\r\n`,
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// vocabularies

const BASE_USERS = [
  'admin',
  'info',
  'test',
  'user',
  'webmaster',
  'postmaster',
  'support',
  'sales',
  'office',
  'contact',
  'mail',
  'root',
  'administrator',
  'test1',
  'test2',
  'guest',
  'noreply',
  'marketing',
  'hr',
  'billing',
  'service',
  'backup',
  'web',
  'www',
  'demo',
  'master',
  'manager',
  'account',
  'accounts',
  'abuse',
  'help',
  'newsletter',
  'shop',
  'news',
  'secretary',
  'reception',
  'jobs',
  'career',
  'finance',
  'it',
  'tech',
  'security',
  'scanner',
  'printer',
  'fax',
  'oracle',
  'mysql',
  'ftp',
  'john',
  'david',
  'michael',
  'robert',
  'daniel',
  'paul',
  'mark',
  'james',
  'alex',
  'anna',
  'maria',
  'laura',
  'sara',
  'julia',
  'kevin',
  'brian',
  'chris',
  'eric',
  'steve',
  'lisa',
  'susan',
  'karen',
];
const FIRST = [
  'alice',
  'bob',
  'carol',
  'dave',
  'emma',
  'frank',
  'grace',
  'henry',
  'irene',
  'jack',
  'kate',
  'leo',
  'mia',
  'nick',
  'olga',
  'peter',
  'quinn',
  'rosa',
  'sam',
  'tina',
  'ugo',
  'vera',
  'walter',
  'xenia',
  'yuri',
  'zoe',
];
const LAST = [
  'smith',
  'jones',
  'brown',
  'taylor',
  'wilson',
  'evans',
  'thomas',
  'roberts',
  'walker',
  'wright',
  'muller',
  'schmidt',
  'rossi',
  'garcia',
  'martin',
  'bernard',
  'dubois',
  'novak',
  'kowalski',
  'jensen',
];
const DOMAINS = ['example.net', 'example.org', 'example.com', 'mail.example.net'];
const PASSWORDS = [
  '123456',
  'password',
  'admin123',
  'qwerty',
  'Passw0rd!',
  'letmein',
  '12345678',
  'welcome1',
  'P@ssw0rd',
  'abc123',
  'iloveyou',
  'monkey',
  'dragon',
  'summer2024',
  'Winter2025!',
  'changeme',
  '1q2w3e4r',
];
const HELO_NAMES = [
  'User',
  'ylmf-pc',
  'WIN-CLJ1B0GQ6JP',
  'localhost',
  'mail.example.net',
  'example.com',
  'hello',
  'desktop-3f9a2k',
  'client',
  '[127.0.0.1]',
  'smtp.client.example',
  'laptop.home.example',
];

function buildUserPool(): string[] {
  const pool: string[] = [];
  for (const u of BASE_USERS) pool.push(u);
  for (const u of BASE_USERS) for (const d of DOMAINS) pool.push(`${u}@${d}`);
  for (const f of FIRST) for (const l of LAST) pool.push(`${f}.${l}@${DOMAINS[(f.length + l.length) % DOMAINS.length]}`);
  for (const f of FIRST) for (const l of LAST) pool.push(`${f[0]}${l}`);
  return pool;
}

const DECOY_535 = '535 5.7.8 Error: authentication failed: (reason unavailable)';

/** Latin1 text for mail bodies and HTTP responses: plain lines, with some decoy lines starting `535 `. */
function buildText(rng: Rng, bytes: number, decoyEvery: number): string {
  const words = [
    'the',
    'invoice',
    'meeting',
    'report',
    'attached',
    'please',
    'find',
    'regards',
    'quarterly',
    'server',
    'delivery',
    'status',
    'notification',
    'password',
    'account',
    'update',
    'team',
    'schedule',
    'customer',
    'order',
    'shipment',
    'tracking',
    'number',
    'balance',
    'payment',
    'review',
    'document',
    'access',
    'login',
    'failed',
  ];
  const lines: string[] = [];
  let n = 0;
  let line = 0;
  while (n < bytes) {
    let s: string;
    if (decoyEvery > 0 && line % decoyEvery === decoyEvery - 1) {
      s = rng.chance(0.5) ? DECOY_535 : '535 Incorrect authentication data';
    } else {
      const k = rng.range(4, 14);
      const w: string[] = [];
      for (let i = 0; i < k; i++) w.push(rng.pick(words));
      s = w.join(' ');
      const first = s[0]!.toUpperCase();
      s = first + s.slice(1) + '.';
    }
    lines.push(s);
    n += s.length + 2;
    line++;
  }
  return lines.join('\r\n') + '\r\n';
}

// ---------------------------------------------------------------------------------------------
// the generator state

const KIND_BOT = 0;
const KIND_HEAVY = 1;
const KIND_LEGIT = 2;
const KIND_SCANNER = 3;

interface Stats {
  sessions: number;
  sessionsByPort: Record<string, number>;
  authAttempts: number;
  mails: number;
  replies535: number;
  single535: number;
  split2: number;
  split3: number;
  coalesced: number;
  retransmitted: number;
  outOfOrder: number;
  overlapping: number;
  multiline535: number;
  splitClientAuth: number;
  decoyBodies: number;
  decoyQueueIds: number;
  decoyOpaque: number;
  starttls454: number;
  wrapSessions: number;
  idleTimeouts: number;
  httpFlows: number;
  httpsFlows: number;
  dnsQueries: number;
  icmpMessages: number;
  icmpQuotingTcp25: number;
}

class Gen {
  readonly rng: Rng;
  readonly out: PcapOut;
  readonly heap = new Heap();
  now: number;
  readonly start: number;
  stop = false;
  smtpPackets = 0;
  bgPackets = 0;
  openSmtp = 0;
  maxOpenSmtp = 0;
  openSum = 0;
  openSamples = 0;
  opaqueFlows = 0;
  readonly targetBytes: number;

  // clients
  readonly nClients: number;
  readonly cip: Uint32Array;
  readonly ckind: Uint8Array;
  readonly crtt: Float64Array;
  readonly cttl: Uint8Array;
  readonly cport: Uint16Array;
  readonly cserver: Uint8Array;
  readonly cmech: Uint8Array;
  readonly cseen: Uint8Array;
  readonly heavy: number[] = [];
  readonly bots: number[] = [];
  readonly perm: Uint32Array;
  permPos = 0;

  // truth
  readonly fail: Uint32Array;
  readonly succ: Uint32Array;
  readonly temp: Uint32Array;
  readonly users: (Set<string> | undefined)[];

  readonly servers: Server[];
  readonly serverCdf: number[];
  readonly userPool: string[];
  readonly mailText: string;
  readonly mailTextDecoy: string;
  readonly htmlText: string;
  readonly noise: Buffer;
  readonly webClients: Uint32Array;
  readonly scratch = Buffer.alloc(2048);
  readonly stats: Stats;

  constructor(readonly opt: GenOptions) {
    this.rng = new Rng(opt.seed);
    this.out = new PcapOut(opt.out);
    this.start = 1740981600 * 1e6; // 2025-03-03T06:00:00Z
    this.now = this.start;
    this.targetBytes = opt.sizeMb * 1024 * 1024;
    const rng = this.rng;
    this.servers = makeServers();
    const totalW = this.servers.reduce((a, s) => a + s.weight, 0);
    let acc = 0;
    this.serverCdf = this.servers.map((s) => (acc += s.weight / totalW));
    this.userPool = buildUserPool();
    this.mailText = buildText(rng, 96 * 1024, 0);
    this.mailTextDecoy = buildText(rng, 96 * 1024, 37);
    this.htmlText = buildText(rng, 256 * 1024, 211);
    this.noise = Buffer.alloc(256 * 1024);
    for (let i = 0; i < this.noise.length; i += 4) w32be(this.noise, i, rng.u32());

    const n = opt.clients;
    this.nClients = n;
    this.cip = new Uint32Array(n);
    this.ckind = new Uint8Array(n);
    this.crtt = new Float64Array(n);
    this.cttl = new Uint8Array(n);
    this.cport = new Uint16Array(n);
    this.cserver = new Uint8Array(n);
    this.cmech = new Uint8Array(n);
    this.cseen = new Uint8Array(n);
    this.fail = new Uint32Array(n);
    this.succ = new Uint32Array(n);
    this.temp = new Uint32Array(n);
    this.users = new Array<Set<string> | undefined>(n);
    const taken = new Set<number>(this.servers.map((s) => s.ip));
    // /16 prefixes: a few thousand, some much busier than others (botnets cluster)
    const prefixes: number[] = [];
    while (prefixes.length < 3000) {
      const a = rng.range(1, 223);
      const b = rng.int(256);
      if (
        a === 10 ||
        a === 127 ||
        (a === 100 && b >= 64 && b < 128) ||
        (a === 169 && b === 254) ||
        (a === 172 && b >= 16 && b < 32) ||
        (a === 192 && b === 168) ||
        (a === 192 && b === 0) ||
        (a === 198 && (b === 18 || b === 19 || b === 51)) ||
        (a === 203 && b === 0)
      )
        continue;
      prefixes.push((a << 8) | b);
    }
    for (let i = 0; i < n; i++) {
      let ip: number;
      do {
        const p = prefixes[rng.chance(0.5) ? rng.zipf(prefixes.length) : rng.int(prefixes.length)]!;
        ip = ((p << 16) | (rng.range(0, 255) << 8) | rng.range(1, 254)) >>> 0;
      } while (taken.has(ip));
      taken.add(ip);
      this.cip[i] = ip;
      const r = rng.next();
      const kind = r < 0.02 ? KIND_HEAVY : r < 0.62 ? KIND_BOT : r < 0.87 ? KIND_LEGIT : KIND_SCANNER;
      this.ckind[i] = kind;
      if (kind === KIND_HEAVY) this.heavy.push(i);
      if (kind === KIND_BOT || kind === KIND_HEAVY) this.bots.push(i);
      this.crtt[i] = rng.logUniform(4000, 300000);
      const hops = rng.range(5, 25);
      const base = rng.chance(0.5) ? 64 : rng.chance(0.8) ? 128 : 255;
      this.cttl[i] = base - hops;
      this.cport[i] = rng.range(32768, 60999);
      this.cserver[i] = this.pickServerIndex();
      this.cmech[i] = rng.chance(0.6) ? 0 : 1; // 0 LOGIN, 1 PLAIN
    }
    this.perm = new Uint32Array(n);
    for (let i = 0; i < n; i++) this.perm[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const t = this.perm[i]!;
      this.perm[i] = this.perm[j]!;
      this.perm[j] = t;
    }
    // web clients: mostly other addresses, some shared with SMTP clients
    this.webClients = new Uint32Array(20000);
    for (let i = 0; i < this.webClients.length; i++) {
      if (rng.chance(0.2)) {
        this.webClients[i] = this.cip[rng.int(n)]!;
        continue;
      }
      let ip: number;
      do {
        const p = prefixes[rng.int(prefixes.length)]!;
        ip = ((p << 16) | (rng.range(0, 255) << 8) | rng.range(1, 254)) >>> 0;
      } while (taken.has(ip));
      this.webClients[i] = ip;
    }
    this.stats = {
      sessions: 0,
      sessionsByPort: { '25': 0, '587': 0 },
      authAttempts: 0,
      mails: 0,
      replies535: 0,
      single535: 0,
      split2: 0,
      split3: 0,
      coalesced: 0,
      retransmitted: 0,
      outOfOrder: 0,
      overlapping: 0,
      multiline535: 0,
      splitClientAuth: 0,
      decoyBodies: 0,
      decoyQueueIds: 0,
      decoyOpaque: 0,
      starttls454: 0,
      wrapSessions: 0,
      idleTimeouts: 0,
      httpFlows: 0,
      httpsFlows: 0,
      dnsQueries: 0,
      icmpMessages: 0,
      icmpQuotingTcp25: 0,
    };
  }

  pickServerIndex(): number {
    const r = this.rng.next();
    for (let i = 0; i < this.serverCdf.length; i++) if (r < this.serverCdf[i]!) return i;
    return this.serverCdf.length - 1;
  }

  nextPort(ci: number): number {
    let p = this.cport[ci]! + this.rng.range(1, 7);
    if (p > 60999) p = 32768 + (p - 61000);
    this.cport[ci] = p;
    return p;
  }

  addUser(ci: number, u: string): void {
    let s = this.users[ci];
    if (!s) {
      s = new Set();
      this.users[ci] = s;
    }
    s.add(u);
  }

  /** Picks the client of the next SMTP session. */
  pickClient(): number {
    const rng = this.rng;
    const firstPass = this.permPos < this.nClients;
    if (rng.chance(firstPass ? 0.75 : 0.35)) {
      const ci = this.perm[this.permPos % this.nClients]!;
      this.permPos++;
      return ci;
    }
    if (this.heavy.length > 0 && rng.chance(0.5)) return this.heavy[rng.zipf(this.heavy.length)]!;
    if (this.bots.length > 0) return this.bots[rng.int(this.bots.length)]!;
    return rng.int(this.nClients);
  }
}

// ---------------------------------------------------------------------------------------------
// TCP conversation with consistent sequence numbers

class Tcp {
  cseq: number;
  sseq: number;
  constructor(
    private readonly g: Gen,
    readonly cip: number,
    readonly sip: number,
    readonly cport: number,
    readonly sport: number,
    private readonly cttl: number,
    private readonly smtp: boolean,
    isnC: number,
    isnS: number,
  ) {
    this.cseq = isnC >>> 0;
    this.sseq = isnS >>> 0;
  }

  private count(): void {
    if (this.smtp) this.g.smtpPackets++;
    else this.g.bgPackets++;
  }

  /** Client → server segment at `seq` (no advance). */
  private cEmit(flags: number, data: string, seq: number): void {
    this.g.out.tcpStr(this.g.now++, this.cip, this.sip, this.cport, this.sport, seq, this.sseq, flags, this.cttl, true, data);
    this.count();
  }

  private sEmit(flags: number, data: string, seq: number): void {
    this.g.out.tcpStr(this.g.now++, this.sip, this.cip, this.sport, this.cport, seq, this.cseq, flags, 64, false, data);
    this.count();
  }

  syn(): void {
    this.cEmit(TCP_SYN, '', this.cseq);
    this.cseq = (this.cseq + 1) >>> 0;
  }
  synAck(): void {
    this.sEmit(TCP_SYN | TCP_ACK, '', this.sseq);
    this.sseq = (this.sseq + 1) >>> 0;
  }
  cAck(): void {
    this.cEmit(TCP_ACK, '', this.cseq);
  }
  sAck(): void {
    this.sEmit(TCP_ACK, '', this.sseq);
  }
  c(data: string): void {
    this.cEmit(TCP_PSH | TCP_ACK, data, this.cseq);
    this.cseq = (this.cseq + data.length) >>> 0;
  }
  s(data: string): void {
    this.sEmit(TCP_PSH | TCP_ACK, data, this.sseq);
    this.sseq = (this.sseq + data.length) >>> 0;
  }
  /** Server data at an explicit sequence number, without advancing (retransmissions, out of order). */
  sAt(seq: number, data: string): void {
    this.sEmit(TCP_PSH | TCP_ACK, data, seq >>> 0);
  }
  sAdvance(n: number): void {
    this.sseq = (this.sseq + n) >>> 0;
  }
  cFin(): void {
    this.cEmit(TCP_FIN | TCP_ACK, '', this.cseq);
    this.cseq = (this.cseq + 1) >>> 0;
  }
  sFin(): void {
    this.sEmit(TCP_FIN | TCP_ACK, '', this.sseq);
    this.sseq = (this.sseq + 1) >>> 0;
  }
  cRst(): void {
    this.cEmit(TCP_RST | TCP_ACK, '', this.cseq);
  }

  cBytes(data: Buffer, start: number, end: number): void {
    this.g.out.tcpBytes(this.g.now++, this.cip, this.sip, this.cport, this.sport, this.cseq, this.sseq, TCP_PSH | TCP_ACK, this.cttl, true, data, start, end);
    this.cseq = (this.cseq + end - start) >>> 0;
    this.count();
  }

  sBytes(data: Buffer, start: number, end: number): void {
    this.g.out.tcpBytes(this.g.now++, this.sip, this.cip, this.sport, this.cport, this.sseq, this.cseq, TCP_PSH | TCP_ACK, 64, false, data, start, end);
    this.sseq = (this.sseq + end - start) >>> 0;
    this.count();
  }
}

const MSS = 1448;

function b64(s: string): string {
  return Buffer.from(s, 'latin1').toString('base64');
}

/** A cut position inside `s`, biased towards the first few bytes (inside the reply code). */
function cutPoint(rng: Rng, len: number): number {
  if (len < 2) return 1;
  if (rng.chance(0.5)) return Math.min(len - 1, rng.range(1, 5));
  return rng.range(1, len - 1);
}

// ---------------------------------------------------------------------------------------------
// SMTP sessions

type Outcome = 'fail' | 'ok' | 'temp';

/** Emits one server reply carrying a 535 with one of the segmentation patterns. */
function* emit535(g: Gen, t: Tcp, reply: string, multiline: boolean): Generator<number, void, undefined> {
  const rng = g.rng;
  const st = g.stats;
  const r = rng.next();
  const len = reply.length;
  if (r < 0.05) {
    st.split2++;
    let cut = cutPoint(rng, len);
    if (multiline && rng.chance(0.5)) cut = reply.indexOf('\r\n535 ') + 2;
    t.s(reply.slice(0, cut));
    yield rng.range(20, 3000);
    t.s(reply.slice(cut));
  } else if (r < 0.08) {
    st.split3++;
    const c1 = cutPoint(rng, len - 1);
    const c2 = rng.range(c1 + 1, len - 1);
    t.s(reply.slice(0, c1));
    yield rng.range(20, 2000);
    t.s(reply.slice(c1, c2));
    yield rng.range(20, 2000);
    t.s(reply.slice(c2));
  } else if (r < 0.1) {
    st.retransmitted++;
    const seq0 = t.sseq;
    t.s(reply);
    yield rng.range(200000, 450000); // RTO
    t.sAt(seq0, reply);
  } else if (r < 0.12) {
    st.outOfOrder++;
    const cut = cutPoint(rng, len);
    const seq0 = t.sseq;
    t.sAt(seq0 + cut, reply.slice(cut));
    yield rng.range(50, 5000);
    t.sAt(seq0, reply.slice(0, cut));
    t.sAdvance(len);
  } else if (r < 0.13) {
    st.overlapping++;
    // first part, then a retransmission that covers it and the rest
    const cut = cutPoint(rng, len);
    const seq0 = t.sseq;
    t.s(reply.slice(0, cut));
    yield rng.range(200000, 400000);
    t.sAt(seq0, reply);
    t.sAdvance(len - cut);
  } else {
    st.single535++;
    t.s(reply);
  }
}

function authDelay(rng: Rng, srv: Server, o: Outcome): number {
  if (o === 'ok') return rng.range(3000, 40000);
  if (o === 'temp') return srv.flavor === 'postfix' ? rng.range(10_000_000, 15_000_000) : rng.range(200_000, 2_000_000);
  switch (srv.flavor) {
    case 'postfix':
      return 2_000_000 + rng.exp(80_000); // dovecot auth_failure_delay
    case 'exim':
      return rng.range(300_000, 1_500_000);
    case 'sendmail':
      return rng.range(800_000, 1_500_000);
    case 'gsmtp':
      return rng.range(150_000, 800_000);
  }
}

/** One AUTH exchange; records the user and the outcome in the truth. */
/** A client AUTH line, 3 % of the time split across two segments (a reassembler must join them). */
function* clientAuthLine(g: Gen, t: Tcp, line: string): Generator<number, void, undefined> {
  if (g.rng.chance(0.03)) {
    g.stats.splitClientAuth++;
    const cut = g.rng.range(1, line.length - 1);
    t.c(line.slice(0, cut));
    yield g.rng.range(50, 3000);
    t.c(line.slice(cut));
  } else {
    t.c(line);
  }
}

function* authAttempt(
  g: Gen,
  t: Tcp,
  srv: Server,
  ci: number,
  user: string,
  outcome: Outcome,
  pipelineQuit: boolean,
  rtt: number,
  think: () => number,
): Generator<number, void, undefined> {
  const rng = g.rng;
  const pass = rng.pick(PASSWORDS) + (rng.chance(0.3) ? String(rng.int(100)) : '');
  const quit = pipelineQuit ? 'QUIT\r\n' : '';
  const mech = rng.chance(0.9) ? g.cmech[ci]! : 1 - g.cmech[ci]!;
  g.stats.authAttempts++;
  const proc = (): number => rng.range(100, 3000);
  if (mech === 0) {
    if (rng.chance(0.15)) {
      t.c(`AUTH LOGIN ${b64(user)}\r\n`);
      g.addUser(ci, user);
      yield proc();
      t.s('334 UGFzc3dvcmQ6\r\n');
    } else {
      t.c('AUTH LOGIN\r\n');
      yield proc();
      t.s('334 VXNlcm5hbWU6\r\n');
      yield rtt + think();
      yield* clientAuthLine(g, t, `${b64(user)}\r\n`);
      g.addUser(ci, user);
      yield proc();
      t.s('334 UGFzc3dvcmQ6\r\n');
    }
    yield rtt + think();
    t.c(`${b64(pass)}\r\n${quit}`);
  } else {
    const cred = b64(`\0${user}\0${pass}`);
    if (rng.chance(0.1)) {
      t.c('AUTH PLAIN\r\n');
      yield proc();
      t.s('334 \r\n');
      yield rtt + think();
      t.c(`${cred}\r\n${quit}`);
    } else {
      yield* clientAuthLine(g, t, `AUTH PLAIN ${cred}\r\n${quit}`);
    }
    g.addUser(ci, user);
  }
  yield authDelay(rng, srv, outcome);
  const tail = pipelineQuit ? srv.r221 : '';
  if (outcome === 'fail') {
    g.fail[ci]!++;
    g.stats.replies535++;
    const multi = srv.flavor === 'gsmtp';
    if (multi) g.stats.multiline535++;
    if (pipelineQuit) g.stats.coalesced++;
    yield* emit535(g, t, srv.r535 + tail, multi);
  } else if (outcome === 'ok') {
    g.succ[ci]!++;
    t.s(srv.r235 + tail);
  } else {
    g.temp[ci]!++;
    t.s((srv.r454 ?? '454 4.7.0 Temporary authentication failure\r\n') + tail);
  }
}

function* sendMail(g: Gen, t: Tcp, srv: Server, user: string, rtt: number): Generator<number, void, undefined> {
  const rng = g.rng;
  g.stats.mails++;
  const from = user.includes('@') ? user : `${user}@${srv.domain}`;
  const nrcpt = rng.chance(0.7) ? 1 : rng.range(2, 8);
  t.c(`MAIL FROM:<${from}>\r\n`);
  yield rng.range(500, 5000);
  t.s('250 2.1.0 Ok\r\n');
  for (let i = 0; i < nrcpt; i++) {
    yield rtt + rng.range(100, 20000);
    t.c(`RCPT TO:<${rng.pick(FIRST)}.${rng.pick(LAST)}@example.${rng.pick(['de', 'fr', 'it', 'co.uk', 'pl'])}>\r\n`);
    yield rng.range(500, 20000);
    t.s('250 2.1.5 Ok\r\n');
  }
  yield rtt + rng.range(100, 20000);
  t.c('DATA\r\n');
  yield rng.range(200, 2000);
  t.s('354 End data with <CR><LF>.<CR><LF>\r\n');
  yield rtt + rng.range(100, 5000);
  const decoy = rng.chance(0.3);
  if (decoy) g.stats.decoyBodies++;
  const text = decoy ? g.mailTextDecoy : g.mailText;
  const size = rng.logUniform(400, 40000);
  // line-aligned slice of the text
  let off = text.indexOf('\r\n', rng.int(text.length - size - 4)) + 2;
  if (off < 2) off = 0;
  let end = text.indexOf('\r\n', off + size);
  end = end < 0 ? text.length : end + 2;
  const body =
    `From: <${from}>\r\nTo: undisclosed-recipients:;\r\nSubject: ${rng.pick(['Invoice', 'Re: meeting', 'Your parcel', 'Payment notice'])}\r\n` +
    `Message-ID: <${hexId(rng, 16)}@${srv.domain}>\r\n\r\n` +
    text.slice(off, end) +
    '.\r\n';
  for (let o = 0, k = 0; o < body.length; o += MSS, k++) {
    t.c(body.slice(o, o + MSS));
    if (k % 2 === 1) {
      yield rng.range(50, 400);
      t.sAck();
    }
    yield rng.range(20, 800);
  }
  yield rng.range(2000, 60000);
  const q = srv.rQueued(rng);
  if (q.includes(' 535') || q.includes('535 ') || q.includes('.535') || q.includes('-535')) g.stats.decoyQueueIds++;
  t.s(q);
}

/** TLS-looking bytes after STARTTLS: the flow is opaque; some records contain a decoy `\r\n535 ` line. */
function* opaqueTls(g: Gen, t: Tcp, rtt: number): Generator<number, void, undefined> {
  const rng = g.rng;
  const nz = g.noise;
  g.opaqueFlows++;
  const chunk = (n: number): number => rng.int(nz.length - n - 1);
  let o = chunk(517);
  t.cBytes(nz, o, o + 517);
  yield rng.range(1000, 5000);
  for (let i = 0; i < 3; i++) {
    o = chunk(MSS);
    t.sBytes(nz, o, o + (i < 2 ? MSS : rng.range(200, 1200)));
    yield rng.range(20, 300);
  }
  yield rtt;
  o = chunk(200);
  t.cBytes(nz, o, o + rng.range(64, 160));
  const rounds = rng.range(3, 12);
  for (let i = 0; i < rounds; i++) {
    yield rtt + rng.range(1000, 400000);
    o = chunk(300);
    t.cBytes(nz, o, o + rng.range(40, 300));
    yield rng.range(500, 2_200_000);
    if (rng.chance(0.2)) {
      // an encrypted record that happens to contain a reply-looking line: must not count
      g.stats.decoyOpaque++;
      const d = `\r\n${DECOY_535}\r\n`;
      const n = rng.range(d.length + 16, 240);
      o = chunk(n);
      const rec = Buffer.from(nz.subarray(o, o + n));
      rec.write(d, rng.int(n - d.length + 1), 'latin1');
      t.sBytes(rec, 0, n);
    } else {
      o = chunk(300);
      t.sBytes(nz, o, o + rng.range(30, 300));
    }
  }
}

function* smtpSession(g: Gen, ci: number): Generator<number, void, undefined> {
  const rng = g.rng;
  const st = g.stats;
  const kind = g.ckind[ci]!;
  const srv = g.servers[rng.chance(0.85) ? g.cserver[ci]! : g.pickServerIndex()]!;
  const port = kind === KIND_LEGIT ? (rng.chance(0.85) ? 587 : 25) : rng.chance(0.6) ? 25 : 587;
  const rtt = g.crtt[ci]!;
  const cport = g.nextPort(ci);
  const wrap = rng.chance(0.01);
  if (wrap) st.wrapSessions++;
  const isnC = wrap && rng.chance(0.5) ? 0xffffffff - rng.int(400) : rng.u32();
  const isnS = wrap ? 0xffffffff - rng.int(600) : rng.u32();
  const t = new Tcp(g, g.cip[ci]!, srv.ip, cport, port, g.cttl[ci]!, true, isnC, isnS);
  st.sessions++;
  st.sessionsByPort[String(port)]!++;
  g.cseen[ci] = 1;
  g.openSmtp++;
  if (g.openSmtp > g.maxOpenSmtp) g.maxOpenSmtp = g.openSmtp;
  g.openSum += g.openSmtp;
  g.openSamples++;

  const bot = kind === KIND_BOT || kind === KIND_HEAVY;
  const think = bot ? (): number => 2000 + rng.exp(250_000) : (): number => 20_000 + rng.exp(1_500_000);

  // handshake and greeting
  t.syn();
  yield rng.range(20, 200);
  t.synAck();
  yield rtt;
  t.cAck();
  yield rng.range(1000, 30000);
  t.s(srv.greeting);
  if (rng.chance(0.3)) {
    yield rtt;
    t.cAck();
    yield rng.range(1000, 20000);
  } else yield rtt + rng.range(1000, 30000);
  const helo = kind === KIND_LEGIT ? 'laptop.home.example' : rng.pick(HELO_NAMES);
  t.c(`EHLO ${helo}\r\n`);
  yield rng.range(200, 3000);
  const ehlo = ehloReply(srv, helo, t.cip);
  if (rng.chance(0.1)) {
    const cut = ehlo.indexOf('\r\n', rng.int(ehlo.length - 4)) + 2;
    t.s(ehlo.slice(0, cut));
    yield rng.range(20, 500);
    t.s(ehlo.slice(cut));
  } else {
    t.s(ehlo);
  }
  yield rtt + think();

  let ending: 'quit' | 'fin' | 'rst' | 'idle' | 'done';
  const er = rng.next();
  ending = er < 0.7 ? 'quit' : er < 0.84 ? 'fin' : er < 0.95 ? 'rst' : 'idle';

  if (kind === KIND_SCANNER || (kind === KIND_LEGIT && port === 587 && rng.chance(0.6))) {
    const sr = rng.next();
    if (kind === KIND_LEGIT || sr < 0.35) {
      t.c('STARTTLS\r\n');
      yield rng.range(300, 3000);
      if (rng.chance(0.03)) {
        st.starttls454++;
        t.s('454 4.7.0 TLS not available due to local problem\r\n');
        yield rtt + think();
      } else {
        t.s('220 2.0.0 Ready to start TLS\r\n');
        yield rtt;
        yield* opaqueTls(g, t, rtt);
        ending = rng.chance(0.5) ? 'fin' : 'rst';
      }
    } else if (sr < 0.7) {
      // open relay probe
      t.c(`MAIL FROM:<${rng.pick(BASE_USERS)}@example.${rng.pick(['cn', 'ru', 'br'])}>\r\n`);
      yield rng.range(500, 5000);
      t.s('250 2.1.0 Ok\r\n');
      yield rtt + think();
      t.c(`RCPT TO:<${rng.pick(FIRST)}@example.info>\r\n`);
      yield rng.range(500, 5000);
      t.s(`554 5.7.1 <${rng.pick(FIRST)}@example.info>: Relay access denied\r\n`);
      yield rtt + think();
    } else if (sr < 0.8) {
      t.c(`VRFY ${rng.pick(BASE_USERS)}\r\n`);
      yield rng.range(500, 5000);
      t.s('252 2.0.0 Cannot VRFY user, but will accept message and attempt delivery\r\n');
      yield rtt + think();
    }
  } else {
    // AUTH attempts
    let attempts: number;
    if (kind === KIND_HEAVY) attempts = rng.range(3, 25);
    else if (kind === KIND_BOT) attempts = Math.min(25, 1 + Math.floor(rng.exp(2.5)));
    else attempts = 1;
    const legitUser = `${FIRST[ci % FIRST.length]}.${LAST[(ci >>> 5) % LAST.length]}@${srv.domain}`;
    const pipelineLast = bot && ending === 'quit' && rng.chance(0.3);
    let fails = 0;
    let success: string | null = null;
    for (let a = 0; a < attempts; a++) {
      const user = bot ? g.userPool[rng.zipf(g.userPool.length)]! : legitUser;
      let outcome: Outcome;
      const tempP = srv.r454 === null ? 0 : srv.flavor === 'postfix' && fails >= 3 ? 0.15 : 0.01;
      const r = rng.next();
      if (bot) outcome = r < tempP ? 'temp' : r < tempP + 0.003 ? 'ok' : 'fail';
      else outcome = r < 0.02 ? 'temp' : r < 0.08 ? 'fail' : 'ok';
      if (!bot && outcome !== 'ok') attempts = Math.min(attempts + 1, 4); // the user retries
      const last = a === attempts - 1 || outcome === 'ok';
      const pq = pipelineLast && last && outcome !== 'ok';
      yield* authAttempt(g, t, srv, ci, user, outcome, pq, rtt, think);
      if (pq) {
        ending = 'done';
        break;
      }
      if (outcome === 'fail') fails++;
      if (outcome === 'ok') {
        success = user;
        break;
      }
      if (outcome === 'temp' && bot && rng.chance(0.5)) break;
      yield rtt + think();
    }
    if (success !== null && ending !== 'done' && (!bot || rng.chance(0.4))) {
      yield rtt + think();
      yield* sendMail(g, t, srv, success, rtt);
      if (ending === 'idle') ending = 'quit';
    }
    if (ending !== 'done') yield rtt + think();
  }

  // endings
  switch (ending) {
    case 'quit':
      t.c('QUIT\r\n');
      yield rng.range(100, 2000);
      t.s(srv.r221);
      yield rng.range(20, 500);
      t.sFin();
      yield rtt;
      t.cFin();
      yield rng.range(20, 200);
      t.sAck();
      break;
    case 'done': // 221 already sent coalesced with the last reply
      yield rng.range(20, 500);
      t.sFin();
      yield rtt;
      t.cFin();
      yield rng.range(20, 200);
      t.sAck();
      break;
    case 'fin':
      t.cFin();
      yield rng.range(20, 500);
      t.sFin();
      yield rtt;
      t.cAck();
      break;
    case 'rst':
      t.cRst();
      break;
    case 'idle':
      st.idleTimeouts++;
      yield 300_000_000 + rng.range(0, 2_000_000);
      t.s(srv.r421);
      t.sFin();
      yield rtt;
      if (rng.chance(0.5)) t.cRst();
      else {
        t.cFin();
        yield rng.range(20, 200);
        t.sAck();
      }
      break;
  }
  g.openSmtp--;
}

// ---------------------------------------------------------------------------------------------
// background traffic

function* httpFlow(g: Gen, tls: boolean): Generator<number, void, undefined> {
  const rng = g.rng;
  const cip = g.webClients[rng.int(g.webClients.length)]!;
  const srv = g.servers[rng.int(g.servers.length)]!;
  const rtt = rng.logUniform(3000, 250000);
  const t = new Tcp(g, cip, srv.ip, rng.range(32768, 60999), tls ? 443 : 80, rng.range(40, 120), false, rng.u32(), rng.u32());
  if (tls) g.stats.httpsFlows++;
  else g.stats.httpFlows++;
  t.syn();
  yield rng.range(20, 200);
  t.synAck();
  yield rtt;
  t.cAck();
  const nz = g.noise;
  const html = g.htmlText;
  const requests = rng.chance(0.6) ? 1 : rng.range(2, 5);
  for (let q = 0; q < requests; q++) {
    yield rng.range(100, 5000);
    if (tls) {
      const n = q === 0 ? 517 : rng.range(80, 900);
      const o = rng.int(nz.length - n);
      t.cBytes(nz, o, o + n);
    } else {
      const path = `/${rng.pick(['index.html', 'webmail/', 'roundcube/?_task=mail', 'favicon.ico', 'wp-login.php', '.env', 'static/app.js'])}`;
      t.c(
        `GET ${path} HTTP/1.1\r\nHost: ${srv.name}\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n` +
          'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\nAccept-Language: en-US,en;q=0.5\r\n' +
          `Accept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\nCookie: sid=${hexId(rng, 32)}\r\n\r\n`,
      );
    }
    yield rng.range(1000, 50000);
    const size = rng.logUniform(200, 16000);
    let sent = 0;
    let k = 0;
    if (!tls) {
      const hdr = `HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: ${size}\r\n\r\n`;
      t.s(hdr);
    }
    while (sent < size) {
      const n = Math.min(MSS, size - sent);
      if (tls) {
        const o = rng.int(nz.length - n);
        t.sBytes(nz, o, o + n);
      } else {
        const o = rng.int(html.length - n);
        t.s(html.slice(o, o + n));
      }
      sent += n;
      k++;
      if (k % 2 === 0) {
        yield rng.range(30, 300);
        t.cAck();
      }
      yield k % 10 === 0 ? rtt : rng.range(10, 200);
    }
    yield rtt;
    t.cAck();
  }
  yield rng.range(1000, 3_000_000);
  if (rng.chance(0.8)) {
    t.cFin();
    yield rng.range(50, 500);
    t.sFin();
    yield rtt;
    t.cAck();
  } else {
    t.cRst();
  }
}

function dnsName(b: Buffer, o: number, name: string): number {
  for (const label of name.split('.')) {
    b[o++] = label.length;
    o += b.write(label, o, 'latin1');
  }
  b[o++] = 0;
  return o;
}

function* dnsQuery(g: Gen): Generator<number, void, undefined> {
  const rng = g.rng;
  const b = Buffer.alloc(512); // not g.scratch: other flows run between the query and the answer
  g.stats.dnsQueries++;
  const srv = g.servers[rng.int(g.servers.length)]!;
  const resolver = ipFromString('192.0.2.53');
  const sport = rng.range(1024, 65535);
  const id = rng.int(65536);
  const r = rng.next();
  let name: string;
  let qtype: number;
  if (r < 0.6) {
    const ip = g.cip[rng.int(g.nClients)]!;
    name = `${ip & 0xff}.${(ip >>> 8) & 0xff}.${(ip >>> 16) & 0xff}.${ip >>> 24}.in-addr.arpa`;
    qtype = 12;
  } else if (r < 0.85) {
    name = `${rng.pick(['mail', 'mx', 'smtp', 'www'])}.example.${rng.pick(['de', 'fr', 'it', 'pl', 'nl'])}`;
    qtype = 1;
  } else {
    name = `example.${rng.pick(['de', 'fr', 'it', 'pl', 'nl'])}`;
    qtype = 16;
  }
  b.writeUInt16BE(id, 0);
  b.writeUInt16BE(0x0100, 2);
  b.writeUInt16BE(1, 4);
  b.writeUInt32BE(0, 6);
  b.writeUInt16BE(0, 10);
  let o = dnsName(b, 12, name);
  b.writeUInt16BE(qtype, o);
  b.writeUInt16BE(1, o + 2);
  o += 4;
  g.out.udp(g.now++, srv.ip, resolver, sport, 53, 64, false, b, o);
  g.bgPackets++;
  yield rng.range(300, 40000);
  const nx = rng.chance(0.3);
  b.writeUInt16BE(nx ? 0x8183 : 0x8180, 2);
  if (!nx) {
    b.writeUInt16BE(1, 6);
    b.writeUInt16BE(0xc00c, o);
    b.writeUInt16BE(qtype, o + 2);
    b.writeUInt16BE(1, o + 4);
    b.writeUInt32BE(rng.range(60, 86400), o + 6);
    const rdStart = o + 12;
    let e: number;
    if (qtype === 12) e = dnsName(b, rdStart, `host-${rng.int(1 << 20)}.dyn.example.net`);
    else if (qtype === 1) {
      b.writeUInt32BE(rng.u32(), rdStart);
      e = rdStart + 4;
    } else {
      const txt = 'v=spf1 mx a ip4:192.0.2.0/24 -all';
      b[rdStart] = txt.length;
      e = rdStart + 1 + b.write(txt, rdStart + 1, 'latin1');
    }
    b.writeUInt16BE(e - rdStart, o + 10);
    o = e;
  }
  g.out.udp(g.now++, resolver, srv.ip, 53, sport, 60, true, b, o);
  g.bgPackets++;
}

const ECHO_PAYLOAD = Buffer.from(Array.from({ length: 56 }, (_, i) => (0x10 + i) & 0xff));

function* icmpFlow(g: Gen): Generator<number, void, undefined> {
  const rng = g.rng;
  const b = g.scratch;
  const srv = g.servers[rng.int(g.servers.length)]!;
  if (rng.chance(0.85)) {
    const mon = ipFromString('192.0.2.1');
    const id = rng.int(65536);
    const seq = rng.int(65536);
    g.out.icmp(g.now++, mon, srv.ip, 63, true, 8, 0, (id << 16) | seq, ECHO_PAYLOAD, 56);
    g.bgPackets++;
    g.stats.icmpMessages++;
    yield rng.range(200, 2000);
    g.out.icmp(g.now++, srv.ip, mon, 64, false, 0, 0, (id << 16) | seq, ECHO_PAYLOAD, 56);
    g.bgPackets++;
    g.stats.icmpMessages++;
  } else {
    // destination unreachable quoting a datagram the server sent: sometimes a TCP segment from port
    // 25 (the quoted TCP header must not be taken for a real segment)
    const router = ipFromString('192.0.2.254');
    const dst = g.cip[rng.int(g.nClients)]!;
    const tcp = rng.chance(0.5);
    if (tcp) g.stats.icmpQuotingTcp25++;
    b.fill(0, 0, 28);
    b[0] = 0x45;
    b.writeUInt16BE(tcp ? 60 : 76, 2);
    b[8] = 63;
    b[9] = tcp ? 6 : 17;
    b.writeUInt32BE(srv.ip, 12);
    b.writeUInt32BE(dst, 16);
    if (tcp) {
      b.writeUInt16BE(25, 20);
      b.writeUInt16BE(rng.range(32768, 60999), 22);
      b.writeUInt32BE(rng.u32(), 24);
    } else {
      b.writeUInt16BE(rng.range(1024, 65535), 20);
      b.writeUInt16BE(53, 22);
      b.writeUInt16BE(56, 24);
    }
    g.out.icmp(g.now++, router, srv.ip, 255, true, 3, 1, 0, b, 28);
    g.bgPackets++;
    g.stats.icmpMessages++;
  }
}

// ---------------------------------------------------------------------------------------------
// arrivals

function* smtpArrivals(g: Gen): Generator<number, void, undefined> {
  const rng = g.rng;
  const spanUs = g.opt.spanS * 1e6;
  // first guess: ~9 KiB of capture per SMTP session (SMTP + its share of background)
  let rate = g.targetBytes / 9000 / g.opt.spanS; // sessions per second
  let n = 0;
  while (g.out.bytes < g.targetBytes) {
    g.heap.push(g.now, smtpSession(g, g.pickClient()));
    n++;
    if (n % 500 === 0) {
      const elapsed = g.now - g.start;
      if (elapsed > 120e6) {
        const perSession = g.out.bytes / n;
        const remainingBytes = g.targetBytes - g.out.bytes;
        const remainingUs = Math.max(60e6, spanUs - elapsed);
        const want = remainingBytes / perSession / (remainingUs / 1e6);
        rate = Math.max(rate * 0.7, Math.min(rate * 1.4, want));
      }
    }
    yield rng.exp(1e6 / rate);
  }
  g.stop = true;
}

function* bgArrivals(g: Gen): Generator<number, void, undefined> {
  const rng = g.rng;
  const ratio = g.opt.bgShare / (1 - g.opt.bgShare);
  let rate = (g.targetBytes / 9000 / g.opt.spanS) * 6;
  while (!g.stop) {
    if (g.bgPackets < ratio * g.smtpPackets) {
      const r = rng.next();
      const task = r < 0.27 ? httpFlow(g, false) : r < 0.52 ? httpFlow(g, true) : r < 0.92 ? dnsQuery(g) : icmpFlow(g);
      g.heap.push(g.now, task);
    }
    // follow the SMTP arrival rate loosely: spawn opportunities at ~6× the session rate
    if (g.stats.sessions > 1000 && g.now - g.start > 60e6) rate = (g.stats.sessions / ((g.now - g.start) / 1e6)) * 6;
    yield rng.exp(1e6 / rate);
  }
}

// ---------------------------------------------------------------------------------------------
// main

export interface GenResult {
  bytes: number;
  packets: number;
  seconds: number;
}

export function generate(opt: GenOptions): GenResult {
  const t0 = process.hrtime.bigint();
  mkdirSync(dirname(opt.out), { recursive: true });
  const g = new Gen(opt);
  g.heap.push(g.now, smtpArrivals(g));
  g.heap.push(g.now + 1000, bgArrivals(g));
  let nextReport = 64 * 1024 * 1024;
  const heap = g.heap;
  while (heap.size > 0) {
    const task = heap.pop();
    g.now = heap.poppedTime;
    const r = task.next();
    if (r.done !== true) heap.push(g.now + r.value, task);
    if (!opt.quiet && g.out.bytes >= nextReport) {
      nextReport += 128 * 1024 * 1024;
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      process.stderr.write(
        `gen: ${(g.out.bytes / 1048576).toFixed(0)} MiB, ${g.out.packets} packets, ` + `${g.openSmtp} SMTP sessions open, ${s.toFixed(1)} s\n`,
      );
    }
  }
  g.out.close();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const bytes = statSync(opt.out).size;
  writeTruth(g, bytes, seconds);
  return { bytes, packets: g.out.packets, seconds };
}

function writeTruth(g: Gen, bytes: number, seconds: number): void {
  const idx: number[] = [];
  let failures = 0,
    successes = 0,
    tempfails = 0,
    seen = 0,
    userEntries = 0;
  for (let i = 0; i < g.nClients; i++) {
    if (g.cseen[i]) seen++;
    if (g.fail[i]! + g.succ[i]! + g.temp[i]! === 0) continue;
    idx.push(i);
    failures += g.fail[i]!;
    successes += g.succ[i]!;
    tempfails += g.temp[i]!;
  }
  idx.sort((a, b) => g.cip[a]! - g.cip[b]!);
  const clients: Record<string, { failures: number; successes: number; tempfails: number; users: string[] }> = {};
  for (const i of idx) {
    const users = [...(g.users[i] ?? [])].sort();
    userEntries += users.length;
    clients[ipToString(g.cip[i]!)] = { failures: g.fail[i]!, successes: g.succ[i]!, tempfails: g.temp[i]!, users };
  }
  const spanS = (g.out.lastTimestamp - g.start) / 1e6;
  const truth = {
    capture: basename(g.opt.out),
    made_by: `bench/gen.ts --size-mb ${g.opt.sizeMb} --clients ${g.opt.clients} --seed ${g.opt.seed}`,
    generator: {
      version: GEN_VERSION,
      size_mb: g.opt.sizeMb,
      clients: g.opt.clients,
      seed: g.opt.seed,
      span_s_target: g.opt.spanS,
      bg_share: g.opt.bgShare,
      seconds: round(seconds, 2),
    },
    clients,
    opaque_flows: g.opaqueFlows,
    expect_error: null,
    ports: [25, 587],
    totals: {
      failures,
      successes,
      tempfails,
      packets: g.out.packets,
      smtp_packets: g.smtpPackets,
      other_packets: g.bgPackets,
      bytes,
      clients_in_truth: idx.length,
      smtp_clients_seen: seen,
      user_entries: userEntries,
    },
    capture_span_s: round(spanS, 1),
    first_ts_us: g.start,
    last_ts_us: g.out.lastTimestamp,
    concurrency: { max_open_smtp_sessions: g.maxOpenSmtp, mean_open_at_session_start: round(g.openSum / Math.max(1, g.openSamples), 1) },
    stats: g.stats,
    notes:
      'Synthetic benchmark capture. failures = 535 replies (retransmitted copies and the second line of a ' +
      'multi-line 535 do not count; coalesced 535+221 counts once); decoy 535 lines appear in mail bodies ' +
      '(client→server), in HTTP bodies on port 80, in queue ids and inside encrypted STARTTLS data, and none count. ' +
      'TCP checksums are 0.',
  };
  writeFileSync(truthPathFor(g.opt.out), JSON.stringify(truth, null, 1) + '\n');
}

function round(x: number, d: number): number {
  const m = 10 ** d;
  return Math.round(x * m) / m;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      'size-mb': { type: 'string', default: '1100' },
      clients: { type: 'string', default: '50000' },
      seed: { type: 'string', default: '1' },
      out: { type: 'string', default: 'bench/out/synth.pcap' },
      'span-s': { type: 'string' },
      'bg-share': { type: 'string', default: '0.35' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(
      'usage: node dist/bench/gen.js [--size-mb 1100] [--clients 50000] [--seed 1] [--out bench/out/synth.pcap] [--span-s S] [--bg-share 0.35] [--quiet]\n',
    );
    return;
  }
  const sizeMb = Number(values['size-mb']);
  const clients = Number(values.clients);
  const seed = Number(values.seed);
  const bgShare = Number(values['bg-share']);
  if (!(sizeMb > 0) || !(clients >= 10) || !Number.isInteger(seed) || !(bgShare >= 0 && bgShare < 0.9)) {
    throw new Error('bad arguments: --size-mb > 0, --clients >= 10, integer --seed, 0 <= --bg-share < 0.9');
  }
  // a few hours for the full size; proportionally shorter (but at least 10 min) for small files
  const spanS = values['span-s'] !== undefined ? Number(values['span-s']) : Math.max(600, 10800 * Math.min(1, sizeMb / 1100));
  const opt: GenOptions = { sizeMb, clients, seed, out: values.out, spanS, bgShare, quiet: values.quiet };
  const r = generate(opt);
  const truth = truthPathFor(opt.out);
  process.stdout.write(
    `gen: wrote ${opt.out}: ${(r.bytes / 1048576).toFixed(1)} MiB (${r.bytes} bytes), ${r.packets} packets ` +
      `in ${r.seconds.toFixed(2)} s (${(r.bytes / 1048576 / r.seconds).toFixed(0)} MiB/s, ${(r.packets / r.seconds / 1e6).toFixed(2)} M pkt/s); truth: ${truth}\n`,
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
