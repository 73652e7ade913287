#!/usr/bin/env bash
# The test suite on other days and in other zones, to show no test depends on the date or the zone:
# the suite once failed on days 1-9 of every month (a day-padding compare), and an assertion did
# nothing unless TZ was UTC. Each run fakes the clock with libfaketime (it starts at the given instant
# and then runs on) and sets TZ; the children the tests start (Postfix, Dovecot, tcpdump) inherit both.
#   scripts/test-clock.sh                       every test file but two (below), three clocks (~15 min as root)
#   scripts/test-clock.sh dist/test/x.test.js   some files only
# Needs the faketime package (scripts/install-deps.sh clock); not part of CI, which runs on the real clock.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh clock
npm run build >/dev/null
files=("$@")
if [ ${#files[@]} -eq 0 ]; then
  # Left out: the end-to-end tests that set a kernel clock against the process's. Packet timestamps
  # come from the kernel and nft timeouts run in it, neither faked: watch-e2e restores blocks whose
  # `until` is packet time against a faked "now" (months later: expired, not restored), and
  # report-e2e checks that Postfix logs in its zone against a faked `date` (Postfix's daemons do not
  # inherit LD_PRELOAD). Both failed that way, and only that way, in a full run; on the real clock they run in CI.
  for f in dist/test/*.test.js; do
    case $f in */watch-e2e.test.js | */report-e2e.test.js) echo "== test-clock: $f left out (kernel clock, not fakeable)" >&2 ;; *) files+=("$f") ;; esac
  done
fi
# day 5 (zero- vs space-padded syslog days), +14:00 and -03:30 (zones far from UTC, one with half
# hours), and New Year (a December log line read in January).
clocks=("2027-02-05 01:30:00|Pacific/Kiritimati" "2026-12-05 23:50:00|America/St_Johns" "2026-12-31 23:58:00|Asia/Kolkata")
rc=0
for c in "${clocks[@]}"; do
  when=${c%|*} tz=${c#*|}
  echo "== test-clock: $when in $tz" >&2
  if TZ=$tz faketime "$when" node --test --test-concurrency=1 "${files[@]}"; then
    echo "== test-clock: $when in $tz: passed" >&2
  else
    echo "== test-clock: $when in $tz: FAILED" >&2
    rc=1
  fi
done
exit $rc
