import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { AddressSet } from '../strikes/address-key.js';

/**
 * The config file (`--config`, default /etc/smtpstrike/config.yaml): everything the command-line
 * options set, in snake_case. Options given on the command line override it. A bad file is
 * rejected with its line and the reason; unknown keys are errors too (a typo must not silently
 * fall back to a default on a firewall tool).
 */

export type ConfigValue = number | string | boolean | string[] | number[];

interface KeySpec {
  /** The commander option name (camelCase) the key sets. */
  option: string;
  kind: 'int' | 'string' | 'bool' | 'strings' | 'cidrs' | 'ports' | 'bytes';
  min?: number;
  max?: number;
  choices?: readonly string[];
}

export const CONFIG_KEYS: Record<string, KeySpec> = {
  ports: { option: 'ports', kind: 'ports' },
  hitcount: { option: 'hitcount', kind: 'int', min: 1, max: 1000 },
  seconds: { option: 'seconds', kind: 'int', min: 1, max: 365 * 86400 },
  conn_hitcount: { option: 'connHitcount', kind: 'int', min: 1, max: 1000 },
  conn_seconds: { option: 'connSeconds', kind: 'int', min: 1, max: 365 * 86400 },
  whitelist: { option: 'whitelist', kind: 'cidrs' },
  ipv6_prefix: { option: 'ipv6Prefix', kind: 'int', min: 1, max: 128 },
  match: { option: 'match', kind: 'strings' },
  tempfail_strikes: { option: 'tempfailStrikes', kind: 'bool' },
  max_flows: { option: 'maxFlows', kind: 'int', min: 16, max: 100_000_000 },
  max_strike_entries: { option: 'maxStrikeEntries', kind: 'int', min: 16, max: 100_000_000 },
  interface: { option: 'interface', kind: 'string' },
  capture_backend: { option: 'captureBackend', kind: 'string', choices: ['tcpdump', 'cap'] },
  buffer_size: { option: 'bufferSize', kind: 'bytes', min: 1024 * 1024, max: 4 * 1024 ** 3 },
  blocker: { option: 'blocker', kind: 'string', choices: ['nft', 'ipset', 'iptables'] },
  block_seconds: { option: 'blockSeconds', kind: 'int', min: 1, max: 365 * 86400 },
  dry_run: { option: 'dryRun', kind: 'bool' },
  kill_established: { option: 'killEstablished', kind: 'bool' },
  state_file: { option: 'stateFile', kind: 'string' },
  log_file: { option: 'logFile', kind: 'string' },
  log_level: { option: 'logLevel', kind: 'string', choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] },
  stats_interval: { option: 'statsInterval', kind: 'int', min: 1, max: 86400 },
};

export class ConfigError extends Error {
  constructor(readonly file: string, readonly line: number, readonly reason: string) {
    super(`${file}:${line}: ${reason}`);
    this.name = 'ConfigError';
  }
}

/** `128MiB`, `64M`, `1G`, `1048576`: a byte count. */
export function parseBytes(v: string | number): number | null {
  if (typeof v === 'number') return Number.isInteger(v) ? v : null;
  const m = /^(\d+)\s*([kmg]i?b?|b)?$/i.exec(v.trim());
  if (!m) return null;
  const unit = (m[2] ?? '').toLowerCase()[0];
  const mult = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  return Number(m[1]) * mult;
}

/** Reads and validates a config file: option name → value. */
export function loadConfig(file: string): Map<string, ConfigValue> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, 0, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseConfig(text, file);
}

export function parseConfig(text: string, file = '<config>'): Map<string, ConfigValue> {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const lineOf = (n: Node | null | undefined): number => (n?.range ? lc.linePos(n.range[0]).line : 1);
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new ConfigError(file, e.linePos?.[0]?.line ?? 1, `YAML: ${e.message.split('\n')[0]}`);
  }
  const out = new Map<string, ConfigValue>();
  if (doc.contents === null) return out; // empty file: all defaults
  if (!isMap(doc.contents)) throw new ConfigError(file, lineOf(doc.contents), 'the file must be a mapping of key: value');
  for (const pair of doc.contents.items) {
    const keyNode = pair.key as Node;
    const key = isScalar(keyNode) ? String(keyNode.value) : '';
    const spec = CONFIG_KEYS[key];
    const line = lineOf(keyNode);
    if (!spec) throw new ConfigError(file, line, `unknown key "${key}" (known: ${Object.keys(CONFIG_KEYS).join(', ')})`);
    const valueNode = pair.value as Node | null;
    out.set(spec.option, convert(valueNode, spec, key, file, lineOf(valueNode) || line));
  }
  return out;
}

function convert(node: Node | null, spec: KeySpec, key: string, file: string, line: number): ConfigValue {
  const fail = (why: string): never => {
    throw new ConfigError(file, line, `${key}: ${why}`);
  };
  const scalar = (): unknown => (node && isScalar(node) ? node.value : fail('expected a single value'));
  switch (spec.kind) {
    case 'int': {
      const v = scalar();
      if (typeof v !== 'number' || !Number.isInteger(v)) return fail(`expected a whole number, got ${JSON.stringify(v)}`);
      if ((spec.min !== undefined && v < spec.min) || (spec.max !== undefined && v > spec.max)) return fail(`must be between ${spec.min} and ${spec.max}`);
      return v;
    }
    case 'bytes': {
      const v = scalar();
      const n = typeof v === 'number' || typeof v === 'string' ? parseBytes(v) : null;
      if (n === null) return fail(`expected a size such as 134217728 or 128MiB, got ${JSON.stringify(v)}`);
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) return fail(`must be between ${spec.min} and ${spec.max} bytes`);
      return n;
    }
    case 'bool': {
      const v = scalar();
      if (typeof v !== 'boolean') return fail(`expected true or false, got ${JSON.stringify(v)}`);
      return v;
    }
    case 'string': {
      const v = scalar();
      if (typeof v !== 'string' || v === '') return fail(`expected text, got ${JSON.stringify(v)}`);
      if (spec.choices && !spec.choices.includes(v)) return fail(`must be one of ${spec.choices.join(', ')}`);
      return v;
    }
    case 'strings':
    case 'cidrs':
    case 'ports': {
      if (!node || !isSeq(node)) return fail('expected a list, e.g. [a, b] or one "- item" per line');
      const items = node.items.map((it) => (isScalar(it) ? it.value : undefined));
      if (spec.kind === 'strings' || spec.kind === 'cidrs') {
        if (items.some((x) => typeof x !== 'string' && typeof x !== 'number')) return fail('every item must be text');
        const strings = items.map(String);
        if (spec.kind === 'cidrs') {
          for (const c of strings) {
            try {
              new AddressSet().add(c);
            } catch (e) {
              return fail((e as Error).message);
            }
          }
        }
        return strings;
      }
      if (items.some((x) => typeof x !== 'number' || !Number.isInteger(x) || x < 1 || x > 65535)) return fail('every item must be a TCP port (1-65535)');
      if (items.length === 0) return fail('no ports given');
      return items as number[];
    }
  }
}
