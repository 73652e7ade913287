import type { Logger } from 'pino';
import type { CommandRunner } from '../blocker/runner.js';

/**
 * `--kill-established`: ends the open SMTP sessions of a newly blocked address or IPv6 prefix with
 * `ss -K` (a bot keeps guessing on a session it already holds; the block only stops new ones).
 * Called once per block — never per refused SYN: a blocked bot sending 1,000 SYN/s would
 * otherwise start 1,000 processes a second. The filter is the strike key, so a /64 key ends the
 * sessions of the whole prefix, not only of the client that tipped it over.
 */
export class SessionKiller {
  /** `ss -K` runs started (tests and stats). */
  runs = 0;

  constructor(
    private readonly runner: CommandRunner,
    private readonly ports: readonly number[],
    private readonly dryRun: boolean,
  ) {}

  ssArgs(key: string): string[] {
    return ['-K', 'dst', key, '(', ...this.ports.flatMap((p, i) => [...(i ? ['or'] : []), 'sport', '=', `:${p}`]), ')'];
  }

  kill(key: string, log: Logger): void {
    const args = this.ssArgs(key);
    if (this.dryRun) {
      log.info({ event: 'kill_established', key, dry_run: true }, `dry-run: would end the open sessions of ${key} (ss ${args.join(' ')})`);
      return;
    }
    this.runs++;
    this.runner.run('ss', args).then(
      (r) => {
        if (r.code !== 0) log.error({ event: 'kill_established_failed', key, code: r.code, err: r.stderr.trim() }, `ss -K for ${key} failed`);
        else log.info({ event: 'kill_established', key }, `ended the open sessions of ${key}`);
      },
      (e: Error) => log.error({ event: 'kill_established_failed', key, err: e.message }, `ss -K for ${key} failed`),
    );
  }
}
