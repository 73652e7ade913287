/**
 * One connection the tarpit holds: who it is, what it has done (the session event's counts), where
 * its dialogue stands, the replies owed to it and the input line being read (src/tarpit/tarpit-server.ts).
 */
import type { Socket } from 'node:net';
import type { TarpitEnd } from './tarpit-types.js';

/** Where a connection's input goes (the server; an interface, so this file does not import it). */
export interface ConnInput {
  input(c: Conn, chunk: Buffer): void;
}

export type State = 'cmd' | 'plain' | 'login-user' | 'login-pass' | 'tls-wait' | 'done';

/** The client's address as text: an IPv4 client of a dual-stack socket without its `::ffff:`. */
export function clientAddress(a: string | undefined): string {
  if (!a) return '';
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

export class Conn {
  stream: Socket;
  readonly client: string;
  readonly clientPort: number;
  readonly localPort: number;
  readonly started = Date.now();
  lastActive = Date.now();
  bytesIn = 0;
  bytesOut = 0;
  commands = 0;
  authAttempts = 0;
  decoys = 0;
  readonly usernames: string[] = [];
  usernamesDropped = 0;
  starttls = false;
  authed = false;
  state: State = 'cmd';
  /** Replies owed, in order; `off` bytes of the first are sent. */
  readonly queue: Buffer[] = [];
  off = 0;
  credit = 0;
  /** The kernel's send buffer is full (the client does not read): wait for 'drain'. */
  blocked = false;
  /** What to do once the queue is empty. */
  after: 'close' | 'tls' | null = null;
  /** A line being read (allocated on the first partial line, at most maxLine bytes). */
  line: Buffer | null = null;
  lineLen = 0;
  /** Inside an over-long line: its bytes are dropped until its newline. */
  discarding = false;
  endReason: TarpitEnd | null = null;
  ended = false;
  readonly onData = (b: Buffer): void => this.srv.input(this, b);

  constructor(
    readonly raw: Socket,
    private readonly srv: ConnInput,
  ) {
    this.stream = raw;
    this.client = clientAddress(raw.remoteAddress);
    this.clientPort = raw.remotePort ?? 0;
    this.localPort = raw.localPort ?? 0;
  }
}
