/** `smtpstrike dump`: tcpdump's options (short, as tcpdump spells them) and the pipeline ones. */
import { PIPELINE_OPTIONS } from './pipeline.js';
import { optionList, type OptionSpec } from './registry.js';
import { CAPTURE_BACKENDS } from './watch.js';

export const DUMP_OPTIONS = optionList('dump', [
  {
    option: 'read',
    flags: '-r, --read <file>',
    kind: 'strings',
    default: [],
    help: 'read packets from a pcap/pcapng file, .gz too, "-" for stdin (repeatable: merged in time order)',
  },
  { option: 'interface', flags: '-i, --interface <name>', kind: 'string', help: 'capture live on this interface ("any" for all)' },
  { option: 'count', flags: '-c, --count <n>', kind: 'int', min: 1, max: Number.MAX_SAFE_INTEGER, help: 'stop after this many packets' },
  { option: 'n', flags: '-n', kind: 'bool', help: 'do not resolve names (never done; accepted for tcpdump habits, -nn too)' },
  { option: 'A', flags: '-A', kind: 'bool', help: 'print each packet (minus its link-level header) in ASCII, as tcpdump -A' },
  { option: 'X', flags: '-X', kind: 'bool', help: 'print each packet (minus its link-level header) in hex and ASCII, as tcpdump -X (wins over -A)' },
  { option: 'S', flags: '-S', kind: 'bool', help: 'print absolute TCP sequence numbers' },
  { option: 'w', flags: '-w <file>', kind: 'string', help: 'also write the packets shown to this pcap file' },
  { option: 'l', flags: '-l', kind: 'bool', help: "write each packet's text at once (always so when live)" },
  { option: 'snapshotLength', flags: '-s, --snapshot-length <bytes>', kind: 'int', min: 64, max: 262144, default: 262144, help: 'live: snapshot length' },
  {
    option: 'captureBackend',
    flags: '--capture-backend <name>',
    kind: 'string',
    choices: CAPTURE_BACKENDS,
    default: 'tcpdump',
    help: 'live: tcpdump (default) or cap',
  },
  {
    // In KiB; at most 2^31 - 1 bytes, what libpcap takes (watch's buffer_size): 2097152 KiB, the
    // old maximum, is 2^31 bytes, which the live source then refused with a stack trace.
    option: 'bufferSize',
    flags: '-B, --buffer-size <KiB>',
    kind: 'int',
    min: 64,
    max: Math.floor((2 ** 31 - 1) / 1024),
    help: "live: kernel capture buffer in KiB (default: libpcap's, 2 MiB)",
  },
  { option: 'smtp', flags: '--no-smtp', kind: 'bool', help: 'plain tcpdump lines: no SMTP lines or strike marks' },
  {
    option: 'redact',
    flags: '--redact',
    kind: 'bool',
    help: 'no payload text in the packet lines (tcpdump shows the first line of port-25 payloads, base64 passwords included); not with -A/-X',
  },
  ...PIPELINE_OPTIONS,
] satisfies OptionSpec[]);
