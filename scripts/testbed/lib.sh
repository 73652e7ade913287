# shellcheck shell=bash
# scripts/testbed/lib.sh - a throw-away SMTP AUTH test bed in two network namespaces.
#
# Usage (as root; source it, do not execute it):
#   scripts/install-deps.sh testbed
#   . scripts/testbed/lib.sh
#   trap tb_down EXIT                # always clean up, also on error / Ctrl-C
#   tb_up                            # namespaces + veth; exports TB_SRV_NS TB_CLI_NS TB_SRV_IF TB_CLI_IF TB_DIR
#   tb_mail_up 0                     # Postfix (25, 587) + Dovecot SASL; 0 = no auth penalty, 1 = Dovecot default penalty
#   tb_mail_up 0 tls                 # TLS-only, as a modern server runs: 25 smtpd_tls_auth_only = yes (AUTH only after
#                                    # STARTTLS), 587 smtpd_tls_security_level = encrypt; TB_TLS_PROTOCOLS /
#                                    # TB_TLS_CIPHERS (optional) become smtpd_tls_protocols / tls_high_cipherlist
#   tb_capture_start "$TB_SRV_IF" /tmp/x.pcap 'tcp port 25 or tcp port 587'   # tcpdump -U in the server namespace
#   tb_capture_start "$TB_SRV_IF" /tmp/x.pcapng -f 'tcp port 587'              # *.pcapng: dumpcap instead of tcpdump
#   tb_swaks --port 587 --local-interface 10.200.0.3 --auth LOGIN --auth-user alice --auth-password bad --quit-after AUTH
#   tb_capture_stop                  # SIGINT every capture, wait until flushed (or: tb_capture_stop FILE)
#   tb_mail_down                     # stop Postfix + Dovecot only (tb_mail_up may be called again, e.g. with 1)
#   tb_down                          # stop everything started here, delete namespaces and $TB_DIR (TB_KEEP=1 keeps logs)
#
# Addresses: server 10.200.0.1/24 in $TB_SRV_NS; clients 10.200.0.2 .. 10.200.0.9 in $TB_CLI_NS (TB_NET=10.X.Y: X.Y.1, .2 .. .9)
# (swaks picks one with --local-interface; the default source is 10.200.0.2).
# Users (Dovecot passwd-file): alice/secret, bob/hunter2.  Logs: $TB_DIR/logs/{postfix,dovecot}.log.
# Helpers: tb_srv CMD... / tb_cli CMD... run a command in the server / client namespace.
# Names derive from TB_PREFIX (default sst$$, letters/digits/_ only, at most 11 characters), so several
# test beds (and a system Postfix/Dovecot) can run side by side: Postfix gets its own queue and data
# directories under $TB_DIR, Dovecot its own base_dir/state_dir. Every process is stopped by PID (recorded
# at start or read from the daemon's own pid file); nothing is killed by name.

# TB_NET (optional, set before sourcing): the first three octets of the test-bed /24, default 10.200.0; a
# test bed of another server (make-exim-tls-captures.sh: 10.211.0) uses its own, so captures do not mix.
TB_NET=${TB_NET:-10.200.0}
[[ $TB_NET =~ ^10\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || { echo "testbed: TB_NET '$TB_NET' must look like 10.X.Y" >&2; return 1; }
export TB_NET TB_SRV_IP=$TB_NET.1
TB_CLI_IPS=("$TB_NET".{2..9})

_tb_log() { echo "testbed: $*" >&2; }
_tb_die() { echo "testbed: ERROR: $*" >&2; return 1; }

# _tb_alive PID: true while PID exists and is not a zombie.
_tb_alive() {
  local st
  [ -r "/proc/$1/stat" ] || return 1
  st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# _tb_wait_gone SECONDS PID...: wait until all PIDs are gone; false if some remain.
_tb_wait_gone() {
  local secs=$1 p left i
  shift
  for ((i = 0; i < secs * 10; i++)); do
    left=0
    for p in "$@"; do _tb_alive "$p" && left=1; done
    [ $left = 0 ] && break
    sleep 0.1
  done
  for p in "$@"; do wait "$p" 2>/dev/null || true; done   # reap if it was our child
  for p in "$@"; do _tb_alive "$p" && return 1; done
  return 0
}

# _tb_stop_pids SECONDS PID...: SIGTERM, bounded wait, then SIGKILL what is left.
_tb_stop_pids() {
  local secs=$1 p
  shift
  [ $# -gt 0 ] || return 0
  for p in "$@"; do _tb_alive "$p" && kill -TERM "$p" 2>/dev/null; done
  _tb_wait_gone "$secs" "$@" && return 0
  for p in "$@"; do
    if _tb_alive "$p"; then _tb_log "PID $p ignored SIGTERM, sending SIGKILL"; kill -KILL "$p" 2>/dev/null; fi
  done
  _tb_wait_gone 5 "$@"
}

_tb_children() { ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' ' || true; }

# _tb_ns_exists NAME (no "grep -q" in a pipe: with pipefail an early grep exit can fail the pipe)
_tb_ns_exists() {
  local l
  l=$(ip netns list 2>/dev/null) || true
  grep -qE "^$1( |\$)" <<<"$l"
}

# tb_syslog_near STAMP REF_EPOCH [SLACK_S]: true when the syslog stamp `Mmm dd HH:MM:SS` (day zero-
# padded, as Postfix's own maillog_file writes it, or space-padded, as syslog does) read in the current
# TZ lies within SLACK_S (default 120) seconds of REF_EPOCH. The year is the one nearest REF_EPOCH, so a
# December stamp checked on 1 January still fits. Comparing the stamp as a string with
# `date +'%b %e'` failed on days 1-9 of every month against Postfix's `Dec 05`.
tb_syslog_near() {
  local mon day hms rest y t best='' d
  read -r mon day hms rest <<<"$1"
  [[ $mon =~ ^[A-Z][a-z]{2}$ && $day =~ ^[0-9]{1,2}$ && $hms =~ ^[0-9]{2}:[0-9]{2}:[0-9]{2}$ ]] || return 1
  y=$(date -d "@$2" +%Y) || return 1
  for y in $((y - 1)) "$y" $((y + 1)); do
    t=$(date -d "$mon $((10#$day)) $y $hms" +%s 2>/dev/null) || continue
    d=$((t - $2)); d=${d#-}
    if [ -z "$best" ] || ((d < best)); then best=$d; fi
  done
  [ -n "$best" ] && ((best <= ${3:-120}))
}

tb_srv() { ip netns exec "$TB_SRV_NS" "$@"; }
tb_cli() { ip netns exec "$TB_CLI_NS" "$@"; }

tb_up() {
  [ "$(id -u)" = 0 ] || { _tb_die "must run as root (network namespaces)"; return 1; }
  local p=${TB_PREFIX:-sst$$}
  [[ $p =~ ^[A-Za-z0-9_]{1,11}$ ]] || { _tb_die "TB_PREFIX '$p' must be 1-11 letters/digits/_"; return 1; }
  export TB_PREFIX=$p
  export TB_SRV_NS=${p}-srv TB_CLI_NS=${p}-cli TB_SRV_IF=${p}-s TB_CLI_IF=${p}-c
  if _tb_ns_exists "$TB_SRV_NS" || _tb_ns_exists "$TB_CLI_NS"; then
    _tb_die "namespace ${TB_SRV_NS} or ${TB_CLI_NS} already exists (another test bed with TB_PREFIX=$p?)"
    return 1
  fi
  TB_DIR=$(mktemp -d "/tmp/${p}.testbed.XXXXXX") || return 1
  export TB_DIR
  chmod 755 "$TB_DIR"                       # postfix/dovecot users must traverse it
  mkdir -p "$TB_DIR/logs" "$TB_DIR/state" "$TB_DIR/conf"
  echo "$TB_SRV_NS $TB_CLI_NS" > "$TB_DIR/state/netns"
  ip netns add "$TB_SRV_NS" || return 1
  ip netns add "$TB_CLI_NS" || return 1
  # Create the pair directly inside the namespaces: nothing appears in the root namespace.
  ip link add "$TB_SRV_IF" netns "$TB_SRV_NS" type veth peer name "$TB_CLI_IF" netns "$TB_CLI_NS" || return 1
  ip -n "$TB_SRV_NS" addr add "$TB_SRV_IP/24" dev "$TB_SRV_IF" || return 1
  local a
  for a in "${TB_CLI_IPS[@]}"; do ip -n "$TB_CLI_NS" addr add "$a/24" dev "$TB_CLI_IF" || return 1; done
  # No IPv6 on the test link: keeps router solicitations / MLD out of captures and DAD out of the way.
  ip netns exec "$TB_SRV_NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 2>/dev/null || true
  ip netns exec "$TB_CLI_NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 2>/dev/null || true
  ip -n "$TB_SRV_NS" link set lo up && ip -n "$TB_SRV_NS" link set "$TB_SRV_IF" up || return 1
  ip -n "$TB_CLI_NS" link set lo up && ip -n "$TB_CLI_NS" link set "$TB_CLI_IF" up || return 1
  _tb_log "up: $TB_SRV_NS ($TB_SRV_IF $TB_SRV_IP) <-> $TB_CLI_NS ($TB_CLI_IF ${TB_CLI_IPS[0]}..${TB_CLI_IPS[-1]}), dir $TB_DIR"
}

# _tb_port_open PORT: true once the server answers "220" on PORT (seen from the client namespace).
_tb_port_open() {
  ip netns exec "$TB_CLI_NS" timeout 3 bash -c \
    "exec 3<>/dev/tcp/$TB_SRV_IP/$1 || exit 1; IFS= read -r -t 2 l <&3; printf 'QUIT\r\n' >&3; [[ \$l == 220* ]]" \
    2>/dev/null
}

tb_mail_up() {
  local penalty=${1:-0} mode=${2:-plain}
  [ "$mode" = plain ] || [ "$mode" = tls ] || { _tb_die "tb_mail_up: mode must be plain (default) or tls"; return 1; }
  [ -n "${TB_DIR:-}" ] && [ -d "$TB_DIR" ] || { _tb_die "tb_mail_up: call tb_up first"; return 1; }
  [ "$penalty" = 0 ] || [ "$penalty" = 1 ] || { _tb_die "tb_mail_up: penalty must be 0 or 1"; return 1; }
  [ -e "$TB_DIR/state/mail" ] && { _tb_die "tb_mail_up: mail servers already up (tb_mail_down first)"; return 1; }
  local C=$TB_DIR/conf P=$TB_DIR/conf/postfix D=$TB_DIR/conf/dovecot
  local Q=$TB_DIR/postfix/spool DATA=$TB_DIR/postfix/data DB=$TB_DIR/dovecot/run
  rm -rf "$P" "$D" "$TB_DIR/postfix" "$TB_DIR/dovecot"
  mkdir -p "$P" "$D" "$Q" "$DATA" "$DB" "$TB_DIR/dovecot/state" || return 1
  chown postfix:postfix "$DATA"

  # --- TLS certificate (self-signed, only for STARTTLS) ---
  if [ ! -s "$C/smtp.crt" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=mail.example.test" \
      -keyout "$C/smtp.key" -out "$C/smtp.crt" >/dev/null 2>&1 || { _tb_die "openssl failed"; return 1; }
    chmod 600 "$C/smtp.key"
  fi

  # --- Dovecot: auth-only SASL backend ---
  printf '%s\n' 'alice:{PLAIN}secret:65534:65534::/nonexistent::' 'bob:{PLAIN}hunter2:65534:65534::/nonexistent::' > "$D/users"
  chmod 644 "$D/users"
  {
    echo "# written by scripts/testbed/lib.sh (penalty=$penalty, mode=$mode)"
    echo "protocols ="
    echo "instance_name = ${TB_PREFIX}-dovecot"
    echo "base_dir = $DB/"
    echo "state_dir = $TB_DIR/dovecot/state"
    echo "log_path = $TB_DIR/logs/dovecot.log"
    echo "info_log_path = $TB_DIR/logs/dovecot.log"
    echo "auth_verbose = yes"
    echo "auth_mechanisms = plain login"
    echo "disable_plaintext_auth = no"
    echo "auth_failure_delay = 0"
    echo "ssl = no"
    echo "passdb {"
    echo "  driver = passwd-file"
    echo "  args = scheme=PLAIN username_format=%u $D/users"
    echo "}"
    echo "userdb {"
    echo "  driver = passwd-file"
    echo "  args = username_format=%u $D/users"
    echo "}"
    echo "service auth {"
    echo "  unix_listener $Q/private/auth {"
    echo "    mode = 0660"
    echo "    user = postfix"
    echo "    group = postfix"
    echo "  }"
    echo "}"
    if [ "$penalty" = 0 ]; then
      echo "# No anvil auth penalty: every failure is answered at once (535), none becomes 454."
      echo "service anvil {"
      echo "  unix_listener anvil-auth-penalty {"
      echo "    mode = 0"
      echo "  }"
      echo "}"
    fi
  } > "$D/dovecot.conf"

  # --- Postfix: own config, queue and data directories; nothing chrooted ---
  {
    echo "# written by scripts/testbed/lib.sh (mode=$mode)"
    echo "compatibility_level = 3.6"
    echo "queue_directory = $Q"
    echo "data_directory = $DATA"
    echo "myhostname = mail.example.test"
    echo "smtpd_banner = \$myhostname ESMTP \$mail_name (Debian/GNU)"
    echo "mydomain = example.test"
    echo "myorigin = \$myhostname"
    echo "mydestination = \$myhostname, localhost"
    echo "inet_interfaces = all"
    echo "inet_protocols = ipv4"
    echo "mynetworks = 127.0.0.0/8"
    echo "smtpd_peername_lookup = no"
    echo "biff = no"
    echo "alias_maps ="
    echo "alias_database ="
    echo "local_recipient_maps ="
    echo "# accepted mail is thrown away: nothing is delivered outside the test bed"
    echo "local_transport = discard:testbed"
    echo "default_transport = discard:testbed"
    echo "relay_transport = discard:testbed"
    echo "maillog_file_prefixes = /var, /dev/stdout, $TB_DIR/logs"
    echo "maillog_file = $TB_DIR/logs/postfix.log"
    echo "smtpd_sasl_auth_enable = yes"
    echo "smtpd_sasl_type = dovecot"
    echo "smtpd_sasl_path = private/auth"
    echo "smtpd_tls_security_level = may"
    if [ "$mode" = tls ]; then
      echo "# TLS-only AUTH: no AUTH in the EHLO reply before STARTTLS"
      echo "smtpd_tls_auth_only = yes"
      [ -z "${TB_TLS_PROTOCOLS:-}" ] || echo "smtpd_tls_protocols = $TB_TLS_PROTOCOLS"
      [ -z "${TB_TLS_PROTOCOLS:-}" ] || echo "smtpd_tls_mandatory_protocols = $TB_TLS_PROTOCOLS"
      [ -z "${TB_TLS_CIPHERS:-}" ] || echo "tls_high_cipherlist = $TB_TLS_CIPHERS"
      [ -z "${TB_TLS_CIPHERS:-}" ] || echo "smtpd_tls_ciphers = high"
      [ -z "${TB_TLS_CIPHERS:-}" ] || echo "smtpd_tls_mandatory_ciphers = high"
    else
      echo "smtpd_tls_auth_only = no"
    fi
    echo "smtpd_tls_cert_file = $C/smtp.crt"
    echo "smtpd_tls_key_file = $C/smtp.key"
    echo "smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated defer_unauth_destination"
  } > "$P/main.cf"
  {
    echo "# written by scripts/testbed/lib.sh: chroot column n everywhere (no chroot set-up needed)"
    echo "# service type  private unpriv  chroot  wakeup  maxproc command"
    echo "smtp       inet  n       -       n       -       -       smtpd"
    echo "submission inet  n       -       n       -       -       smtpd"
    echo "  -o syslog_name=postfix/submission"
    echo "  -o smtpd_sasl_auth_enable=yes"
    if [ "$mode" = tls ]; then
      echo "  -o smtpd_tls_security_level=encrypt"
      echo "  -o smtpd_tls_auth_only=yes"
    else
      echo "  -o smtpd_tls_auth_only=no"
    fi
    echo "pickup     unix  n       -       n       60      1       pickup"
    echo "cleanup    unix  n       -       n       -       0       cleanup"
    echo "qmgr       unix  n       -       n       300     1       qmgr"
    echo "tlsmgr     unix  -       -       n       1000?   1       tlsmgr"
    echo "rewrite    unix  -       -       n       -       -       trivial-rewrite"
    echo "bounce     unix  -       -       n       -       0       bounce"
    echo "defer      unix  -       -       n       -       0       bounce"
    echo "trace      unix  -       -       n       -       0       bounce"
    echo "verify     unix  -       -       n       -       1       verify"
    echo "flush      unix  n       -       n       1000?   0       flush"
    echo "proxymap   unix  -       -       n       -       -       proxymap"
    echo "showq      unix  n       -       n       -       -       showq"
    echo "error      unix  -       -       n       -       -       error"
    echo "retry      unix  -       -       n       -       -       error"
    echo "discard    unix  -       -       n       -       -       discard"
    echo "anvil      unix  -       -       n       -       1       anvil"
    echo "scache     unix  -       -       n       -       1       scache"
    echo "postlog    unix-dgram n  -       n       -       1       postlogd"
  } > "$P/master.cf"
  cp /etc/postfix/dynamicmaps.cf "$P/" 2>/dev/null || true
  [ -d /etc/postfix/dynamicmaps.cf.d ] && cp -r /etc/postfix/dynamicmaps.cf.d "$P/"
  : > "$TB_DIR/state/mail"

  # Creates the queue sub-directories with the right owners (post-install create-missing).
  postfix -c "$P" check >"$TB_DIR/logs/postfix-check.log" 2>&1 || {
    cat "$TB_DIR/logs/postfix-check.log" >&2; _tb_die "postfix check failed"; return 1; }
  # Dovecot first, so the auth socket exists before the first smtpd asks for it.
  # -F (foreground) as our own background job: its PID is known at once and tb_mail_down reaps it.
  ip netns exec "$TB_SRV_NS" dovecot -F -c "$D/dovecot.conf" </dev/null >>"$TB_DIR/logs/dovecot.stderr" 2>&1 &
  echo $! > "$TB_DIR/state/dovecot.pid"
  local i
  for ((i = 0; i < 100; i++)); do
    [ -S "$Q/private/auth" ] && [ -s "$DB/master.pid" ] && break
    _tb_alive "$(cat "$TB_DIR/state/dovecot.pid")" || break
    sleep 0.1
  done
  [ -S "$Q/private/auth" ] || { _tb_die "dovecot auth socket $Q/private/auth did not appear (see $TB_DIR/logs/dovecot.log)"; return 1; }
  ip netns exec "$TB_SRV_NS" postfix -c "$P" start >>"$TB_DIR/logs/postfix-start.log" 2>&1 || {
    cat "$TB_DIR/logs/postfix-start.log" >&2; _tb_die "postfix failed to start"; return 1; }
  local port ok
  for port in 25 587; do
    ok=0
    for ((i = 0; i < 40; i++)); do
      if _tb_port_open "$port"; then ok=1; break; fi
      sleep 0.25
    done
    [ $ok = 1 ] || { _tb_die "port $port on $TB_SRV_IP does not answer 220 after 10 s (see $TB_DIR/logs/postfix.log)"; return 1; }
  done
  _tb_log "mail up (penalty=$penalty, mode=$mode): postfix master $(cat "$Q/pid/master.pid" 2>/dev/null | tr -d ' '), dovecot master $(cat "$DB/master.pid" 2>/dev/null)"
}

tb_mail_down() {
  [ -n "${TB_DIR:-}" ] && [ -d "$TB_DIR" ] || return 0
  local P=$TB_DIR/conf/postfix Q=$TB_DIR/postfix/spool DB=$TB_DIR/dovecot/run pid kids
  # Postfix: "postfix stop" signals the master (pid file in our own queue dir), which ends its children.
  if [ -s "$Q/pid/master.pid" ]; then
    pid=$(tr -d ' \n' < "$Q/pid/master.pid")
    if [ -n "$pid" ] && _tb_alive "$pid"; then
      kids=$(_tb_children "$pid")
      postfix -c "$P" stop >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
      _tb_wait_gone 15 "$pid" || _tb_stop_pids 5 "$pid"
      # shellcheck disable=SC2086
      _tb_stop_pids 5 $kids
    fi
  fi
  # Dovecot: SIGTERM to the master (PID recorded at start, else its own pid file); then any child that
  # outlived it (e.g. auth).
  pid=''
  [ -s "$TB_DIR/state/dovecot.pid" ] && pid=$(tr -d ' \n' < "$TB_DIR/state/dovecot.pid")
  [ -z "$pid" ] && [ -s "$DB/master.pid" ] && pid=$(tr -d ' \n' < "$DB/master.pid")
  if [ -n "$pid" ]; then
    if [ -n "$pid" ] && _tb_alive "$pid"; then
      kids=$(_tb_children "$pid")
      kill -TERM "$pid" 2>/dev/null || true
      _tb_wait_gone 10 "$pid" || _tb_stop_pids 5 "$pid"
      # shellcheck disable=SC2086
      _tb_stop_pids 5 $kids
    fi
  fi
  rm -f "$TB_DIR/state/mail" "$TB_DIR/state/dovecot.pid"
}

# tb_capture_start IFACE|any FILE [options...]
#   FILE *.pcap: tcpdump -U --immediate-mode -B 32768 -n -Z root -i IFACE -w FILE options... (options = more tcpdump flags and/or a filter)
#   FILE *.pcapng: dumpcap -q -n -B 32 -i IFACE -w FILE options... (filter with -f 'expr')
# The 32 MiB kernel ring (-B): with the default 2 MiB one, `-i any` dropped packets of a 132-packet
# run ("2 packets dropped by kernel") while five builds kept this 2-core machine busy, and the run's
# simultaneous captures differed in packet count. A larger ring lets a capture that is not scheduled
# for a while catch up instead of losing packets (a busy machine makes it slower, not wrong).
# Runs inside the server namespace; returns once the capture is live.
tb_capture_start() {
  [ $# -ge 2 ] || { _tb_die "usage: tb_capture_start IFACE|any FILE [options...]"; return 1; }
  [ -n "${TB_SRV_NS:-}" ] && [ -d "${TB_DIR:-/nonexistent}" ] || { _tb_die "tb_capture_start: call tb_up first"; return 1; }
  local ifc=$1 file=$2 n pid i err ready
  shift 2
  mkdir -p "$(dirname "$file")" && rm -f "$file"
  n=$(($(cat "$TB_DIR/state/capcount" 2>/dev/null || echo 0) + 1))
  echo "$n" > "$TB_DIR/state/capcount"
  err=$TB_DIR/logs/capture.$n.err
  case $file in
    *.pcapng)
      ip netns exec "$TB_SRV_NS" dumpcap -q -n -B 32 -i "$ifc" -w "$file" "$@" </dev/null >/dev/null 2>"$err" &
      pid=$!; ready='Capturing on' ;;
    *)
      ip netns exec "$TB_SRV_NS" tcpdump -U --immediate-mode -B 32768 -n -Z root -i "$ifc" -w "$file" "$@" </dev/null >/dev/null 2>"$err" &
      pid=$!; ready='listening on' ;;
  esac
  echo "$pid $file" > "$TB_DIR/state/cap.$n.pid"
  for ((i = 0; i < 100; i++)); do
    grep -q "$ready" "$err" 2>/dev/null && break
    _tb_alive "$pid" || break
    sleep 0.1
  done
  if ! grep -q "$ready" "$err" 2>/dev/null || ! _tb_alive "$pid"; then
    cat "$err" >&2
    _tb_die "capture on $ifc -> $file did not start"; return 1
  fi
  sleep 0.2   # let the kernel socket settle before traffic starts
}

# _tb_capture_settle FILE...: wait (at most 10 s) until no capture file has grown for 0.6 s. tcpdump and
# dumpcap drop what is still queued in the kernel ring when they get SIGINT, so a busy machine could
# otherwise lose the last packets of a run.
_tb_capture_settle() {
  local i stable=0 now last=''
  for ((i = 0; i < 50; i++)); do
    now=$(stat -c %s "$@" 2>/dev/null | tr '\n' ' ')
    if [ "$now" = "$last" ]; then stable=$((stable + 1)); [ $stable -ge 3 ] && return 0; else stable=0; fi
    last=$now
    sleep 0.2
  done
  return 0
}

# tb_capture_stop [FILE]: wait for the files to stop growing, SIGINT (tcpdump/dumpcap then flush and
# close the file), bounded wait.
tb_capture_stop() {
  [ -d "${TB_DIR:-/nonexistent}/state" ] || return 0
  local f pid file rc=0 files=()
  for f in "$TB_DIR"/state/cap.*.pid; do
    [ -e "$f" ] || continue
    read -r pid file < "$f"
    if [ -n "${1:-}" ] && [ "$file" != "$1" ]; then continue; fi
    _tb_alive "$pid" && files+=("$file")
  done
  [ ${#files[@]} -eq 0 ] || _tb_capture_settle "${files[@]}"
  for f in "$TB_DIR"/state/cap.*.pid; do
    [ -e "$f" ] || continue
    read -r pid file < "$f"
    if [ -n "${1:-}" ] && [ "$file" != "$1" ]; then continue; fi
    if _tb_alive "$pid"; then
      kill -INT "$pid" 2>/dev/null || true
      if ! _tb_wait_gone 10 "$pid"; then
        _tb_log "capture PID $pid ($file) did not stop on SIGINT"; _tb_stop_pids 3 "$pid"; rc=1
      fi
    else
      wait "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
  done
  return $rc
}

# tb_swaks ARGS...: swaks from the client namespace to the server (adds --server 10.200.0.1), bounded by
# timeout (TB_SWAKS_TIMEOUT seconds, default 60). Returns swaks's exit code (28 = auth failed, 124 = timeout).
tb_swaks() {
  ip netns exec "$TB_CLI_NS" timeout "${TB_SWAKS_TIMEOUT:-60}" swaks --server "$TB_SRV_IP" "$@"
}

# tb_script_setup NAME: the preamble of a script that makes captures with this test bed: it must run
# as root; on exit everything is torn down (tb_down), and a failure says that $OUT was left as it was;
# die/say print with NAME as prefix.
tb_script_setup() {
  TB_SCRIPT_NAME=$1
  [ "$(id -u)" = 0 ] || { echo "$1: must run as root (network namespaces, packet capture)" >&2; exit 1; }
  trap _tb_script_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}
_tb_script_exit() {
  local rc=$?
  trap - EXIT INT TERM
  tb_down
  [ $rc = 0 ] || echo "$TB_SCRIPT_NAME: FAILED (exit $rc); ${OUT:-the output} was not changed" >&2
  exit $rc
}
die() { echo "${TB_SCRIPT_NAME:-testbed}: ERROR: $*" >&2; exit 1; }
say() { echo "${TB_SCRIPT_NAME:-testbed}: $*" >&2; }

# tb_parse_transcript FILE -> "p535 p235 p454 t535 t235 t454 opaque cleartext_auth codes"
# swaks prefixes: sent ' ->' (' ~>' inside TLS, '**>'/'*~>' errors), received '<- ' ('<~ ' inside TLS,
# '<**'/'<~*' for replies it treats as errors); the reply code starts in column 5. The reply that ends an
# AUTH exchange is the first final reply line (code + space) after the AUTH command that is not 334.
tb_parse_transcript() {
  awk '
    BEGIN { inauth = 0; instls = 0; clear = 0; opaque = 0; codes = "" }
    /^( ->| ~>|\*\*>|\*~>) / {
      tls = (substr($0, 1, 3) ~ /~/); cmd = toupper(substr($0, 5))
      if (cmd ~ /^AUTH /) { inauth = 1; if (!tls) clear = 1 }
      else if (cmd ~ /^STARTTLS/) instls = 1
      next
    }
    /^<(- |~ |\*\*|~\*) [0-9][0-9][0-9]( |$)/ {
      tls = (substr($0, 1, 3) ~ /~/); code = substr($0, 5, 3)
      if (inauth && code != "334") { k = (tls ? "t" : "p") code; n[k]++; inauth = 0; codes = codes (codes == "" ? "" : ",") k }
      if (instls) { if (code == "220") opaque++; instls = 0 }
    }
    END { printf "%d %d %d %d %d %d %d %d %s\n", n["p535"], n["p235"], n["p454"], n["t535"], n["t235"], n["t454"], opaque, clear, (codes == "" ? "-" : codes) }
  ' "$1"
}

tb_down() {
  local d=${TB_DIR:-} ns f pid pids
  if [ -n "$d" ] && [ -d "$d/state" ]; then
    tb_capture_stop || true
    tb_mail_down || true
  fi
  # Last resort, still by PID: whatever is still running inside OUR namespaces.
  for ns in ${TB_SRV_NS:-} ${TB_CLI_NS:-}; do
    _tb_ns_exists "$ns" || continue
    pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
    if [ -n "${pids// /}" ]; then
      _tb_log "stopping leftover PIDs in $ns: $pids"
      # shellcheck disable=SC2086
      _tb_stop_pids 5 $pids
    fi
    ip netns del "$ns" 2>/dev/null || _tb_log "could not delete namespace $ns"
  done
  if [ -n "$d" ] && [ -d "$d" ]; then
    if [ "${TB_KEEP:-0}" = 1 ]; then
      rm -rf "$d/postfix" "$d/dovecot" "$d/state"
      _tb_log "kept logs and transcripts in $d"
    else
      rm -rf "$d"
    fi
  fi
  return 0
}
