/** `smtpstrike dump` (the command and its options: dump.ts). */
import { runDump, EXIT_USAGE } from '../dump/dump-run.js';
import type { PipelineFlags } from './options.js';
import { pipelineOptionsFrom } from './pipeline-flags.js';

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

/** The action of `dump`: commander's arguments and option values, checked and run. */
export async function dumpAction(expression: string[], raw: Record<string, unknown>): Promise<void> {
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
}
