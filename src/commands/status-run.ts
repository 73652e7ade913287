/** `smtpstrike status`: a running watch's strikes, blocks and health (src/status/status.ts). */
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { ConfigError, loadConfig } from '../config/config-file.js';
import { parseListenAddress, type ListenAddress } from '../metrics/listen-address.js';
import { configOptionsOf } from '../options/all-options.js';
import { STATUS_OPTIONS } from '../options/status.js';
import { Output } from '../io/output.js';
import { collectStatus, renderStatus, STATUS_EXIT } from '../status/status.js';
import { addOptions, applyConfigValues } from './options.js';

interface StatusFlags {
  config: string;
  stateFile: string;
  metrics?: string;
  timeout: number;
  limit: number;
  json: boolean;
}

export function statusCommand(): Command {
  const cmd = new Command('status').description("a running watch's strikes, blocks and health (its state file and its --metrics endpoint)");
  addOptions(cmd, STATUS_OPTIONS);
  cmd.action(async (_: unknown, command: Command) => {
    process.exitCode = await runStatus(command);
  });
  return cmd;
}

export async function runStatus(cmd: Command): Promise<number> {
  let f: StatusFlags;
  let metrics: ListenAddress | null = null;
  try {
    const opts = cmd.opts<StatusFlags>();
    if (cmd.getOptionValueSource('config') === 'cli' || existsSync(opts.config)) {
      applyConfigValues(cmd, loadConfig(opts.config), { only: new Set(configOptionsOf('status', 'top').values()) });
    }
    f = cmd.opts<StatusFlags>();
    if (f.metrics !== undefined) metrics = parseListenAddress(f.metrics);
  } catch (e) {
    process.stderr.write(`smtpstrike status: ${e instanceof ConfigError ? 'bad config: ' : 'metrics: '}${(e as Error).message}\n`);
    return STATUS_EXIT.failed;
  }
  const doc = await collectStatus({ stateFile: f.stateFile, metrics, timeoutMs: f.timeout * 1000 });
  const out = Output.of(process.stdout);
  out.write(f.json ? JSON.stringify(doc) + '\n' : renderStatus(doc, f.limit));
  await out.end();
  if (doc.state_error) process.stderr.write(`smtpstrike status: state file ${f.stateFile} unreadable: ${doc.state_error}\n`);
  if (metrics && !doc.health.reachable) return STATUS_EXIT.notRunning;
  return doc.state_error ? STATUS_EXIT.failed : STATUS_EXIT.ok;
}
