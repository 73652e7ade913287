/**
 * What tcpdump appends to the header line of a TCP segment of the text protocols it knows by port
 * (SMTP 25 — its only SMTP port —, FTP 21, WHOIS 43, HTTP 80/8080, RTSP 554/8554): `: NAME`, then
 * `: FIRST LINE` when the payload starts with a line of printable ASCII (tab allowed) ended by LF
 * or CRLF, or `: TEXT [|name]` when all the payload is such text with no line end; nothing more
 * when binary comes first. HTTP and RTSP print the line only when it starts with a method of
 * theirs or has a three-digit status code as its second word. When the scan runs past the
 * captured bytes the rest is ` [|name]`. Written from tcpdump 4.99's observable output and checked
 * against it (test/dump-format.test.ts).
 */

interface TextProto {
  name: string;
  /** Request methods; null: every payload is printed. */
  cmds: Set<string> | null;
}

const HTTP: TextProto = {
  name: 'HTTP',
  cmds: new Set([
    'GET',
    'PUT',
    'COPY',
    'HEAD',
    'LOCK',
    'MOVE',
    'POLL',
    'POST',
    'BCOPY',
    'BMOVE',
    'MKCOL',
    'TRACE',
    'LABEL',
    'MERGE',
    'DELETE',
    'SEARCH',
    'UNLOCK',
    'REPORT',
    'UPDATE',
    'NOTIFY',
    'BDELETE',
    'CONNECT',
    'OPTIONS',
    'CHECKIN',
    'PROPFIND',
    'CHECKOUT',
    'CCM_POST',
    'SUBSCRIBE',
    'PROPPATCH',
    'BPROPFIND',
    'BPROPPATCH',
    'UNCHECKOUT',
    'MKACTIVITY',
    'MKWORKSPACE',
    'UNSUBSCRIBE',
    'RPC_CONNECT',
    'VERSION-CONTROL',
    'BASELINE-CONTROL',
  ]),
};
const RTSP: TextProto = {
  name: 'RTSP',
  cmds: new Set(['DESCRIBE', 'ANNOUNCE', 'GET_PARAMETER', 'OPTIONS', 'PAUSE', 'PLAY', 'RECORD', 'REDIRECT', 'SETUP', 'SET_PARAMETER', 'TEARDOWN']),
};
const SMTP: TextProto = { name: 'SMTP', cmds: null };
const FTP: TextProto = { name: 'FTP', cmds: null };
const WHOIS: TextProto = { name: 'WHOIS', cmds: null };

/** The text protocol tcpdump would decode for these ports, in its order of checks; null: none. */
export function textProtoFor(sport: number, dport: number): TextProto | null {
  const is = (p: number): boolean => sport === p || dport === p;
  if (is(23)) return null; // telnet comes first and prints nothing here
  if (is(25)) return SMTP;
  if (is(43)) return WHOIS;
  if (is(179) || is(1723) || is(10288) || is(6653) || is(6633)) return null;
  if (is(21)) return FTP;
  if (is(80) || is(8080)) return HTTP;
  if (is(554) || is(8554)) return RTSP;
  return null;
}

const isPrint = (c: number): boolean => c >= 0x20 && c <= 0x7e;

/** tcpdump's token reader: the word at `idx` and the index past the blanks after it (0: none). */
function fetchToken(buf: Uint8Array, off: number, idx: number, avail: number, len: number): { idx: number; token: string } {
  let token = '';
  for (; idx < len; idx++) {
    if (idx >= avail) return { idx: 0, token: '' };
    const c = buf[off + idx]!;
    if (!isPrint(c)) return { idx: 0, token: '' };
    if (c === 0x20) break;
    if (token.length < 127) token += String.fromCharCode(c);
  }
  if (idx === len) return { idx: 0, token: '' };
  for (; idx < len; idx++) {
    if (idx >= avail) return { idx: 0, token: '' };
    const c = buf[off + idx]!;
    if (c === 0x0d || c === 0x0a) break;
    if (!isPrint(c)) return { idx: 0, token: '' };
    if (c !== 0x20) break;
  }
  return { idx, token };
}

/**
 * The header-line suffix for a payload of `len` bytes on the wire, `avail` of them captured.
 * `cut` is set when tcpdump's printer would have stopped at the capture's end (its -A/-X then
 * dump the whole frame).
 */
export function tcpdumpText(p: TextProto, buf: Uint8Array, off: number, avail: number, len: number): { text: string; cut: boolean } {
  let printThis = p.cmds === null;
  if (p.cmds) {
    let t = fetchToken(buf, off, 0, avail, len);
    if (t.idx !== 0) {
      if (p.cmds.has(t.token.toUpperCase())) printThis = true;
      t = fetchToken(buf, off, t.idx, avail, len);
      if (t.idx !== 0 && /^[0-9]{3}$/.test(t.token)) printThis = true;
    }
  }
  const head = ': ' + p.name;
  if (!printThis) return { text: head, cut: false };
  const trunc = ` [|${p.name.toLowerCase()}]`;
  for (let i = 0; i < len; i++) {
    if (i >= avail) return { text: head + trunc, cut: true };
    const c = buf[off + i]!;
    if (c === 0x0a) return { text: `${head}: ${latin1(buf, off, i)}`, cut: false };
    if (c === 0x0d) {
      if (i + 1 >= len) return { text: head, cut: false };
      if (i + 1 >= avail) return { text: head + trunc, cut: true };
      if (buf[off + i + 1] === 0x0a) return { text: `${head}: ${latin1(buf, off, i)}`, cut: false };
      return { text: head, cut: false };
    }
    if (!isPrint(c) && c !== 0x09) return { text: head, cut: false };
  }
  return { text: `${head}: ${latin1(buf, off, len)}${trunc}`, cut: false };
}

function latin1(buf: Uint8Array, off: number, n: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + off, n).toString('latin1');
}
