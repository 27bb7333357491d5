#!/usr/bin/env bash
# Loopback HTTP throughput of the example server (examples/server), with wrk.
#
#   bash wrk.sh                 # 10 s per endpoint, 2 threads, 32 connections
#   bash wrk.sh -d 3s -c 16     # shorter, fewer connections
#
# It builds the server from the root module, starts it on 127.0.0.1 (a port
# the kernel picks) in a fresh temporary directory with a fixed AUTH_SECRET,
# logs in as test@example.com to get a token, and runs wrk against
# /public/ (no authentication) and /dummy-api/ (token in the
# Authentication-Token header). It records requests/s, latency, non-2xx
# responses (which must be 0) and the server's resident memory before and
# after each run, prints a markdown table and writes it to wrk.md, which
# `go run ./cmd/report` copies into BENCHMARKS.md. The server is stopped on
# exit. Only loopback addresses are used.
#
# Options (or environment): -d WRK_DURATION (10s), -t WRK_THREADS (2),
# -c WRK_CONNECTIONS (32), -o WRK_OUT (wrk.md, relative to bench/);
# -r WRK_ROUNDS (1): rounds, each running every path once in turn, so that
# the paths share the machine's noise; the table then ends with each
# path's median and its ratio to /public/'s;
# -p (WRK_PIN=1): pin the server to CPU 0 and wrk to CPU 1 (taskset);
# -u WRK_USERS (0): also add that many users to the database (bench/scale
# seed) and run /dummy-api/ with their tokens in rotation, beside the
# single user's token;
# -f WRK_FLOOD (0): also run /dummy-api/ (token) while that many connections
# flood POST /login with wrong passwords for unknown emails, each from
# an address of its own (198.18.0.0/15 in X-Forwarded-For, which the server
# trusts from 127.0.0.1 with AUTH_TRUSTED_PROXIES), so that the throttle
# refuses none and every one costs a password check; the flood starts 1 s
# before the measured run and ends 1 s after it, and the table adds its row
# (status counts) and each path's idle and flooded figures side by side.
# The server takes its other settings from the environment
# (AUTH_HASH_CONCURRENCY=-1 turns the hashing pool off, for comparison);
# WRK_ROOT is the repository to build the server from (default: bench/..).
# Needs go, curl and wrk; wrk (Debian package "wrk") is installed with
# apt-get when missing and running as root.
set -euo pipefail

duration=${WRK_DURATION:-10s}
threads=${WRK_THREADS:-2}
connections=${WRK_CONNECTIONS:-32}
out=${WRK_OUT:-wrk.md}
rounds=${WRK_ROUNDS:-1}
pin=${WRK_PIN:-0}
users=${WRK_USERS:-0}
flood=${WRK_FLOOD:-0}
while getopts 'd:t:c:o:r:pu:f:h' opt; do
	case $opt in
	d) duration=$OPTARG ;;
	t) threads=$OPTARG ;;
	c) connections=$OPTARG ;;
	o) out=$OPTARG ;;
	r) rounds=$OPTARG ;;
	p) pin=1 ;;
	u) users=$OPTARG ;;
	f) flood=$OPTARG ;;
	*)
		awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
		[ "$opt" = h ] && exit 0 || exit 2
		;;
	esac
done

bench=$(cd "$(dirname "$0")" && pwd)
root=${WRK_ROOT:-$(dirname "$bench")}
secret='wrk-benchmark-secret-0123456789abcdef'
# A bound on each wrk run: its duration plus a margin.
case $duration in
*ms) limit=30 ;;
*s) limit=$((${duration%s} + 30)) ;;
*m) limit=$((${duration%m} * 60 + 30)) ;;
*) limit=$((duration + 30)) ;;
esac

die() { echo "wrk.sh: $*" >&2; exit 1; }

if ! command -v wrk >/dev/null; then
	[ "$(id -u)" = 0 ] || die "wrk is not installed (apt-get install wrk)"
	echo "wrk.sh: installing wrk" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q --no-install-recommends wrk </dev/null >&2 ||
		{ apt-get update -q </dev/null >&2 && apt-get install -y -q --no-install-recommends wrk </dev/null >&2; }
fi
command -v curl >/dev/null || die "curl is not installed"

# shellcheck source=lib.sh
. "$bench/lib.sh"

echo "wrk.sh: building examples/server" >&2
(cd "$root" && go build -o "$tmp/server" ./examples/server)
server_cpu=() wrk_cpu=()
if [ "$pin" = 1 ]; then
	command -v taskset >/dev/null || die "taskset is not installed (util-linux)"
	server_cpu=(taskset -c 0) wrk_cpu=(taskset -c 1)
fi

# The server takes -db (a SQLite file, default auth.db in the current
# directory) once it stores users in SQLite; give it a fresh one if so.
args=(-addr 127.0.0.1:0)
help=$("$tmp/server" -h 2>&1 || true)
if grep -q -- '^ *-db' <<<"$help"; then
	args+=(-db "$tmp/auth.db")
fi
trusted=
[ "$flood" -gt 0 ] && trusted=127.0.0.1/32
(cd "$tmp" && AUTH_SECRET=$secret AUTH_TRUSTED_PROXIES=$trusted exec "${server_cpu[@]}" "$tmp/server" "${args[@]}") 2>"$tmp/server.log" &
server_pid=$!

wait_for_server
echo "wrk.sh: server pid $server_pid on $base (${args[*]//$tmp/<tmp>})" >&2

login=$(curl -sS --max-time 10 -H 'Content-Type: application/json' \
	-d '{"email":"test@example.com","password":"test123"}' "$base/login")
token=$(printf '%s' "$login" | sed -n 's/.*"authentication_token":"\([^"]*\)".*/\1/p')
[ -n "$token" ] || die "login failed: $login"

status() { curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "$@"; }
[ "$(status "$base/public/")" = 200 ] || die "/public/ does not answer 200"
[ "$(status -H "Authentication-Token: $token" "$base/dummy-api/")" = 200 ] || die "/dummy-api/ rejects the token"
[ "$(status "$base/dummy-api/")" = 401 ] || die "/dummy-api/ does not require a token"

if [ "$users" -gt 0 ]; then
	echo "wrk.sh: adding $users users" >&2
	(cd "$bench" && go build -o "$tmp/scale" ./scale)
	AUTH_SECRET=$secret "$tmp/scale" seed -db "$tmp/auth.db" -users "$users" -tokens "$tmp/tokens.txt"
	[ "$(status -H "Authentication-Token: $(head -n 1 "$tmp/tokens.txt")" "$base/dummy-api/")" = 200 ] ||
		die "/dummy-api/ rejects the added users' tokens"
fi

rss() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$server_pid/status"; }

# The script adds the token header (when WRK_TOKEN is set), counts non-2xx
# responses in every thread, and prints the results as key-value lines.
cat >"$tmp/report.lua" <<'LUA'
local token = os.getenv("WRK_TOKEN")
if token and token ~= "" then
  wrk.headers["Authentication-Token"] = token
end
-- WRK_TOKENS names a file of tokens, one per line, used in rotation; each
-- thread starts at a place of its own.
local tokens_file = os.getenv("WRK_TOKENS")
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  non2xx = 0
  if tokens_file and tokens_file ~= "" then
    tokens = {}
    for line in io.lines(tokens_file) do
      tokens[#tokens + 1] = line
    end
    next_token = (id * 7919) % #tokens + 1
    request = function()
      local t = tokens[next_token]
      next_token = next_token % #tokens + 1
      return wrk.format(nil, nil, { ["Authentication-Token"] = t })
    end
  end
end
function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end
function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do
    n = n + t:get("non2xx")
  end
  local e = summary.errors
  io.write(string.format("result requests %d\n", summary.requests))
  io.write(string.format("result rps %.0f\n", summary.requests / summary.duration * 1e6))
  io.write(string.format("result p50 %.2f\n", latency:percentile(50) / 1000))
  io.write(string.format("result p99 %.2f\n", latency:percentile(99) / 1000))
  io.write(string.format("result non2xx %d\n", n))
  io.write(string.format("result socket %d\n", e.connect + e.read + e.write + e.timeout))
end
LUA

# The flood: POST /login, a new unknown email and a random address of
# 198.18.0.0/15 (for benchmarks, RFC 2544) in every request; it counts the
# statuses.
cat >"$tmp/flood.lua" <<'LUA'
wrk.method = "POST"
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  n, s400, s503, s429, other = 0, 0, 0, 0, 0
  math.randomseed(os.time() + id * 7919)
end
function request()
  n = n + 1
  local ip = string.format("198.%d.%d.%d", 18 + math.random(0, 1), math.random(0, 255), math.random(1, 254))
  local body = string.format('{"email":"flood-%d-%d-%d@example.com","password":"wrong-password"}', id, n, math.random(0, 1e9))
  return wrk.format(nil, nil, { ["Content-Type"] = "application/json", ["X-Forwarded-For"] = ip }, body)
end
function response(status, headers, body)
  if status == 400 then s400 = s400 + 1
  elseif status == 503 then s503 = s503 + 1
  elseif status == 429 then s429 = s429 + 1
  else other = other + 1 end
end
function done(summary, latency, requests)
  local c = { s400 = 0, s503 = 0, s429 = 0, other = 0 }
  for _, t in ipairs(threads) do
    for k in pairs(c) do c[k] = c[k] + t:get(k) end
  end
  io.write(string.format("result requests %d\n", summary.requests))
  io.write(string.format("result rps %.0f\n", summary.requests / summary.duration * 1e6))
  io.write(string.format("result p50 %.2f\n", latency:percentile(50) / 1000))
  io.write(string.format("result p99 %.2f\n", latency:percentile(99) / 1000))
  io.write(string.format("result statuses 400:%d,503:%d,429:%d,other:%d\n", c.s400, c.s503, c.s429, c.other))
  io.write(string.format("result socket %d\n", summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA

rows=()
failed=0
idle=$(rss)
wrkrun() { # seconds tokens-file token wrk-args...: wrk with the report script, bounded
	local secs=$1 file=$2 tok=$3
	shift 3
	WRK_TOKENS=$file WRK_TOKEN=$tok timeout "$secs" "${wrk_cpu[@]}" wrk -t"$threads" -c"$connections" -s "$tmp/report.lua" "$@"
}
warm() { # path token [tokens-file]: an unrecorded run, so that the measured runs start warm
	echo "wrk.sh: warming up $1" >&2
	wrkrun 60 "${3:-}" "$2" -d2s "$base$1" >/dev/null || die "wrk failed on $1"
}
declare -A rps_of
run() { # name path token [tokens-file]
	local name=$1 path=$2 tok=$3 file=${4:-} before after log
	before=$(rss)
	log="$tmp/wrk-$name.log"
	echo "wrk.sh: wrk -t$threads -c$connections -d$duration $base$path ($name${round:+, round $round})" >&2
	wrkrun "$limit" "$file" "$tok" -d"$duration" "$base$path" >"$log" ||
		die "wrk failed on $path: $(cat "$log")"
	after=$(rss)
	get() { awk -v k="$1" '$1 == "result" && $2 == k { print $3 }' "$log"; }
	local rps requests p50 p99 non2xx socket
	rps=$(get rps) requests=$(get requests) p50=$(get p50) p99=$(get p99) non2xx=$(get non2xx) socket=$(get socket)
	[ -n "$rps" ] || die "no results from wrk on $path: $(cat "$log")"
	if [ "$non2xx" != 0 ] || [ "$socket" != 0 ]; then failed=1; fi
	rows+=("| \`$path\` | $name${round:+ (round $round)} | $rps | $requests | $p50 | $p99 | $non2xx | $socket | $before → $after |")
	rps_of[$name]="${rps_of[$name]:-} $rps"
	p99_of[$name]="${p99_of[$name]:-} $p99"
}
declare -A p99_of
flooded() { # name path token: run name+flood while the flood runs
	local secs flog=$tmp/flood.log
	case $duration in *s) secs=$((${duration%s} + 2)) ;; *m) secs=$((${duration%m} * 60 + 2)) ;; *) secs=$((duration + 2)) ;; esac
	echo "wrk.sh: flooding POST $base/login with $flood connections for ${secs}s" >&2
	timeout "$((secs + 30))" "${wrk_cpu[@]}" wrk -t1 -c"$flood" -d"${secs}s" -s "$tmp/flood.lua" "$base/login" >"$flog" &
	local flood_pid=$!
	sleep 1
	run "$1+flood" "$2" "$3"
	wait "$flood_pid" || die "wrk failed on the flood: $(cat "$flog")"
	fget() { awk -v k="$1" '$1 == "result" && $2 == k { print $3 }' "$flog"; }
	rows+=("| \`POST /login\` | flood, $flood connections${round:+ (round $round)} | $(fget rps) | $(fget requests) | $(fget p50) | $(fget p99) | $(fget statuses) | $(fget socket) | |")
}
median() { tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

warm /public/ ""
warm /dummy-api/ "$token"
names=(none token)
[ "$users" -gt 0 ] && { warm /dummy-api/ "" "$tmp/tokens.txt"; names+=("$users-users"); }
round=
for r in $(seq 1 "$rounds"); do
	[ "$rounds" -gt 1 ] && round=$r
	run none /public/ ""
	run token /dummy-api/ "$token"
	[ "$users" -gt 0 ] && run "$users-users" /dummy-api/ "" "$tmp/tokens.txt"
	[ "$flood" -gt 0 ] && flooded token /dummy-api/ "$token"
done
[ "$flood" -gt 0 ] && names+=("token+flood")
summary=()
if [ "$flood" -gt 0 ]; then
	ri=$(median <<<"${rps_of[token]}") rf=$(median <<<"${rps_of[token+flood]}")
	summary+=("/dummy-api/ idle vs flooded ($flood connections on POST /login): median $ri vs $rf requests/s ($(awk -v a="$rf" -v b="$ri" 'BEGIN { printf "%.2f", a / b }') of idle), p99 ms $(tr ' ' '\n' <<<"${p99_of[token]}" | sed '/^$/d' | paste -sd/) vs $(tr ' ' '\n' <<<"${p99_of[token+flood]}" | sed '/^$/d' | paste -sd/) over $rounds round(s)")
fi
if [ "$rounds" -gt 1 ]; then
	base_rps=$(median <<<"${rps_of[none]}")
	for name in "${names[@]}"; do
		m=$(median <<<"${rps_of[$name]}")
		summary+=("$name: median $m requests/s over $rounds rounds ($(awk -v a="$m" -v b="$base_rps" 'BEGIN { printf "%.2f", a / b }') of /public/'s)")
	done
fi

cpu=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -n 1 | tr -s ' ')
{
	echo "examples/server on $base, measured $(date -u +%Y-%m-%d) on ${cpu:-an unknown CPU} ($(nproc) cores) with $(go env GOVERSION) and wrk $(wrk --version 2>&1 | awk 'NR == 1 { print $2 }'): $threads threads, $connections connections, $duration per endpoint, $([ "$pin" = 1 ] && echo "server on CPU 0 and wrk on CPU 1" || echo "client and server on the same cores")$([ "$users" -gt 0 ] && echo ", $users added users' tokens in rotation on the $users-users rows")$([ "$flood" -gt 0 ] && echo ", the +flood rows measured while $flood connections flood POST /login (wrong passwords, unknown emails, one address each; AUTH_HASH_CONCURRENCY=${AUTH_HASH_CONCURRENCY:-default})"). The server runs with a fixed AUTH_SECRET in a fresh temporary directory (${args[*]//$tmp/<tmp>}). RSS is the server's VmRSS in MiB before and after each run ($idle MiB idle after login, before a 2 s unrecorded warm-up of each path). Regenerate with \`bash wrk.sh\` in bench/, then \`go run ./cmd/report -in results.txt\`."
	echo
	echo "| path | auth | requests/s | requests | p50 ms | p99 ms | non-2xx | socket errors | RSS MiB |"
	echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
	printf '%s\n' "${rows[@]}"
	if [ ${#summary[@]} -gt 0 ]; then
		echo
		printf -- '- %s\n' "${summary[@]}"
	fi
} >"$tmp/table.md"

case $out in /*) ;; *) out="$bench/$out" ;; esac
cp "$tmp/table.md" "$out"
cat "$tmp/table.md"
echo "wrk.sh: wrote $out" >&2
[ "$failed" = 0 ] || die "some responses were not 2xx, or sockets failed"
