#!/usr/bin/env bash
# Installs the Debian packages smtpstrike's tests, test bed and benchmark need, only when missing.
# Idempotent; run as root (CI does). Usage: scripts/install-deps.sh [core|testbed|bench|accounts|report|journal|crowdsec|fleet|clock|all]
set -euo pipefail
what=${1:-all}
# libpcap-dev, python3, make, g++: to build the optional native module `cap` (npm rebuild cap); tcpdump: the default live backend
core=(libpcap-dev tcpdump python3 make g++)
testbed=(postfix dovecot-core swaks nftables ipset iptables iproute2 openssl libnet-ssleay-perl procps tshark)
bench=(tshark time nftables ipset iptables iproute2 tcpreplay)
# `smtpstrike accounts`: the GeoIP fixture writer (scripts/make-geoip-fixtures.pl) and the compressors
# that make/inspect the compressed log fixtures (test/fixtures/accounts/compressed)
accounts=(libmaxmind-db-writer-perl bzip2 xz-utils zstd)
# watch --journal: a real journal file for test/log-journal.test.ts (systemd-journal-remote writes one, journalctl reads it)
journal=(systemd-journal-remote)
# `smtpstrike report --html`: the page is checked in headless Chromium (test/report-html.test.ts)
report=(chromium)
# fleet CrowdSec client (src/fleet/crowdsec-*.ts): test/crowdsec-lapi.test.ts starts the package's own
# `crowdsec` binary (LAPI only) and `cscli` in a temporary directory; the package's service is not used
crowdsec=(crowdsec)
# watch --fleet (issue 13): test/fleet-redis.test.ts and bench/fleet.ts start a real redis-server on a loopback port
fleet=(redis-server)
# scripts/test-clock.sh: the suite on a faked date (libfaketime); not part of `all`, CI runs on the real clock
clock=(faketime)
case "$what" in
  core) want=("${core[@]}") ;;
  testbed) want=("${core[@]}" "${testbed[@]}") ;;
  bench) want=("${core[@]}" "${bench[@]}") ;;
  accounts) want=("${accounts[@]}") ;;
  report) want=("${report[@]}") ;;
  clock) want=("${clock[@]}") ;;
  journal) want=("${journal[@]}") ;;
  crowdsec) want=("${crowdsec[@]}") ;;
  fleet) want=("${fleet[@]}") ;;
  all) want=("${core[@]}" "${testbed[@]}" "${bench[@]}" "${accounts[@]}" "${report[@]}" "${journal[@]}" "${crowdsec[@]}" "${fleet[@]}") ;;
  *) echo "usage: $0 [core|testbed|bench|accounts|report|journal|crowdsec|fleet|clock|all]" >&2; exit 2 ;;
esac
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "install-deps: missing Debian packages: ${missing[*]} (run this script as root, or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# postfix asks debconf questions; answer "No configuration": the test bed writes its own config dir.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
# crowdsec's postinst registers to the online Central API unless this file exists with content
# (README.Debian's documented opt-out); with no network the registration fails and so would the install.
# The file is only written when it is missing or empty, so an admin's own credentials are never touched.
if [[ " ${missing[*]} " == *" crowdsec "* ]] && [ ! -s /etc/crowdsec/online_api_credentials.yaml ]; then
  mkdir -p /etc/crowdsec
  echo "# no thanks: smtpstrike's tests run their own LAPI, no CAPI (scripts/install-deps.sh)" > /etc/crowdsec/online_api_credentials.yaml
fi
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
