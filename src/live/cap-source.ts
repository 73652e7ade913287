/**
 * Live capture with the `cap` native module (the user's choice; an optional dependency loaded with
 * `import('cap')`). What cap does and does not do, and how this file copes (native-notes/live-capture.md):
 * - no timestamps: packets are stamped at receipt with performance.timeOrigin + performance.now()
 *   (monotonic, sub-µs resolution; a batch read in one poll wake-up gets nearly the same time);
 * - no drop statistics (no pcap_stats binding): stats() reports null = unknown;
 * - snaplen 65535, promiscuous and immediate mode are hard-coded; a smaller `snaplen` is applied
 *   by cutting caplen here; the wire length is not exposed, so origlen = captured length;
 * - one shared packet buffer, overwritten for each packet: onPacket runs synchronously inside
 *   cap's 'packet' event and must copy whatever it keeps (the PacketRecord contract);
 * - a failed open() (bad filter, missing interface, no permission) leaves a half-initialised
 *   handle whose destructor aborts the process at the next GC (uv_poll_stop assertion / SIGSEGV).
 *   So: the filter, interface and permission are first tried in a throw-away child process
 *   (cap-probe.js), and an object whose open() threw anyway is kept referenced forever and never
 *   closed (`quarantine`), so its destructor never runs.
 * - it captures in this process's network namespace (no setns): for another namespace start
 *   node itself with `ip netns exec NS node …`.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Cap as CapClass } from 'cap';
import { newPacketRecord, type PacketRecord } from '../source/packet-record.js';
import {
  classifyPcapError,
  inNetns,
  interfaceNames,
  LIBPCAP_DEFAULT_BUFFER,
  LiveCaptureError,
  noSuchInterface,
  validateOptions,
  waitQuiet,
  type LiveSource,
  type LiveSourceOptions,
  type LiveStats,
} from './live-source.js';

export const CAP_MISSING =
  'live capture with the cap backend needs the optional native module `cap`: apt-get install libpcap-dev python3 make g++ && npm rebuild cap — or use --capture-backend tcpdump';

/** cap's fixed snapshot length. */
export const CAP_SNAPLEN = 65535;

type CapModule = { Cap: typeof CapClass };

/** Cap objects whose open() threw: referenced until exit so their crashing destructor never runs. */
const quarantine: CapClass[] = [];

let loading: Promise<CapModule> | null = null;

/** Loads `cap`, or throws a LiveCaptureError('module') that says how to get it. */
export function loadCap(): Promise<CapModule> {
  loading ??= (async () => {
    try {
      const m = await import('cap');
      const mod = (m.default ?? m) as Partial<CapModule>;
      if (typeof mod.Cap !== 'function') throw new Error('module `cap` has no Cap class');
      return mod as CapModule;
    } catch (e) {
      loading = null;
      throw capLoadError((e as Error).message.split('\n')[0] ?? '');
    }
  })();
  return loading;
}

/**
 * The error for a `cap` that does not load, with the fix for the case at hand. A failed optional
 * build makes npm remove `cap` (and `nan`) from node_modules, so `npm rebuild cap` then has nothing
 * to rebuild and `npm install` is what brings it back; a present but unbuilt or stale module
 * (install scripts skipped, Node.js upgraded) needs `npm rebuild cap`.
 */
export function capLoadError(msg: string): LiveCaptureError {
  const deps = 'apt-get install libpcap-dev python3 make g++';
  const alt = '— or use --capture-backend tcpdump';
  let text: string;
  if (/Cannot find (package|module) ['"][^'"]*cap(\/index\.js)?['"]/.test(msg) && !/cap\.node/.test(msg)) {
    text = `live capture with the cap backend needs the optional native module \`cap\`, which is not installed (npm drops it when its build fails): ${deps} && npm install (in smtpstrike's directory; npm install -g for a global install) ${alt}`;
  } else if (/NODE_MODULE_VERSION|was compiled against a different/i.test(msg)) {
    text = `the optional native module \`cap\` was built for another Node.js version: npm rebuild cap ${alt}`;
  } else if (/libpcap\.so/i.test(msg)) {
    text = `the optional native module \`cap\` cannot find the libpcap runtime: apt-get install libpcap0.8 ${alt}`;
  } else {
    text = CAP_MISSING;
  }
  return new LiveCaptureError('module', `${text} (${msg})`, msg);
}

/** Whether `cap` loads here (for tests and `--capture-backend` defaults). */
export async function capAvailable(): Promise<boolean> {
  try {
    await loadCap();
    return true;
  } catch {
    return false;
  }
}

/** libpcap link-type name from cap's open() → LINKTYPE_* number. */
export function capLinktype(name: string): number {
  switch (name) {
    case 'ETHERNET':
      return 1;
    case 'LINKTYPE_LINUX_SLL':
      return 113;
    case 'RAW':
      return 101;
    case 'NULL':
      return 0;
    case 'IEEE802_11_RADIO':
      return 127;
    default: {
      const m = /Unknown linktype (\d+)/.exec(name);
      // DLT_ and LINKTYPE_ values agree from 104 up (SLL2 = 276 …).
      return m ? Number(m[1]) : -1;
    }
  }
}

export interface ProbeResult {
  ok: boolean;
  linktype?: string;
  message?: string;
}

const probeScript = fileURLToPath(new URL('./cap-probe.js', import.meta.url));

/**
 * Opens the interface with the filter in a child process (same node binary, so the same file
 * capabilities and network namespace) and reports what libpcap said. A failure there cannot hurt
 * this process.
 */
export function probeCapOpen(iface: string, filter: string, bufferSize: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    if (!existsSync(probeScript)) {
      resolve({ ok: true, message: 'probe script missing; not probed' });
      return;
    }
    const child = spawn(process.execPath, [probeScript, JSON.stringify({ iface, filter, bufferSize })], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      resolve({ ok: false, message: `cannot run the cap probe: ${e.message}` });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      try {
        const r = JSON.parse(line) as ProbeResult;
        if (typeof r.ok === 'boolean') {
          resolve(r);
          return;
        }
      } catch {
        /* fall through */
      }
      const how = signal ? `killed by ${signal}` : `exit status ${code}`;
      resolve({ ok: false, message: `cap probe failed (${how}): ${(err.trim().split('\n').pop() ?? '') || 'no output'}` });
    });
  });
}

export class CapSource implements LiveSource {
  readonly backend = 'cap' as const;
  private cap: CapClass | null = null;
  private readonly rec: PacketRecord = newPacketRecord();
  private delivered = 0;
  private lastActivity = 0;
  private stopping: Promise<void> | null = null;
  private closed = false;
  /** LINKTYPE_* of the open capture (-1 until started). */
  linktype = -1;
  linktypeName = '';
  /** Packets longer than the packet buffer (never with cap's own 65535 snaplen). */
  truncated = 0;

  constructor(private readonly opts: LiveSourceOptions) {
    validateOptions(opts);
  }

  async start(onPacket: (rec: PacketRecord) => void): Promise<void> {
    if (this.cap) throw new Error('live source already started');
    const o = this.opts;
    if (o.netns !== undefined && !inNetns(o.netns)) {
      throw new LiveCaptureError(
        'netns',
        `the cap backend captures in this process's own network namespace and cannot enter "${o.netns}": start node inside it (ip netns exec ${o.netns} node …), or use --capture-backend tcpdump`,
      );
    }
    const { Cap } = await loadCap();
    // Interface first (cheap, opens nothing): pcap_findalldevs, plus the kernel's own list.
    if (o.iface !== 'any') {
      let names: string[] = [];
      try {
        names = Cap.deviceList().map((d) => d.name);
      } catch {
        /* fall back to /sys below */
      }
      const sys = interfaceNames();
      if (!names.includes(o.iface) && !sys.includes(o.iface)) throw noSuchInterface(o.iface, 'not in pcap_findalldevs nor /sys/class/net', sys);
    }
    const bufSize = o.bufferSize > 0 ? o.bufferSize : LIBPCAP_DEFAULT_BUFFER;
    // SMTPSTRIKE_CAP_NO_PROBE=1 skips the probe (tests use it to exercise the quarantine below).
    if (process.env.SMTPSTRIKE_CAP_NO_PROBE !== '1') {
      const probe = await probeCapOpen(o.iface, o.filter, bufSize);
      if (!probe.ok) throw classifyPcapError('cap', o.iface, o.filter, probe.message ?? 'unknown error');
    }

    const cap = new Cap();
    const buf = Buffer.alloc(CAP_SNAPLEN);
    let name: string;
    try {
      name = cap.open(o.iface, o.filter, bufSize, buf);
    } catch (e) {
      quarantine.push(cap); // never close() it, never let it be collected: its destructor crashes
      throw classifyPcapError('cap', o.iface, o.filter, (e as Error).message);
    }
    this.cap = cap;
    this.linktypeName = name;
    this.linktype = capLinktype(name);
    const rec = this.rec;
    rec.buf = buf;
    rec.off = 0;
    rec.linktype = this.linktype;
    rec.iface = 0;
    const snap = Math.min(o.snaplen ?? CAP_SNAPLEN, CAP_SNAPLEN);
    const origin = performance.timeOrigin;
    cap.on('packet', (nbytes: number, truncated: boolean) => {
      if (this.closed) return;
      const ms = origin + performance.now();
      const sec = Math.floor(ms / 1000);
      let ns = Math.round((ms - sec * 1000) * 1e6);
      if (ns > 999_999_999) ns = 999_999_999;
      rec.tsSec = sec;
      rec.tsNsec = ns;
      rec.caplen = nbytes > snap ? snap : nbytes;
      rec.origlen = nbytes;
      if (truncated) this.truncated++;
      this.delivered++;
      this.lastActivity = ms;
      try {
        onPacket(rec);
      } catch (e) {
        this.closed = true;
        cap.close(); // safe: open() succeeded; inside the callback cap defers the pcap_close
        o.onError?.(new LiveCaptureError('capture', `live capture stopped: the packet handler threw: ${(e as Error).message}`, (e as Error).message));
      }
    });
    this.lastActivity = Date.now();
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (!this.cap || this.closed) return;
      await waitQuiet(() => this.lastActivity, this.opts.drainQuietMs ?? 250, this.opts.drainMaxMs ?? 3000);
      if (!this.closed) {
        this.closed = true;
        this.cap.close();
      }
    })();
    return this.stopping;
  }

  /** cap has no pcap_stats binding: the kernel's counters are unknown. */
  async stats(): Promise<LiveStats> {
    return { received: null, dropped: null, ifDropped: null, delivered: this.delivered };
  }
}
