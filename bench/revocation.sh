#!/usr/bin/env bash
# How long examples/server goes on accepting a token after `authctl tokens
# revoke` in another process returned, with the server's defaults (the
# verified-user cache on, SQLite).
#
#   bash revocation.sh            # 20 trials
#   bash revocation.sh -n 5       # 5 trials
#
# It builds the server and authctl from the root module, starts the server
# on 127.0.0.1 (a port the kernel picks) in a fresh temporary directory with
# a fixed AUTH_SECRET, and runs `go run ./scale revocation` against it,
# which prints each trial and the distribution. The server is stopped on
# exit. WRK_ROOT is the repository to build from (default: bench/..).
set -euo pipefail

trials=20
while getopts 'n:h' opt; do
	case $opt in
	n) trials=$OPTARG ;;
	*)
		awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
		[ "$opt" = h ] && exit 0 || exit 2
		;;
	esac
done

bench=$(cd "$(dirname "$0")" && pwd)
root=${WRK_ROOT:-$(dirname "$bench")}
die() { echo "revocation.sh: $*" >&2; exit 1; }

# shellcheck source=lib.sh
. "$bench/lib.sh"

echo "revocation.sh: building examples/server, authctl and scale" >&2
(cd "$root" && go build -o "$tmp/server" ./examples/server && go build -o "$tmp/authctl" ./cmd/authctl)
(cd "$bench" && go build -o "$tmp/scale" ./scale)

export AUTH_SECRET='revocation-benchmark-secret-0123456789'
(cd "$tmp" && exec "$tmp/server" -addr 127.0.0.1:0 -db "$tmp/auth.db") 2>"$tmp/server.log" &
server_pid=$!
wait_for_server
"$tmp/scale" revocation -url "$base" -db "$tmp/auth.db" -authctl "$tmp/authctl" -trials "$trials"
