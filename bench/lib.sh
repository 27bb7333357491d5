# Sourced by wrk.sh, revocation.sh and soak.sh: a temporary directory that
# is removed on exit, with the example server (started by the script into
# $server_pid) stopped first, and wait_for_server, which waits for it to
# listen. The sourcing script defines die.

tmp=$(mktemp -d)
server_pid=
cleanup() {
	if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for_server sets addr to the 127.0.0.1:PORT the server logs in
# $tmp/server.log ("listening addr=http://…") once it accepts, within 30 s,
# and base to its URL. It refuses any other address.
wait_for_server() {
	addr=
	for _ in $(seq 1 300); do
		addr=$(sed -n 's/.*msg=listening addr=http:\/\/\(127\.0\.0\.1:[0-9]*\).*/\1/p' "$tmp/server.log" | head -n 1)
		[ -n "$addr" ] && break
		kill -0 "$server_pid" 2>/dev/null || { cat "$tmp/server.log" >&2; die "the server exited"; }
		sleep 0.1
	done
	[ -n "$addr" ] || { cat "$tmp/server.log" >&2; die "the server did not start in 30 s"; }
	case $addr in 127.0.0.1:*) ;; *) die "refusing non-loopback address $addr" ;; esac
	base="http://$addr"
}
