import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import type { Node } from 'yaml';
import { AddressSet } from '../strikes/address-key.js';
import { parseZone } from '../accounts/clock.js';
import { ACCOUNTS_KEYS, CONFIG_KEYS } from '../options/all-options.js';
import { parseBytes, rangeProblem, type KeySpec } from '../options/registry.js';
import { emptyWhitelist, type WhitelistConfig } from '../accounts/whitelist.js';
import { checkReplyText, REPLY_CODES } from '../tls/reply-profiles.js';
import { parseServices } from '../watch/services.js';
import { parseCrowdsecConfig, type CrowdsecConfig } from '../fleet/crowdsec-config.js';

/** yaml is loaded when a config file is read, not when a command that may read one starts (native-notes/start.md). */
let yamlModule: typeof Yaml | null = null;
const yaml = (): typeof Yaml => (yamlModule ??= createRequire(import.meta.url)('yaml') as typeof Yaml);
const isMap = ((n: unknown) => yaml().isMap(n)) as typeof Yaml.isMap;
const isScalar = ((n: unknown) => yaml().isScalar(n)) as typeof Yaml.isScalar;
const isSeq = ((n: unknown) => yaml().isSeq(n)) as typeof Yaml.isSeq;

/**
 * The config file (`--config`, default /etc/smtpstrike/config.yaml): everything the command-line
 * options set, in snake_case. Options given on the command line override it. A bad file is
 * rejected with its line and the reason; unknown keys are errors too (a typo must not silently
 * fall back to a default on a firewall tool).
 */

export type ConfigValue = number | string | boolean | string[] | number[] | CrowdsecConfig;

// The keys and their checks are made from the option registry (src/options/): one range per option.
export { ACCOUNTS_KEYS, CONFIG_KEYS } from '../options/all-options.js';
export { parseBytes, rangeProblem, type KeySpec } from '../options/registry.js';

/*
 * `accounts:` — the settings of `smtpstrike accounts` (a mapping of its own, so the flat keys
 * keep meaning what they mean for replay/watch):
 *
 *   accounts:
 *     mode: all            # exim, postfix, dovecot, ssh, apache, openwebmail or all
 *     limit: 2             # see docs/accounts.md
 *     geoip: 2             # 0 none, 1 country, 2 country, city - ISP
 *     geoip_db: [/usr/share/GeoIP/GeoLite2-City.mmdb, /usr/share/GeoIP/GeoLite2-ASN.mmdb]
 *     logs: [/var/log/mail.log]   # read when no file is named on the command line
 *     tz: local            # zone of timestamps that carry none
 *     whitelist:
 *       ips: [192.0.2.0/24, 2001:db8::/32]
 *       users: [backup]
 *       countries: [CZ, SK]
 *       asns: [AS5610, 16019]
 *       isps: ["T-Mobile Czech"]
 */

const WHITELIST_KEYS = ['ips', 'users', 'countries', 'asns', 'isps'] as const;

export interface AccountsConfig {
  /** Option name (as `smtpstrike accounts` spells it) → value. */
  options: Map<string, ConfigValue>;
  whitelist: WhitelistConfig;
}

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}: ${reason}`);
    this.name = 'ConfigError';
  }
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
  return parseConfigFile(text, file).options;
}

/** Reads and validates the config file's `accounts:` section (the whole file is validated). */
export function loadAccountsConfig(file: string): AccountsConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, 0, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseConfigFile(text, file).accounts;
}

export function parseAccountsConfig(text: string, file = '<config>'): AccountsConfig {
  return parseConfigFile(text, file).accounts;
}

/** The flat options and the `accounts:` section. */
export function parseConfigFile(text: string, file = '<config>'): { options: Map<string, ConfigValue>; accounts: AccountsConfig } {
  const lc = new (yaml().LineCounter)();
  const doc = yaml().parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const lineOf = (n: Node | null | undefined): number => (n?.range ? lc.linePos(n.range[0]).line : 1);
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new ConfigError(file, e.linePos?.[0]?.line ?? 1, `YAML: ${e.message.split('\n')[0]}`);
  }
  const out = new Map<string, ConfigValue>();
  const accounts: AccountsConfig = { options: new Map(), whitelist: emptyWhitelist() };
  if (doc.contents === null) return { options: out, accounts }; // empty file: all defaults
  if (!isMap(doc.contents)) throw new ConfigError(file, lineOf(doc.contents), 'the file must be a mapping of key: value');
  for (const pair of doc.contents.items) {
    const keyNode = pair.key as Node;
    const key = isScalar(keyNode) ? String(keyNode.value) : '';
    const line = lineOf(keyNode);
    const valueNode = pair.value as Node | null;
    if (key === 'accounts') {
      parseAccounts(valueNode, accounts, file, lineOf(valueNode) || line, lineOf);
      continue;
    }
    const spec = CONFIG_KEYS[key];
    if (!spec) throw new ConfigError(file, line, `unknown key "${key}" (known: ${Object.keys(CONFIG_KEYS).join(', ')}, accounts)`);
    out.set(spec.option, convert(valueNode, spec, key, file, lineOf(valueNode) || line, lineOf));
  }
  return { options: out, accounts };
}

function parseAccounts(node: Node | null, acc: AccountsConfig, file: string, line: number, lineOf: (n: Node | null | undefined) => number): void {
  if (node === null || (isScalar(node) && node.value === null)) return;
  if (!isMap(node)) throw new ConfigError(file, line, 'accounts: expected a mapping (mode:, limit:, whitelist: ...)');
  for (const pair of node.items) {
    const keyNode = pair.key as Node;
    const key = isScalar(keyNode) ? String(keyNode.value) : '';
    const kline = lineOf(keyNode);
    const valueNode = pair.value as Node | null;
    const vline = lineOf(valueNode) || kline;
    if (key === 'whitelist') {
      parseWhitelist(valueNode, acc.whitelist, file, vline, lineOf);
      continue;
    }
    const spec = ACCOUNTS_KEYS[key];
    if (!spec) throw new ConfigError(file, kline, `unknown key "accounts.${key}" (known: ${[...Object.keys(ACCOUNTS_KEYS), 'whitelist'].join(', ')})`);
    acc.options.set(spec.option, convert(valueNode, spec, `accounts.${key}`, file, vline));
  }
}

function parseWhitelist(node: Node | null, wl: WhitelistConfig, file: string, line: number, lineOf: (n: Node | null | undefined) => number): void {
  if (node === null || (isScalar(node) && node.value === null)) return;
  if (!isMap(node)) throw new ConfigError(file, line, `accounts.whitelist: expected a mapping of ${WHITELIST_KEYS.join(', ')}`);
  for (const pair of node.items) {
    const keyNode = pair.key as Node;
    const key = isScalar(keyNode) ? String(keyNode.value) : '';
    const kline = lineOf(keyNode);
    const valueNode = pair.value as Node | null;
    const name = `accounts.whitelist.${key}`;
    if (!(WHITELIST_KEYS as readonly string[]).includes(key)) throw new ConfigError(file, kline, `unknown key "${name}" (known: ${WHITELIST_KEYS.join(', ')})`);
    if (valueNode === null || (isScalar(valueNode) && valueNode.value === null)) continue;
    if (!isSeq(valueNode)) throw new ConfigError(file, lineOf(valueNode) || kline, `${name}: expected a list, e.g. [a, b] or one "- item" per line`);
    for (const it of valueNode.items) {
      const itLine = lineOf(it as Node) || kline;
      const fail = (why: string): never => {
        throw new ConfigError(file, itLine, `${name}: ${why}`);
      };
      const v = isScalar(it) ? it.value : undefined;
      if (typeof v !== 'string' && typeof v !== 'number') return fail('every item must be text or a number');
      const text = String(v).trim();
      switch (key) {
        case 'ips':
          try {
            new AddressSet().add(text);
          } catch (e) {
            fail((e as Error).message);
          }
          wl.ips.push(text);
          break;
        case 'users':
          if (text === '') fail('empty user name');
          wl.users.push(String(v));
          break;
        case 'countries':
          if (!/^[A-Za-z]{2}$/.test(text)) fail(`"${text}" is not a two-letter ISO 3166-1 country code`);
          wl.countries.push(text.toUpperCase());
          break;
        case 'asns': {
          const m = /^(?:AS)?(\d{1,10})$/i.exec(text);
          if (!m || Number(m[1]) > 4294967295) fail(`"${text}" is not an AS number (e.g. AS5610 or 5610)`);
          wl.asns.push(Number(m![1]));
          break;
        }
        default:
          if (text === '') fail('empty ISP name');
          wl.isps.push(text);
      }
    }
  }
}

function convert(node: Node | null, spec: KeySpec, key: string, file: string, line: number, lineOf?: (n: Node | null | undefined) => number): ConfigValue {
  const fail = (why: string): never => {
    throw new ConfigError(file, line, `${key}: ${why}`);
  };
  const scalar = (): unknown => (node && isScalar(node) ? node.value : fail('expected a single value'));
  switch (spec.kind) {
    case 'int': {
      const v = scalar();
      if (typeof v !== 'number' || !Number.isInteger(v)) return fail(`expected a whole number, got ${JSON.stringify(v)}`);
      const bad = rangeProblem(spec, v);
      return bad ? fail(bad) : v;
    }
    case 'decimal': {
      const v = scalar();
      if (typeof v !== 'number' || v < 0) return fail(`expected seconds, got ${JSON.stringify(v)}`);
      const bad = rangeProblem(spec, v);
      return bad ? fail(bad) : v;
    }
    case 'zone': {
      // Checked here, with its line, as --tz checks it (it used to be checked later, at line 0).
      const v = scalar();
      if (typeof v !== 'string' || v === '') return fail(`expected a zone such as local, UTC or +01:00, got ${JSON.stringify(v)}`);
      try {
        parseZone(v);
      } catch (e) {
        return fail((e as Error).message);
      }
      return v;
    }
    case 'bytes': {
      const v = scalar();
      const n = typeof v === 'number' || typeof v === 'string' ? parseBytes(v) : null;
      if (n === null) return fail(`expected a size such as 134217728 or 128MiB, got ${JSON.stringify(v)}`);
      const bad = rangeProblem(spec, n);
      return bad ? fail(bad) : n;
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
      if (spec.valid) {
        try {
          spec.valid(v);
        } catch (e) {
          return fail((e as Error).message);
        }
      }
      return v;
    }
    case 'replies': {
      if (!node || !isMap(node))
        return fail(`expected a mapping of reply code to text, e.g. 535: "535 Incorrect authentication data" (codes: ${REPLY_CODES.join(', ')})`);
      const out: string[] = [];
      for (const pair of node.items) {
        const k = pair.key as Node;
        const v = pair.value as Node | null;
        const at = (n: Node | null | undefined): number => lineOf?.(n) || line;
        const code = isScalar(k) ? String(k.value) : '';
        if (!/^\d{3}$/.test(code) || !(REPLY_CODES as readonly number[]).includes(Number(code))) {
          throw new ConfigError(file, at(k), `${key}: "${code}" is not a reply code the model uses (${REPLY_CODES.join(', ')})`);
        }
        const text = v && isScalar(v) ? v.value : undefined;
        if (typeof text !== 'string') throw new ConfigError(file, at(v) || at(k), `${key}.${code}: expected the reply text, e.g. "${code} ..."`);
        try {
          out.push(`${code}=${checkReplyText(Number(code), text)}`);
        } catch (e) {
          throw new ConfigError(file, at(v) || at(k), `${key}.${(e as Error).message}`);
        }
      }
      return out;
    }
    case 'services': {
      // A list, or one text as on the command line ("smtp,imap").
      const items =
        node && isSeq(node)
          ? node.items.map((it) => (isScalar(it) ? it.value : undefined))
          : node && isScalar(node) && typeof node.value === 'string'
            ? node.value
            : null;
      if (items === null) return fail('expected a list such as [smtp, imap, pop3]');
      if (typeof items !== 'string' && items.some((x) => typeof x !== 'string')) return fail('every item must be one of smtp, imap, pop3');
      try {
        return parseServices(items as string | string[]);
      } catch (e) {
        return fail((e as Error).message);
      }
    }
    case 'argv': {
      // `on_block: /usr/local/bin/x` or `on_block: [/usr/local/bin/x, --flag]`: an argv, never a shell string.
      const items = node && isSeq(node) ? node.items.map((it) => (isScalar(it) ? it.value : undefined)) : [scalar()];
      if (items.length === 0 || items.some((x) => typeof x !== 'string' && typeof x !== 'number'))
        return fail('expected a program path, or a list [program, argument, ...]');
      const argv = items.map(String);
      if (argv[0] === '') return fail('the program is empty');
      return argv;
    }
    case 'crowdsec': {
      if (!node || !isMap(node)) return fail('expected a mapping {url, machine_id, password, bouncer_key}');
      try {
        return parseCrowdsecConfig(node.toJSON());
      } catch (e) {
        throw new ConfigError(file, line, (e as Error).message); // already `crowdsec.KEY: reason`
      }
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
