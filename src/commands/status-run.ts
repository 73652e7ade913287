/** `smtpstrike status`: a running watch's strikes, blocks and health (src/status/status.ts); the command and its options: status.ts. */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { ConfigError, loadConfig } from '../config/config-file.js';
import { parseListenAddress, type ListenAddress } from '../metrics/listen-address.js';
import { configOptionsOf } from '../options/all-options.js';
import { Output } from '../io/output.js';
import { collectStatus, renderStatus, STATUS_EXIT } from '../status/status.js';
import { applyConfigValues } from './options.js';

interface StatusFlags {
  config: string;
  stateFile: string;
  metrics?: string;
  timeout: number;
  limit: number;
  json: boolean;
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
