#!/usr/bin/env bash
# Prints tshark's view of every crafted capture, for eyeballing against the *.truth.json files
# (tshark is expected to differ where a truth's notes say so):
#   frames   packets tshark read
#   535/235/454  frames carrying that SMTP response code, default preferences
#   535ooo   frames with 535 when TCP out-of-order reassembly is on (tcp.reassemble_out_of_order)
#   users    client=username pairs from tshark's SMTP AUTH decoding (smtp.decryption on)
#   messages tshark's read errors, if any
# Usage: pcaps/crafted/check-tshark.sh [file...]   (default: every capture in this directory)
set -uo pipefail
if [ $# -gt 0 ]; then files=("$@"); else cd "$(dirname "$0")" && files=(*.pcap *.pcapng *.pcap.gz); fi
ooo=(-o tcp.reassemble_out_of_order:TRUE)
printf '%-28s %6s %4s %6s %4s %4s  %-40s %s\n' file frames 535 535ooo 235 454 users messages
for f in "${files[@]}"; do
  case "$f" in *.pcap|*.pcapng|*.pcap.gz) ;; *) continue ;; esac
  err=$(tshark -r "$f" -T fields -e frame.number 2>&1 >/dev/null | grep -v 'Running as user' | tr '\n' ' ')
  frames=$(tshark -r "$f" -T fields -e frame.number 2>/dev/null | wc -l)
  codes=$(tshark -r "$f" -Y smtp.response.code -T fields -e smtp.response.code 2>/dev/null)
  c535=$(grep -c '535' <<<"$codes")
  c235=$(grep -c '235' <<<"$codes")
  c454=$(grep -c '454' <<<"$codes")
  o535=$(tshark "${ooo[@]}" -r "$f" -Y 'smtp.response.code==535' -T fields -e frame.number 2>/dev/null | wc -l)
  users=$(tshark "${ooo[@]}" -o smtp.decryption:TRUE -r "$f" -Y smtp.auth.username -T fields -e ip.src -e ipv6.src -e smtp.auth.username 2>/dev/null \
    | awk -F"\t" '{print $1 $2 "=" $3}' | sort -u | tr '\n' ' ')
  printf '%-28s %6s %4s %6s %4s %4s  %-40s %s\n' "$f" "$frames" "$c535" "$o535" "$c235" "$c454" "${users:--}" "$err"
done
