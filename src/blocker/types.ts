/**
 * Kernel blockers: the interface every backend (nft, ipset, iptables, dry-run) implements, the
 * operations they take, and the errors they raise. Addresses reach a backend only through
 * `normalizeOps` (address.ts): canonical IPv4 / IPv6 text re-formatted from parsed bytes, so no
 * caller-supplied text ever reaches a firewall command.
 *
 * This module imports nothing, so address.ts, the backends and the batcher can all use it
 * without importing each other (no cycle through a module that also re-exports them).
 */

export type BlockerName = 'nft' | 'ipset' | 'iptables' | 'dry-run';

export const BLOCKER_NAMES: readonly BlockerName[] = ['nft', 'ipset', 'iptables', 'dry-run'];

/** One change to the block list. */
export interface BlockOp {
  op: 'add' | 'del';
  /** IPv4 address, IPv6 address, or IPv6 prefix such as `2001:db8::/64`. */
  addr: string;
  /**
   * Seconds the block lasts, counted from the moment the op is applied. Absent or 0: no timeout
   * (permanent until deleted). Ignored for `del`. An `add` of an address already blocked sets its
   * timeout anew (refresh), whether the new one is longer or shorter.
   */
  timeoutSec?: number;
}

/** One active block as the kernel (or the backend) reports it. */
export interface BlockEntry {
  /** Canonical address or IPv6 prefix (`2001:db8::/64`). */
  addr: string;
  /** Whole seconds left; null when the block has no timeout. */
  expiresInSec: number | null;
}

/** pino-compatible: `logger.info({ ...fields }, 'message')`. */
export interface BlockLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const silentLogger: BlockLogger = { info() {}, warn() {}, error() {} };

export interface Blocker {
  readonly name: BlockerName;
  /** Creates table/sets/rules; idempotent: re-running with the same ports changes nothing. */
  init(): Promise<void>;
  /** Applies the ops in order, as one kernel transaction (see each backend for its exact guarantee). */
  apply(ops: BlockOp[]): Promise<void>;
  /** Active blocks. An absent table/set is an empty list, not an error. */
  list(): Promise<BlockEntry[]>;
  /** Removes every block, keeps the table/sets/rules. */
  flush(): Promise<void>;
  /** Removes everything smtpstrike created (table, sets, chains, rules). Idempotent. */
  cleanup(): Promise<void>;
  /** Whether this backend's structure (table / sets / chain) is present. */
  exists(): Promise<boolean>;
  /**
   * Housekeeping the BlockBatcher calls when idle (about once a second): the iptables backend
   * deletes its expired rules here, since iptables has no kernel-side timeouts.
   */
  maintain?(): Promise<void>;
  /**
   * The ports the installed block rule covers, read back from the firewall (the IPv4 rule);
   * null when there is no rule. `smtpstrike blocks list` shows them (--services adds IMAP/POP3 ports).
   */
  rulePorts?(): Promise<number[] | null>;
  /**
   * The tarpit the installed NAT rules send new connections of blocked addresses to, read back from
   * the firewall (`host` absent: `redirect` to the port; present: `dnat`), with the families that
   * have a rule; null when there is none. `smtpstrike blocks list` shows it.
   */
  ruleTarpit?(): Promise<{ host?: string; port: number; families: (4 | 6)[] } | null>;
}

export interface BlockerOptions {
  /**
   * Server ports the block applies to (other ports stay reachable): the SMTP ports, plus IMAP's
   * and POP3's when `--services` names them (watch/services.ts blockPorts).
   */
  ports: number[];
  /** Run every command inside this network namespace (`ip netns exec NS …`). */
  netns?: string;
  logger?: BlockLogger;
  /**
   * Redirect NEW connections of blocked addresses to the blocked ports to this tarpit (a port on
   * the address they came to; with `host`, `dnat` to that address, for its family only) instead of
   * rejecting them; sessions already established are still reset. Absent: rejected, as always.
   * The port may not be one of `ports`. Parse `[HOST:]PORT` with tarpit-target.ts.
   */
  tarpit?: { host?: string; port: number };
}

export type BlockerErrorKind = 'missing-binary' | 'permission' | 'netns' | 'conflict' | 'command' | 'usage';

/** A failure with a message an admin can act on (no stack trace needed). */
export class BlockerError extends Error {
  constructor(
    readonly kind: BlockerErrorKind,
    message: string,
    readonly stderr = '',
  ) {
    super(message);
    this.name = 'BlockerError';
  }
}

/** An address or timeout that may not reach the firewall. */
export class BlockAddressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BlockAddressError';
  }
}

/**
 * Longest timeout accepted, in seconds: ipset's limit ((2^32 - 1) / 2 ms ≈ 24.8 days), applied to
 * every backend so that a block means the same thing whichever one runs.
 */
export const MAX_TIMEOUT_SEC = 2_147_483;
