import { spawnSync } from 'node:child_process';

export const CLI = 'dist/src/cli.js';

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
  lines: Record<string, unknown>[];
  summary: Record<string, unknown> & {
    clients: Record<
      string,
      { failures: number; successes: number; tempfails: number; users: string[]; inferred: { failures: number; successes: number; tempfails: number } }
    >;
    coverage: Record<string, unknown> & { opaque_flows: number; packets: number };
    files: { file: string; packets: number; error?: { offset: number; reason: string } }[];
    blocks: { key: string; rule: string; from: number; until: number }[];
  };
}

/** Runs `smtpstrike ARGS` (JSON mode) and parses its lines. */
export function smtpstrike(args: string[], env: NodeJS.ProcessEnv = {}): CliRun {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC', ...env }, maxBuffer: 256 << 20 });
  const lines = args.includes('--json')
    ? r.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    : [];
  const summary = lines.find((l) => l.type === 'summary') as CliRun['summary'];
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, lines, summary };
}
