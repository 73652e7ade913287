import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { writeFileSync } from 'node:fs';
import { isIP, Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { Output } from '../io/output.js';
import { recordLength, TLS12_GCM, TLS13_AEAD, type RecordOverhead } from '../tls/record-size.js';
import { replyLength, type CalibrationFile, type ReplyCode, type ReplyTexts } from '../tls/reply-profiles.js';

/**
 * `smtpstrike calibrate HOST[:PORT]`: one SMTP session to the admin's own server, as a client, to
 * read in the clear the reply texts the TLS inference needs (issue 10 item 3): the banner, EHLO,
 * STARTTLS, EHLO, `AUTH LOGIN` with a random user name that does not exist and a random password
 * (never real credentials), the 334 prompts, the 535, QUIT and its 221. 235 and 454 cannot be
 * learned this way (a real login, a penalty) and stay the built-in profile's.
 *
 * Refuses any HOST that is not one of this machine's addresses unless --yes-this-is-my-server.
 */

export interface CalibrateFlags {
  out?: string;
  yesThisIsMyServer: boolean;
  timeout: number;
}

export const CALIBRATE_EXIT = { ok: 0, failed: 1 } as const;

/** Each read waits at most this long (and never past the whole run's deadline). */
const READ_MS = 10_000;

export async function runCalibrate(target: string, flags: CalibrateFlags): Promise<number> {
  const fail = (msg: string): number => {
    process.stderr.write(`smtpstrike calibrate: ${msg}\n`);
    return CALIBRATE_EXIT.failed;
  };
  let host: string;
  let port: number;
  try {
    [host, port] = splitTarget(target);
  } catch (e) {
    return fail((e as Error).message);
  }
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  } catch (e) {
    return fail(`cannot resolve ${host}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const local = localAddresses();
  const mine = addresses.filter((a) => local.has(normalise(a)));
  if (mine.length === 0 && !flags.yesThisIsMyServer) {
    return fail(
      `refusing: ${host}${addresses.length && addresses[0] !== host ? ` (${addresses.join(', ')})` : ''} is not an address of this machine. ` +
        'calibrate logs in with a made-up user to read the failure reply, which is only yours to do on your own server; ' +
        'if that server is yours, add --yes-this-is-my-server',
    );
  }
  // Connect to the address checked, not to the name again (a second lookup could answer otherwise).
  const address = mine[0] ?? addresses[0]!;
  let result: Learned;
  try {
    result = await calibrateSession(address, port, isIP(host) ? undefined : host, flags.timeout * 1000);
  } catch (e) {
    return fail((e as Error).message);
  }
  const doc = calibrationDoc(`${host}:${port}`, result);
  const out = Output.of(process.stdout);
  const text = describe(doc, result);
  if (flags.out) {
    try {
      writeFileSync(flags.out, JSON.stringify(doc, null, 2) + '\n');
    } catch (e) {
      return fail(`cannot write ${flags.out}: ${(e as Error).message}`);
    }
    out.write(`${text}saved to ${flags.out}; use it with --tls-replies-file ${flags.out} (replay, watch, dump, report) or tls_replies_file: in the config\n`);
  } else {
    process.stderr.write(`${text}(not saved: give --out FILE, then --tls-replies-file FILE; the JSON follows on stdout)\n`);
    out.write(JSON.stringify(doc, null, 2) + '\n');
  }
  await out.end();
  return CALIBRATE_EXIT.ok;
}

/** `host`, `host:port`, `[v6]:port`, `v6` → [host, port]. */
export function splitTarget(t: string): [string, number] {
  let host = t;
  let port = '587';
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  if (v6) {
    host = v6[1]!;
    port = v6[2] ?? port;
  } else if ((t.match(/:/g) ?? []).length === 1) {
    [host, port] = t.split(':') as [string, string];
  }
  if (host === '') throw new Error(`no host in "${t}"`);
  if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) throw new Error(`not a TCP port: "${port}"`);
  return [host, Number(port)];
}

/** This machine's addresses (of its network namespace), as os.networkInterfaces() lists them. */
export function localAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.add(normalise(a.address));
  return out;
}

function normalise(a: string): string {
  const s = a.toLowerCase().replace(/%.*$/, '');
  return s.startsWith('::ffff:') && isIP(s.slice(7)) === 4 ? s.slice(7) : s;
}

interface Reply {
  code: number;
  lines: string[];
}

/** Reads SMTP replies (multi-line too) from a socket that may be swapped for its TLS successor. */
class ReplyReader {
  private buf = '';
  private replies: Reply[] = [];
  private lines: string[] = [];
  private failure: Error | null = null;
  private wake: (() => void) | null = null;
  private sock: Duplex | null = null;
  private readonly onData = (d: Buffer): void => this.feed(d.toString('latin1'));
  private readonly onEnd = (): void => this.fail(new Error('the server closed the connection'));
  private readonly onError = (e: Error): void => this.fail(e);

  attach(sock: Duplex): void {
    this.sock = sock;
    sock.on('data', this.onData);
    sock.on('end', this.onEnd);
    sock.on('error', this.onError);
  }

  /** Stops reading the plain socket (STARTTLS): nothing may be left over. */
  detach(): void {
    const s = this.sock;
    if (!s) return;
    s.off('data', this.onData);
    s.off('end', this.onEnd);
    s.off('error', this.onError);
    this.sock = null;
    if (this.buf !== '' || this.replies.length > 0) throw new Error('the server sent data after its 220 to STARTTLS, before TLS');
  }

  private feed(s: string): void {
    this.buf += s;
    if (this.buf.length > 65536) return this.fail(new Error('a reply longer than 64 KiB'));
    for (let nl = this.buf.indexOf('\n'); nl >= 0; nl = this.buf.indexOf('\n')) {
      const line = this.buf.slice(0, nl).replace(/\r$/, '');
      this.buf = this.buf.slice(nl + 1);
      const m = /^(\d{3})([ -]|$)/.exec(line);
      if (!m) return this.fail(new Error(`not an SMTP reply line: "${line.slice(0, 80)}"`));
      this.lines.push(line);
      if (m[2] !== '-') {
        this.replies.push({ code: Number(m[1]), lines: this.lines });
        this.lines = [];
      }
    }
    this.wake?.();
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.wake?.();
  }

  /** The next reply, waiting at most `ms`. */
  async next(ms: number, what: string): Promise<Reply> {
    const deadline = Date.now() + ms;
    for (;;) {
      const r = this.replies.shift();
      if (r) return r;
      if (this.failure) throw new Error(`${what}: ${this.failure.message}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${what}: no reply within ${Math.round(ms / 1000)} s`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = null;
    }
  }
}

interface Learned {
  banner: string;
  challenges: string[];
  failure: string;
  quit: string | null;
  mech: 'LOGIN' | 'PLAIN';
  protocol: string | null;
  cipher: string | null;
}

/** The session itself. Throws an Error with a message for the user. */
async function calibrateSession(address: string, port: number, servername: string | undefined, totalMs: number): Promise<Learned> {
  const end = Date.now() + totalMs;
  const left = (): number => Math.max(1, Math.min(READ_MS, end - Date.now()));
  const plain = new Socket();
  let sock: Duplex = plain;
  let tls: TLSSocket | null = null;
  const reader = new ReplyReader();
  const send = (line: string): void => {
    sock.write(`${line}\r\n`);
  };
  const expect = async (what: string, codes: number[]): Promise<Reply> => {
    const r = await reader.next(left(), what);
    if (!codes.includes(r.code)) throw new Error(`${what}: the server answered ${r.lines.join(' | ').slice(0, 200)}`);
    return r;
  };
  const text = (r: Reply): string => r.lines.join('\n');
  const watchdog = setTimeout(() => {
    plain.destroy(new Error(`gave up after ${Math.round(totalMs / 1000)} s`));
    tls?.destroy(new Error(`gave up after ${Math.round(totalMs / 1000)} s`));
  }, totalMs);
  try {
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`connecting to ${address} port ${port}: no answer within ${Math.round(left() / 1000)} s`)), left());
      plain.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(t);
        reject(
          new Error(
            e.code === 'ECONNREFUSED'
              ? `connection refused by ${address} port ${port} (is the SMTP server listening there?)`
              : `connecting to ${address} port ${port}: ${e.code ?? e.message}`,
          ),
        );
      });
      plain.connect(port, address, () => {
        clearTimeout(t);
        resolve();
      });
    });
    reader.attach(plain);
    const greeting = await expect('the greeting', [220]);
    const banner = greeting.lines[0]!;
    send('EHLO calibrate.smtpstrike.invalid');
    const ehlo = await expect('EHLO', [250]);
    if (!ehlo.lines.some((l) => /^250[ -]STARTTLS\b/i.test(l)))
      throw new Error('the server does not offer STARTTLS (its EHLO reply has no STARTTLS line): there is nothing opaque to calibrate for');
    send('STARTTLS');
    await expect('STARTTLS', [220]);
    reader.detach();
    tls = await new Promise<TLSSocket>((resolve, reject) => {
      // rejectUnauthorized: false — this is the admin's own server (checked above or confirmed with
      // --yes-this-is-my-server), often with a self-signed certificate; we send no credentials and
      // only read its reply texts, so an unverified certificate costs nothing here.
      const s = tlsConnect({ socket: plain, rejectUnauthorized: false, ...(servername ? { servername } : {}) });
      const t = setTimeout(() => reject(new Error(`TLS failure: no handshake within ${Math.round(left() / 1000)} s`)), left());
      s.once('secureConnect', () => {
        clearTimeout(t);
        resolve(s);
      });
      s.once('error', (e: Error) => {
        clearTimeout(t);
        reject(new Error(`TLS failure: ${e.message}`));
      });
    });
    sock = tls;
    reader.attach(tls);
    send('EHLO calibrate.smtpstrike.invalid');
    const ehlo2 = await expect('EHLO after STARTTLS', [250]);
    const authLine = ehlo2.lines.find((l) => /^250[ -]AUTH[ =]/i.test(l));
    if (!authLine) throw new Error('the server offers no AUTH after STARTTLS (its second EHLO reply has no AUTH line)');
    const mechs = authLine.slice(9).toUpperCase().split(/\s+/);
    const user = `smtpstrike-calibrate-${randomBytes(6).toString('hex')}`;
    const password = randomBytes(18).toString('base64');
    const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
    const challenges: string[] = [];
    let outcome: Reply;
    let mech: 'LOGIN' | 'PLAIN';
    if (mechs.includes('LOGIN')) {
      mech = 'LOGIN';
      send('AUTH LOGIN');
      let r = await expect('AUTH LOGIN', [334, 535, 454, 435, 421, 501, 503, 504, 538]);
      for (let i = 0; r.code === 334 && i < 2; i++) {
        challenges.push(text(r));
        send(b64(i === 0 ? user : password));
        r = await reader.next(left(), i === 0 ? 'the user name' : 'the password');
      }
      outcome = r;
    } else if (mechs.includes('PLAIN')) {
      mech = 'PLAIN';
      send(`AUTH PLAIN ${b64(`\0${user}\0${password}`)}`);
      outcome = await reader.next(left(), 'AUTH PLAIN');
    } else {
      throw new Error(`the server offers neither LOGIN nor PLAIN (${authLine.slice(4)}): calibrate knows no other mechanism`);
    }
    if (outcome.code === 235) throw new Error(`the made-up user ${user} was let in (235): check that server's authentication now; nothing saved`);
    if (outcome.code === 454 || outcome.code === 435)
      throw new Error(
        `AUTH ${mech}: the server answered a temporary failure instead of a 535 (${outcome.lines[0]!.slice(0, 120)}): a penalty for this address? try again later; nothing saved`,
      );
    if (outcome.code !== 535)
      throw new Error(`AUTH ${mech}: expected a 535 for a made-up user, the server answered ${outcome.lines.join(' | ').slice(0, 200)}`);
    send('QUIT');
    let quit: string | null = null;
    try {
      quit = text(await expect('QUIT', [221]));
    } catch {
      quit = null; // a server that closes without its 221: the rest was learned
    }
    const cipher = tls.getCipher();
    return {
      banner,
      challenges,
      mech,
      failure: text(outcome),
      quit,
      protocol: tls.getProtocol(),
      cipher: cipher?.standardName ?? cipher?.name ?? null,
    };
  } finally {
    clearTimeout(watchdog);
    tls?.destroy();
    plain.destroy();
  }
}

/** The record overhead of the negotiated suite, where it is fixed (AEAD); null otherwise. */
function overheadOf(protocol: string | null, cipher: string | null): RecordOverhead | null {
  if (protocol === 'TLSv1.3' && cipher && /GCM|CHACHA20/.test(cipher)) return TLS13_AEAD;
  if (protocol === 'TLSv1.2' && cipher && /AES_\d+_GCM|AES\d+-GCM/.test(cipher)) return TLS12_GCM;
  return null;
}

function calibrationDoc(server: string, l: Learned): CalibrationFile & { challenges: string[]; mechanism: string } {
  const replies: ReplyTexts = {};
  replies[535] = l.failure;
  if (l.challenges[0] !== undefined) replies[334] = l.challenges[0];
  if (l.quit !== null) replies[221] = l.quit;
  const lengths: Partial<Record<ReplyCode, number>> = {};
  const o = overheadOf(l.protocol, l.cipher);
  const records: Partial<Record<ReplyCode, number>> | null = o ? {} : null;
  for (const [k, t] of Object.entries<string>(replies)) {
    const code = Number(k) as ReplyCode;
    lengths[code] = replyLength(t);
    if (records && o) records[code] = recordLength(o, replyLength(t));
  }
  return {
    smtpstrike_calibration: 1,
    server,
    banner: l.banner,
    replies,
    lengths,
    tls: { protocol: l.protocol, cipher: l.cipher, record_lengths: records },
    challenges: l.challenges,
    mechanism: l.mech,
  };
}

function describe(doc: ReturnType<typeof calibrationDoc>, l: Learned): string {
  let s = `calibrated ${doc.server}: banner "${l.banner}"\n`;
  s += `TLS: ${l.protocol ?? '?'} ${l.cipher ?? '?'}${doc.tls.record_lengths ? '' : ' (record lengths not computed for this suite)'}\n`;
  for (const [k, t] of Object.entries<string>(doc.replies)) {
    const code = Number(k) as ReplyCode;
    const rec = doc.tls.record_lengths?.[code];
    s += `  ${k}  ${String(doc.lengths[code]).padStart(3)} bytes with CRLF${rec !== undefined ? `, TLS record ${rec}` : ''}  ${JSON.stringify(t)}\n`;
  }
  if (l.challenges.length === 2 && replyLength(l.challenges[0]!) !== replyLength(l.challenges[1]!)) {
    s += `  note: the two 334 prompts differ in length (${l.challenges.map((c) => replyLength(c)).join(', ')}); the first one is used\n`;
  }
  if (l.mech === 'PLAIN') s += '  note: the server offers no AUTH LOGIN: no 334 prompt was learned (AUTH PLAIN with an initial response)\n';
  if (l.quit === null) s += '  note: no 221 to QUIT was read\n';
  s += "not learned (need a real login or a penalty): 235, 454 — they come from the built-in profile of the server's banner\n";
  return s;
}
