#!/usr/bin/env bash
# Mixed load on examples/server for a while (default 10 minutes), run
# outside CI: logins, token requests, HTTP Basic, logouts and refused
# tokens, each checked against the status it must get, with the server's
# RSS sampled every 10 s.
#
#   bash soak.sh              # 10 minutes
#   bash soak.sh -d 1m        # a shorter run
#
# It builds the server from the root module, starts it on 127.0.0.1 (a port
# the kernel picks) in a fresh temporary directory with a fixed AUTH_SECRET
# and its defaults, and runs `scale soak`, which prints the counts by kind
# and status, the number of unexpected statuses and of 5xx, and RSS at the
# start, peak and end; it exits non-zero on any unexpected status.
set -euo pipefail

duration=10m
while getopts 'd:h' opt; do
	case $opt in
	d) duration=$OPTARG ;;
	*)
		awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
		[ "$opt" = h ] && exit 0 || exit 2
		;;
	esac
done

bench=$(cd "$(dirname "$0")" && pwd)
root=${WRK_ROOT:-$(dirname "$bench")}
die() { echo "soak.sh: $*" >&2; exit 1; }
# shellcheck source=lib.sh
. "$bench/lib.sh"

echo "soak.sh: building examples/server and scale" >&2
(cd "$root" && go build -o "$tmp/server" ./examples/server)
(cd "$bench" && go build -o "$tmp/scale" ./scale)
(cd "$tmp" && AUTH_SECRET='soak-benchmark-secret-0123456789abcdef' exec "$tmp/server" -addr 127.0.0.1:0 -db "$tmp/auth.db") 2>"$tmp/server.log" &
server_pid=$!
wait_for_server
echo "soak.sh: $duration of mixed load on $base (server pid $server_pid)" >&2
"$tmp/scale" soak -url "$base" -duration "$duration" -pid "$server_pid"
if grep -q 'level=ERROR' "$tmp/server.log"; then
	grep 'level=ERROR' "$tmp/server.log" | head -n 5 >&2
	die "the server logged errors"
fi
