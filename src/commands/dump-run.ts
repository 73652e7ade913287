import { Command } from 'commander';
import { runDump, EXIT_USAGE } from '../dump/dump-run.js';
import { DUMP_OPTIONS } from '../options/dump.js';
import { addOptions, pipelineOptionsFrom, type PipelineFlags } from './options.js';

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

export function dumpCommand(): Command {
  const cmd = new Command('dump')
    .description(
      'tcpdump-style packet lines, with the reassembled SMTP commands and replies (AUTH usernames decoded, passwords hidden) and the strikes they cause',
    )
    .usage('[options] (-r FILE... | -i IFACE) [expression]')
    .argument('[expression...]', 'BPF filter, as tcpdump takes it (offline: applied through tcpdump)');
  addOptions(cmd, DUMP_OPTIONS); // its own, then the pipeline's
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
