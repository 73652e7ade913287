/** Events that flow one way down the pipeline: smtp → strikes → report/blocker. */

/** Header fields of the packet behind an event, enough to write an iptables LOG line. */
export interface WireSnapshot {
  ipVersion: 4 | 6;
  src: string;
  dst: string;
  ipLen: number;
  tos: number;
  ttl: number;
  ipId: number;
  df: boolean;
  flowLabel: number;
  sport: number;
  dport: number;
  window: number;
  tcpFlags: number;
  /** Capture interface name when the capture recorded one. */
  iface: string;
}

/** A placeholder packet for an event rebuilt without its own (packed events: event-pack.ts, json-pack.ts). */
export const NO_WIRE: Readonly<WireSnapshot> = Object.freeze({
  ipVersion: 4,
  src: '',
  dst: '',
  ipLen: 0,
  tos: 0,
  ttl: 0,
  ipId: 0,
  df: false,
  flowLabel: 0,
  sport: 0,
  dport: 0,
  window: 0,
  tcpFlags: 0,
  iface: '',
});

interface FlowRef {
  /** Packet time, seconds since the epoch. */
  ts: number;
  flow: number;
  client: string;
  clientPort: number;
  server: string;
  serverPort: number;
}

export type AuthOutcome = 'auth_failure' | 'auth_success' | 'auth_tempfail';

/**
 * How an outcome seen only as an encrypted TLS record was inferred (src/tls): `basis` holds the
 * BASIS_* bits of src/tls/auth-exchange.ts (record size, reply delay). `known`: the 535 size of the
 * server was known (an explicit or learned reply text, or a built-in profile its banner matched),
 * which an inferred failure needs to strike.
 */
export interface InferredBasis {
  basis: number;
  /** Length of the TLS record that carried the reply (a coalesced record carries several). */
  recordLen: number;
  /** Seconds from the client's last record to this reply. */
  delay: number;
  known: boolean;
}

export interface AuthEvent extends FlowRef {
  type: AuthOutcome;
  code: number;
  /** SASL mechanism of the AUTH command this reply answers, null when the AUTH was not seen. */
  mech: string | null;
  /** Username sent in cleartext (PLAIN/LOGIN), null when unknown. Never a password. */
  user: string | null;
  /** The reply's last line (trimmed to 200 bytes). */
  text: string;
  /** Whether a user --match pattern (rather than the code) made this a failure. */
  matched: boolean;
  /** Null when the reply was read in the clear; set when it was inferred inside TLS. */
  inferred: InferredBasis | null;
  wire: WireSnapshot;
}

export interface StartTlsEvent extends FlowRef {
  type: 'starttls';
  /** TLS from the first byte (port 465 style) rather than STARTTLS. */
  implicit: boolean;
}

export interface ConnectEvent extends FlowRef {
  type: 'connect';
  wire: WireSnapshot;
}

export interface FlowEndEvent extends FlowRef {
  type: 'flow_end';
  reason: string;
}

export type SmtpEvent = AuthEvent | StartTlsEvent | ConnectEvent | FlowEndEvent;

/**
 * Which sensor an attempt (and so a strike) came from: a reply read on the wire, an outcome inferred
 * inside TLS, or the server's log (src/strikes/sensor-merge.ts).
 */
export type StrikeSource = 'wire' | 'inferred' | 'log';

export interface StrikeEvent {
  type: 'strike';
  ts: number;
  client: string;
  /** The address the strike counts against (an IPv6 client's prefix when aggregating). */
  key: string;
  /** Hits inside the window, capped at the hit count (the seed's `Strike N`). */
  n: number;
  hitcount: number;
  /** The rule's log prefix; the full iptables LOG line is `strikeLogLine(ev)` (made only when printed). */
  prefix: string;
  /** The failure was inferred inside TLS (the prefix says so too). */
  inferred: boolean;
  /** The sensor that counted it (an attempt both saw strikes once, from the first that saw it). */
  source: StrikeSource;
  /** The 535 reply packet (server → client); for a `log` strike, no packet: see logSnapshot(). */
  wire: WireSnapshot;
}

export interface RejectEvent {
  type: 'reject';
  ts: number;
  client: string;
  key: string;
  /** auth: SMTP_AUTH_ERROR list ≥ hitcount; conn: too many new connections. */
  rule: 'auth' | 'conn';
  prefix: string;
  /** The refused SYN (client → server). */
  wire: WireSnapshot;
  /**
   * The block standing when the SYN came (after this SYN's refresh): its escalation level and last
   * instant; null when none stood yet (the `block` event that follows starts one).
   */
  block: { level: number; until: number } | null;
}

export interface BlockEvent {
  type: 'block';
  ts: number;
  client: string;
  key: string;
  rule: 'auth' | 'conn';
  /** From when to when the address is blocked (seconds; `until` as known when the block began). */
  from: number;
  until: number;
  /** Repeat offenders: earlier blocks of the key within the lookback (0: a first block; strikes/escalation.ts). */
  level: number;
}

export type StrikeOutput = StrikeEvent | RejectEvent | BlockEvent;
export type PipelineEvent = SmtpEvent | StrikeOutput;

export interface EventSink {
  event(ev: PipelineEvent): void;
}
