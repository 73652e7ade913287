/**
 * A stand-in for `tcpdump -U -w -` that trickles a classic-pcap file to stdout one record per
 * write, pausing a few milliseconds every few records — the way tcpdump feeds a live pipe. Prints
 * tcpdump's "listening on" line on stderr first. Used by test/live-capture.test.ts to prove that
 * coalesced reads deliver every packet, in order, whatever the pauses.
 *   node dist/test/support/trickle-tcpdump.js FILE.pcap [tcpdump's arguments, ignored]
 */
import { readFileSync, writeSync } from 'node:fs';

/** Writes `file` to stdout one record at a time (see above), then stays up until signalled. */
function trickle(file: string): void {
  const data = readFileSync(file);
  if (data.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error(`${file}: not a little-endian microsecond pcap`);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  process.stderr.write('tcpdump: listening on fake0, link-type EN10MB (Ethernet), snapshot length 1960 bytes\n');
  writeSync(1, data, 0, 24);
  let at = 24;
  for (let n = 0; at < data.length; n++) {
    const len = 16 + data.readUInt32LE(at + 8);
    writeSync(1, data, at, len);
    at += len;
    // A pause of 0–3 ms after every 5th record: small reads, waits and bursts all happen.
    if (n % 5 === 4) Atomics.wait(pause, 0, 0, n % 4);
  }
  // Stay up like tcpdump until stopped (SIGINT/SIGTERM end the process by default).
  setInterval(() => undefined, 1000);
}

// Imported without arguments (the test runner loads every file under dist/test): nothing to do.
const file = process.argv[2];
if (file !== undefined) trickle(file);
