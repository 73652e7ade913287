# Shared by the watch end-to-end scenarios (test/e2e/watch-*-scenario.sh), sourced with ROOT set to the
# project: installs what the test bed needs, sources scripts/testbed/lib.sh, and gives starting and
# stopping one watch in the server namespace, CHECK lines,
# and probes of the nft set and the watch log. The caller sets LOG (the watch log file), makes
# $TB_DIR/empty.yaml (the config watch reads) and sets WATCH_ARGS (options every start gets).

"$ROOT/scripts/install-deps.sh" testbed >/dev/null
# shellcheck source=../../scripts/testbed/lib.sh
. "$ROOT/scripts/testbed/lib.sh"

WATCH_PID=
stop_watch() { # stop_watch [SIGNAL]: stop the running watch (TERM by default; KILL after 10 s)
  local sig=${1:-TERM}
  if [ -n "$WATCH_PID" ]; then
    kill "-$sig" "$WATCH_PID" 2>/dev/null || true
    _tb_wait_gone 10 "$WATCH_PID" || kill -KILL "$WATCH_PID" 2>/dev/null || true
    WATCH_PID=
  fi
}
watch_cleanup() {
  local rc=$?
  trap - EXIT
  stop_watch KILL
  tb_down
  exit $rc
}
trap watch_cleanup EXIT

check() { # check NAME CONDITION-RESULT(0/1) DETAIL
  if [ "$2" = 0 ]; then echo "CHECK $1 ok $3"; else echo "CHECK $1 FAIL $3"; fi
}

starts() { local n; n=$(grep -c '"event":"start"' "$LOG" 2>/dev/null); echo "${n:-0}"; }
start_watch() { # extra watch options...
  local before i
  before=$(starts)
  # `ip netns exec` execs node, so $! is node's own PID (a backgrounded shell function would not be).
  ip netns exec "$TB_SRV_NS" node "$ROOT/dist/src/cli.js" watch --config "$TB_DIR/empty.yaml" -i "$TB_SRV_IF" \
    --log-file "$LOG" "${WATCH_ARGS[@]}" "$@" 2>>"$TB_DIR/watch.stderr" &
  WATCH_PID=$!
  for ((i = 0; i < 150; i++)); do
    [ "$(starts)" -gt "$before" ] && break
    _tb_alive "$WATCH_PID" || { echo "watch died: $(tail -5 "$TB_DIR/watch.stderr")" >&2; exit 1; }
    sleep 0.1
  done
  [ "$(starts)" -gt "$before" ] || { echo "watch did not start: $(tail -5 "$TB_DIR/watch.stderr")" >&2; exit 1; }
  sleep 0.5 # capture running
}

in_set() { # in_set IP: the nft set holds IP
  # Not `nft list … | grep -q`: under pipefail grep's early exit can fail the pipe with SIGPIPE, and a
  # present address read as absent made a negative check pass (and a poll for expiry stop) by chance.
  local set
  set=$(tb_srv nft list set inet smtpstrike blocked4 2>/dev/null) || return 2
  grep -qw "$1" <<<"$set"
}
wait_in_set() { local i; for ((i = 0; i < 300; i++)); do in_set "$1" && return 0; sleep 0.1; done; return 1; }
# wait_log REGEX [N]: until the watch log has more than N lines matching (default 0), at most 30 s (polled: loaded machines are slow).
wait_log() { local i n; for ((i = 0; i < 300; i++)); do n=$(grep -cE "$1" "$LOG" 2>/dev/null); [ "${n:-0}" -gt "${2:-0}" ] && return 0; sleep 0.1; done; return 1; }
count_log() { local n; n=$(grep -cE "$1" "$LOG" 2>/dev/null); echo "${n:-0}"; }
# connects_from IP: bash /dev/tcp cannot pick a source address; use swaks' EHLO-only session.
connects_from() {
  tb_swaks --port 587 --local-interface "$1" --quit-after EHLO >/dev/null 2>&1
}
