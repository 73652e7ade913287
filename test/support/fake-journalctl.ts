/** A fake `journalctl` for tests: replays recorded `journalctl -o json` lines, honouring --after-cursor. */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const RECORDED_JOURNAL = [
  {
    __CURSOR: 's=abc;i=1',
    __REALTIME_TIMESTAMP: '1764907740123456',
    _SYSTEMD_UNIT: 'postfix@-.service',
    MESSAGE: 'warning: unknown[192.0.2.7]: SASL LOGIN authentication failed: UGFzc3dvcmQ6',
  },
  {
    __CURSOR: 's=abc;i=2',
    __REALTIME_TIMESTAMP: '1764907741000000',
    _SYSTEMD_UNIT: 'dovecot.service',
    MESSAGE: 'auth: passwd-file(bob,192.0.2.7): Password mismatch',
  },
  // MESSAGE with bytes that are not UTF-8-clean comes as an array of numbers.
  { __CURSOR: 's=abc;i=3', __REALTIME_TIMESTAMP: '1764907742500000', SYSLOG_IDENTIFIER: 'exim', MESSAGE: [...Buffer.from('login authenticator failed')] },
];

/** A journalctl that writes its arguments to ARGS, prints the recorded entries after --after-cursor, then waits. */
export function fakeJournalctl(dir: string, opts: { exitAfter?: boolean } = {}): string {
  const data = join(dir, 'entries.json');
  writeFileSync(data, RECORDED_JOURNAL.map((r) => JSON.stringify(r)).join('\n') + '\nnot json\n');
  const prog = join(dir, 'journalctl');
  writeFileSync(
    prog,
    `#!/usr/bin/env bash
printf '%s\\n' "$@" > "${dir}/args.last"
after=""
for a in "$@"; do case "$a" in --after-cursor=*) after="\${a#--after-cursor=}";; esac; done
seen=0; [ -z "$after" ] && seen=1
while IFS= read -r line; do
  if [ "$seen" = 1 ]; then printf '%s\\n' "$line"; fi
  case "$line" in *"\\"__CURSOR\\":\\"$after\\""*) seen=1;; esac
done < "${data}"
${opts.exitAfter ? 'exit 0' : 'exec sleep 1000'}
`,
  );
  chmodSync(prog, 0o755);
  return prog;
}
