import { readFileSync } from 'node:fs';

/** The machine's CPU time so far (the `cpu` line of /proc/stat, in clock ticks): idle (with I/O wait) and all. */
export interface CpuTimes {
  idle: number;
  total: number;
}

/** Reads /proc/stat's first line; null where there is none (not Linux) or it cannot be read. */
export function cpuTimes(stat = '/proc/stat'): CpuTimes | null {
  try {
    return parseCpuLine(readFileSync(stat, 'latin1'));
  } catch {
    return null;
  }
}

/** `cpu  user nice system idle iowait irq softirq steal …` → idle + iowait, and the sum of all (guest time is inside user). */
export function parseCpuLine(text: string): CpuTimes | null {
  const line = text.slice(0, text.indexOf('\n') >>> 0);
  const f = line.split(/\s+/);
  if (f[0] !== 'cpu' || f.length < 5) return null;
  const n = f.slice(1, 9).map(Number);
  if (n.some((x) => !Number.isFinite(x))) return null;
  return { idle: n[3]! + (n[4] ?? 0), total: n.reduce((a, b) => a + b, 0) };
}

/**
 * How many cores stood idle, on average, between `a` and `b` (0 … `cores`); null when the times
 * are unknown or too close together to tell (fewer than 5 ticks in all).
 */
export function idleCores(a: CpuTimes | null, b: CpuTimes | null, cores: number): number | null {
  if (!a || !b) return null;
  const total = b.total - a.total;
  if (total < 5) return null;
  return ((b.idle - a.idle) / total) * cores;
}
