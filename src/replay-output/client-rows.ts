/**
 * A replay tally's clients as plain data, to cross to another thread: `replay --threads`' shards
 * send theirs back once (replay-threads/shard-tally.ts).
 */

/** Per client in `ClientRows.counts`: failures, successes, tempfails, inferred failures, successes, tempfails. */
export const COUNTS = 6;

/** A table's clients as plain data, in first-seen order (ClientTable.rows). */
export interface ClientRows {
  ips: string[];
  /** COUNTS numbers per client. */
  counts: Uint32Array;
  /** Distinct usernames per client, first seen first (at most usersPerClient). */
  users: string[][];
}

/** Clients past the cap: not kept, but counted, so the summary can say what it left out. */
export interface DroppedClients {
  /** Distinct clients not kept (exact while `exact`; the set that tells them apart is capped too). */
  clients: number;
  exact: boolean;
  failures: number;
  successes: number;
  tempfails: number;
  /** Inferred outcomes (inside TLS) of dropped clients, all kinds. */
  inferred: number;
}
