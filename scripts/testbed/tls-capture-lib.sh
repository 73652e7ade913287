# Shared by make-tls-captures.sh (Postfix) and make-exim-tls-captures.sh (Exim), sourced after lib.sh:
# the capture and session steps of a TLS capture run. The caller sets STAGE, TRANS, FILTER, CLIENT
# (scripts/testbed/tls-client.py) and SERVER_LOG (the server's log, whose new lines the truth is
# cross-checked against), and defines say and die.
CAP=''
NSESS=0
LOG0=0
U64=$(printf 'u%.0s' {1..63})x   # a 64-character username
capture() {   # capture NAME: start one capture (and its server log segment)
  CAP=$1; NSESS=0
  mkdir -p "$TRANS/$CAP"
  LOG0=$(wc -l < "$SERVER_LOG")
  tb_capture_start "$TB_SRV_IF" "$STAGE/$CAP.pcap" "$FILTER"
  say "capture $CAP"
}
# session IP PORT EXPECT CLIENT-ARGS...: one STARTTLS session; EXPECT = regex for the outcomes, e.g. '535,235'
session() {
  local ip=$1 port=$2 expect=$3 f got
  shift 3
  NSESS=$((NSESS + 1))
  f=$TRANS/$CAP/$(printf '%02d' $NSESS)-$ip.jsonl
  tb_cli timeout 60 python3 "$CLIENT" --server "$TB_SRV_IP" --port "$port" --src "$ip" "$@" > "$f" ||
    { cat "$f" >&2; die "$CAP session $NSESS from $ip failed"; }
  got=$(tail -n 1 "$f" | python3 -c 'import json,sys; s=json.load(sys.stdin)["summary"]; print(",".join(map(str, s["outcomes"])), s["tls_version"], s["cipher"], "etm" if s.get("etm") else "")')
  [[ ${got%% *} =~ ^($expect)$ ]] || die "$CAP session $NSESS from $ip: outcomes ${got%% *}, expected $expect"
  say "  $ip:$port ${got#* }: ${got%% *}"
}
