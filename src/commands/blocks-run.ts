/**
 * `smtpstrike blocks list|init|add|del|flush|cleanup`: the admin's view of the kernel blocks.
 * Every firewall command can run inside a network namespace (--netns), which the tests use.
 */
import { BlockerError, type Blocker, type BlockEntry, type BlockLogger } from '../blocker/types.js';
import { formatTarpitTarget, parseTarpitTarget } from '../blocker/tarpit-target.js';
import { createBlocker } from '../blocker/index.js';
import { readStateChecked } from '../strike-state/state-file.js';
import { blockPorts, type MailService } from '../watch/services.js';

type Backend = 'nft' | 'ipset' | 'iptables';

export interface BlocksFlags {
  backend: Backend;
  ports?: number[];
  services?: MailService[];
  netns?: string;
  json: boolean;
  /** init, add: `[HOST:]PORT`, checked by the option; the rules are re-made with it. */
  tarpit?: string;
}

export interface ListFlags extends BlocksFlags {
  stateFile: string;
}

export interface AddFlags extends BlocksFlags {
  timeout: number;
}

type TarpitInfo = { host?: string; port: number; families: (4 | 6)[] } | null;

function tarpitText(t: TarpitInfo): string {
  if (t === null) return '';
  const only = t.families.length === 1 ? ` (IPv${t.families[0]!} only; the other family is rejected)` : '';
  return `redirected to tarpit ${t.host === undefined ? ':' : ''}${formatTarpitTarget(t)}${only}\n`;
}

/** Warnings and errors from a backend, as plain lines on stderr. */
const cliLogger: BlockLogger = {
  info() {},
  warn(obj, msg) {
    process.stderr.write(`smtpstrike blocks: ${msg} ${JSON.stringify(obj)}\n`);
  },
  error(obj, msg) {
    process.stderr.write(`smtpstrike blocks: ${msg} ${JSON.stringify(obj)}\n`);
  },
};

function blockerFor(f: BlocksFlags): Blocker {
  return createBlocker(f.backend, {
    ports: blockPorts(f.ports ?? [25, 587], f.services),
    logger: cliLogger,
    ...(f.netns === undefined ? {} : { netns: f.netns }),
    ...(f.tarpit === undefined ? {} : { tarpit: parseTarpitTarget(f.tarpit) }),
  });
}

/**
 * The blocker for a command that changes blocks: without --tarpit, made with the tarpit installed
 * (read back from the firewall), so that the iptables backend writes, deletes and flushes the
 * per-address nat rules along with the filter ones, and a re-init (--ports) keeps the tarpit.
 */
async function changingBlocker(f: BlocksFlags): Promise<Blocker> {
  const b = blockerFor(f);
  if (f.tarpit !== undefined) return b;
  const t =
    (await b.ruleTarpit?.().catch((e: unknown) => {
      if (e instanceof BlockerError && e.kind === 'missing-binary') return null;
      throw e;
    })) ?? null;
  return t === null ? b : blockerFor({ ...f, tarpit: formatTarpitTarget(t) });
}

/** Creates the table/sets/rules when missing, or re-makes the rules when --ports, --services or --tarpit is given. */
async function ensure(b: Blocker, f: BlocksFlags): Promise<void> {
  if (f.ports !== undefined || f.services !== undefined || f.tarpit !== undefined || !(await b.exists())) await b.init();
}

function out(f: BlocksFlags, obj: object, text: string): void {
  process.stdout.write(f.json ? `${JSON.stringify(obj)}\n` : text);
}

function entryJson(e: BlockEntry, now: number, level: number | null): object {
  const until = e.expiresInSec === null ? null : Math.floor(now / 1000) + e.expiresInSec;
  return { addr: e.addr, expires_in_s: e.expiresInSec, until, until_time: until === null ? null : new Date(until * 1000).toISOString(), level };
}

/**
 * Each blocked key's repeat-offender level (strikes/escalation.ts) as watch's state file has it; a
 * missing file gives none, an unreadable one a warning and none: the kernel's list is what counts.
 */
function levelsFrom(path: string): Map<string, number> {
  const out = new Map<string, number>();
  let read;
  try {
    read = readStateChecked(path);
  } catch (e) {
    process.stderr.write(`smtpstrike blocks: no levels: ${(e as Error).message}\n`);
    return out;
  }
  for (const e of read?.state.entries ?? []) if (e.block) out.set(e.key, e.block.level);
  return out;
}

function byAddr(a: BlockEntry, b: BlockEntry): number {
  const fa = a.addr.includes(':') ? 1 : 0;
  const fb = b.addr.includes(':') ? 1 : 0;
  return fa - fb || a.addr.localeCompare(b.addr, 'en', { numeric: true });
}

/** `blocks list`. */
export async function listBlocks(f: ListFlags): Promise<void> {
  const b = await changingBlocker(f); // iptables: the expiry sweep of list() takes the nat rules too
  const entries = (await b.list()).sort(byAddr);
  // The ports come from the rule (ipset's lives in iptables): a missing iptables hides only them.
  const ports =
    (await b.rulePorts?.().catch((e: unknown) => {
      if (e instanceof BlockerError && e.kind === 'missing-binary') return null;
      throw e;
    })) ?? null;
  const tarpit = ports === null ? null : ((await b.ruleTarpit?.()) ?? null);
  const now = Date.now();
  const levels = levelsFrom(f.stateFile);
  const levelText = (addr: string): string => {
    const l = levels.get(addr);
    return l === undefined ? '' : ` level ${l}`;
  };
  const head = ports === null ? `no block rule (${f.backend})\n` : `blocked on ports ${ports.join(', ')} (${f.backend})\n`;
  const text =
    head +
    tarpitText(tarpit) +
    (entries.length === 0
      ? `no blocks (${f.backend})\n`
      : entries.map((e) => `${e.addr.padEnd(40)} ${e.expiresInSec === null ? 'no timeout' : `${e.expiresInSec} s left`}${levelText(e.addr)}\n`).join(''));
  const blocks = entries.map((e) => entryJson(e, now, levels.get(e.addr) ?? null));
  const tarpitJson = tarpit === null ? null : { host: tarpit.host ?? null, port: tarpit.port, families: tarpit.families };
  out(f, { backend: f.backend, netns: f.netns ?? null, ports, tarpit: tarpitJson, count: entries.length, blocks }, text);
}

/** `blocks init`. */
export async function initBlocks(f: BlocksFlags): Promise<void> {
  const b = blockerFor(f);
  await b.init();
  const tarpit = f.tarpit === undefined ? null : parseTarpitTarget(f.tarpit);
  out(
    f,
    { backend: f.backend, ready: true, tarpit: tarpit === null ? null : { host: tarpit.host ?? null, port: tarpit.port } },
    `ready (${f.backend})${tarpit === null ? '' : `; new connections of blocked addresses go to tarpit ${tarpit.host === undefined ? ':' : ''}${formatTarpitTarget(tarpit)}`}\n`,
  );
}

/** `blocks add`. */
export async function addBlocks(addrs: string[], f: AddFlags): Promise<void> {
  const b = await changingBlocker(f);
  await ensure(b, f);
  await b.apply(addrs.map((addr) => (f.timeout === 0 ? { op: 'add' as const, addr } : { op: 'add' as const, addr, timeoutSec: f.timeout })));
  out(
    f,
    { backend: f.backend, added: addrs, timeout_s: f.timeout === 0 ? null : f.timeout },
    `blocked ${addrs.join(', ')} ${f.timeout === 0 ? 'with no timeout' : `for ${f.timeout} s`} (${f.backend})\n`,
  );
}

/** `blocks del`. */
export async function delBlocks(addrs: string[], f: BlocksFlags): Promise<void> {
  const b = await changingBlocker(f);
  if (!(await b.exists())) {
    out(f, { backend: f.backend, deleted: [] }, `nothing to unblock: no smtpstrike ${f.backend} blocks exist\n`);
    return;
  }
  await b.apply(addrs.map((addr) => ({ op: 'del' as const, addr })));
  out(f, { backend: f.backend, deleted: addrs }, `unblocked ${addrs.join(', ')} (${f.backend})\n`);
}

/** `blocks flush`. */
export async function flushBlocks(f: BlocksFlags): Promise<void> {
  await (await changingBlocker(f)).flush();
  out(f, { backend: f.backend, flushed: true }, `all blocks removed (${f.backend})\n`);
}

/** `blocks cleanup`. */
export async function cleanupBlocks(f: BlocksFlags): Promise<void> {
  await blockerFor(f).cleanup();
  const what = {
    nft: 'table inet smtpstrike',
    ipset: 'ipsets smtpstrike4/smtpstrike6 and their INPUT rules',
    iptables: 'chain SMTPSTRIKE and its INPUT jumps',
  }[f.backend];
  out(f, { backend: f.backend, cleaned_up: true }, `removed ${what} (${f.backend})\n`);
}
