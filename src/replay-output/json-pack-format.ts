/**
 * The format of `replay --json`'s packed events (json-pack.ts writes it on the main thread,
 * json-unpack.ts reads it on the formatter thread, json-format-worker.ts; native-notes/
 * replay-output.md, "Fifth round"): the fields `writeEventJson` reads, as doubles in a shared chunk.
 * Texts travel as doubles too: a text that changes from one record to the next (an address, a
 * username) as "the same as this field's last", "the record's client", or its UTF-16 units copied
 * into the chunk; the few texts that repeat interleaved (replies, servers, mechanisms, prefixes)
 * are sent once in the chunk's `strings` and then named by their place in a table both sides keep.
 *
 * `--threads`' event-pack.ts packs into an array that a structured clone then walks value by
 * value, which cost the main thread as much as formatting the lines (the fourth round); this
 * packing is stores into shared memory and carries only what the JSON line shows.
 */

/** Doubles a chunk holds (256 KiB). */
export const CHUNK_DOUBLES = 32 * 1024;
/** UTF-16 units of fresh texts (usernames, reply texts) a chunk holds after its doubles (128 KiB). */
export const CHUNK_UNITS = 64 * 1024;
/** A chunk's size in bytes: the doubles, then the texts' units. */
export const CHUNK_BYTES = CHUNK_DOUBLES * 8 + CHUNK_UNITS * 2;
/** A record takes at most 32 doubles (a reject: 9 + 2 + the 14 of its packet); a chunk is handed on when fewer than this are left. */
export const RECORD_ROOM = 64;
/** The most texts one record names: a new record starts a fresh table when fewer than this are left. */
export const RECORD_TEXTS = 8;

export const AUTH_FAILURE = 0;
export const AUTH_SUCCESS = 1;
export const AUTH_TEMPFAIL = 2;
export const STARTTLS = 3;
export const STRIKE = 4;
export const REJECT = 5;
export const BLOCK = 6;
/** Both tables start over (the sender's grew to its bound). */
export const RESET = 7;
/** A line of text as it is (`JsonLinesWriter.line`). */
export const LINE = 8;

/** A text sent in this chunk's `strings` (the next one; it takes the table's next place). */
export const NEW_TEXT = -1;
export const NULL_TEXT = -2;
/** The same text as this field's last one. */
export const SAME_TEXT = -3;
/** The record's client address (a strike key, the packet's destination). */
export const AS_CLIENT = -4;
/** A fresh text in the chunk's units at -(value - INLINE_TEXT): its length, then its units. */
export const INLINE_TEXT = -5;
/** Fresh texts longer than this go by the table. */
export const INLINE_MAX = 1024;

/**
 * The fields whose texts change from one record to the next (each keeps its last text): a copy of
 * a short text's units costs less than a Map lookup, and the table would fill with every address.
 */
export const USER = 0;
export const CLIENT = 1;
export const KEY = 2;
export const DST = 3;
export const FRESH_FIELDS = 4;

/** The fields named through the table, each with its last text and name (one compare, no hashing, when it repeats). */
export const PREFIX = 0;
export const SOURCE = 1;
export const RULE = 2;
export const MECH = 3;
export const IFACE = 4;
export const LINE_TEXT = 5;
export const REPLY = 6;
export const SERVER = 7;
export const SRC = 8;
export const SLOTS = 9;

export const INFERRED = 1;
export const KNOWN = 2;
export const MATCHED = 4;
