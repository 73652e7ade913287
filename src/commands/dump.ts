import { Command, InvalidArgumentError } from 'commander';
import { runDump, EXIT_USAGE } from '../dump/dump-run.js';
import { addPipelineOptions, intArg, pipelineOptionsFrom, type PipelineFlags } from './options.js';

interface DumpFlags extends PipelineFlags {
  read: string[];
  interface?: string;
  count?: number;
  n?: boolean;
  ascii: boolean;
  hex: boolean;
  absolute: boolean;
  write?: string;
  lineBuffered: boolean;
  smtp: boolean;
  snaplen: number;
  captureBackend: 'tcpdump' | 'cap';
  bufferSize: number;
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

function backend(v: string): 'tcpdump' | 'cap' {
  if (v !== 'tcpdump' && v !== 'cap') throw new InvalidArgumentError('must be tcpdump or cap');
  return v;
}

export function dumpCommand(): Command {
  const cmd = new Command('dump')
    .description('tcpdump-style packet lines, with the reassembled SMTP commands and replies (AUTH usernames decoded, passwords hidden) and the strikes they cause')
    .usage('[options] (-r FILE... | -i IFACE) [expression]')
    .argument('[expression...]', 'BPF filter, as tcpdump takes it (offline: applied through tcpdump)')
    .option('-r, --read <file>', 'read packets from a pcap/pcapng file, .gz too, "-" for stdin (repeatable: merged in time order)', collect, [])
    .option('-i, --interface <name>', 'capture live on this interface ("any" for all)')
    .option('-c, --count <n>', 'stop after this many packets', intArg(1, Number.MAX_SAFE_INTEGER))
    .option('-n', 'do not resolve names (never done; accepted for tcpdump habits, -nn too)')
    .option('-A', 'print each packet (minus its link-level header) in ASCII, as tcpdump -A')
    .option('-X', 'print each packet (minus its link-level header) in hex and ASCII, as tcpdump -X (wins over -A)')
    .option('-S', 'print absolute TCP sequence numbers')
    .option('-w <file>', 'also write the packets shown to this pcap file')
    .option('-l', 'write each packet\'s text at once (always so when live)')
    .option('-s, --snapshot-length <bytes>', 'live: snapshot length', intArg(64, 262144), 262144)
    .option('--capture-backend <name>', 'live: tcpdump (default) or cap', backend, 'tcpdump')
    .option('-B, --buffer-size <KiB>', 'live: kernel capture buffer in KiB (default: libpcap\'s, 2 MiB)', intArg(64, 2 * 1024 * 1024))
    .option('--no-smtp', 'plain tcpdump lines: no SMTP lines or strike marks')
    .option('--redact', 'no payload text in the packet lines (tcpdump shows the first line of port-25 payloads, base64 passwords included); not with -A/-X');
  addPipelineOptions(cmd);
  cmd.action(async (expression: string[], raw: Record<string, unknown>) => {
    const f: DumpFlags = {
      ...(raw as unknown as PipelineFlags),
      read: raw.read as string[],
      interface: raw.interface as string | undefined,
      count: raw.count as number | undefined,
      ascii: raw.A === true,
      hex: raw.X === true,
      absolute: raw.S === true,
      write: raw.w as string | undefined,
      lineBuffered: raw.l === true,
      smtp: raw.smtp !== false,
      snaplen: raw.snapshotLength as number,
      captureBackend: raw.captureBackend as 'tcpdump' | 'cap',
      bufferSize: ((raw.bufferSize as number | undefined) ?? 0) * 1024,
    };
    if (f.read.length === 0 && f.interface === undefined) {
      process.stderr.write('smtpstrike: dump needs -r FILE (a capture file) or -i IFACE (a live interface)\n');
      process.exitCode = EXIT_USAGE;
      return;
    }
    if (raw.redact === true && (f.ascii || f.hex)) {
      process.stderr.write('smtpstrike: --redact hides payload bytes; -A and -X print them: give one or the other\n');
      process.exitCode = EXIT_USAGE;
      return;
    }
    if (f.read.length > 0 && f.interface !== undefined) {
      process.stderr.write('smtpstrike: dump reads either files (-r) or an interface (-i), not both\n');
      process.exitCode = EXIT_USAGE;
      return;
    }
    process.exitCode = await runDump({
      files: f.read,
      iface: f.interface ?? null,
      count: f.count ?? 0,
      filter: expression.join(' ').trim(),
      ascii: f.ascii,
      hex: f.hex,
      absoluteSeq: f.absolute,
      writeFile: f.write ?? null,
      lineBuffered: f.lineBuffered,
      smtp: f.smtp,
      redact: raw.redact === true,
      snaplen: f.snaplen,
      captureBackend: f.captureBackend,
      bufferSize: f.bufferSize,
      pipeline: pipelineOptionsFrom(f),
    });
  });
  return cmd;
}
