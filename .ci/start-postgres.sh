#!/usr/bin/env bash
# start-postgres.sh installs (if needed) and starts a local PostgreSQL server
# for the sqlstore tests, creates the role and database they use, waits until
# the server accepts connections and prints one line on stdout:
#
#	export AUTH_TEST_POSTGRES_DSN=postgres://authtest:authtest@127.0.0.1:PORT/authtest?sslmode=disable
#
# so that a caller can run
#
#	eval "$(bash .ci/start-postgres.sh)"
#	go test ./sqlstore/...
#
# Everything else goes to stderr. It is meant for a Debian or Ubuntu machine
# (CI or a developer's), runs as root or through sudo, needs no standard input
# and is idempotent: running it again when PostgreSQL is installed and running
# only re-checks the role and database and prints the line again.
set -euo pipefail

setup() {
	db_user=authtest
	db_password=authtest
	db_name=authtest

	log() { printf 'start-postgres: %s\n' "$*" >&2; }

	sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		if ! command -v sudo >/dev/null; then
			log "must run as root (or with sudo available)"
			exit 1
		fi
		sudo=(sudo -n)
	fi

	installed_version() {
		# The newest installed server version, e.g. "15", or nothing.
		local d
		for d in /usr/lib/postgresql/*/bin/postgres; do
			[ -x "$d" ] || continue
			basename "$(dirname "$(dirname "$d")")"
		done | sort -V | tail -n 1
	}

	version=$(installed_version)
	if [ -z "$version" ] || ! command -v pg_ctlcluster >/dev/null; then
		export DEBIAN_FRONTEND=noninteractive
		log "installing postgresql"
		# Update the package lists only when the install cannot proceed without it.
		if ! "${sudo[@]}" apt-get install -y -q --no-install-recommends postgresql </dev/null; then
			log "install failed; running apt-get update and retrying"
			"${sudo[@]}" apt-get update -q </dev/null
			"${sudo[@]}" apt-get install -y -q --no-install-recommends postgresql </dev/null
		fi
		version=$(installed_version)
		if [ -z "$version" ]; then
			log "postgresql was installed but no server binary was found under /usr/lib/postgresql"
			exit 1
		fi
	fi
	log "using PostgreSQL $version"

	cluster=main
	if ! "${sudo[@]}" pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c { found = 1 } END { exit !found }'; then
		log "creating cluster $version/$cluster"
		"${sudo[@]}" pg_createcluster "$version" "$cluster" </dev/null
	fi

	port=$("${sudo[@]}" pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c { print $3 }')
	status=$("${sudo[@]}" pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c { print $4 }')
	if [ "$status" != online ]; then
		log "starting cluster $version/$cluster on port $port"
		"${sudo[@]}" pg_ctlcluster "$version" "$cluster" start </dev/null
	fi

	log "waiting for the server to accept connections"
	for _ in $(seq 1 60); do
		if pg_isready -q -h 127.0.0.1 -p "$port"; then
			break
		fi
		sleep 1
	done
	if ! pg_isready -h 127.0.0.1 -p "$port"; then
		log "server on 127.0.0.1:$port did not become ready; see /var/log/postgresql/postgresql-$version-$cluster.log"
		exit 1
	fi

	# psql as the postgres superuser, over the local socket.
	as_postgres() {
		(cd / && "${sudo[@]}" runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$port" "$@" </dev/null)
	}

	if [ "$(as_postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$db_user'")" != 1 ]; then
		log "creating role $db_user"
		as_postgres -c "CREATE ROLE $db_user LOGIN PASSWORD '$db_password'"
	else
		as_postgres -c "ALTER ROLE $db_user LOGIN PASSWORD '$db_password'"
	fi
	if [ "$(as_postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db_name'")" != 1 ]; then
		log "creating database $db_name"
		as_postgres -c "CREATE DATABASE $db_name OWNER $db_user"
	fi

	dsn="postgres://$db_user:$db_password@127.0.0.1:$port/$db_name?sslmode=disable"
	if ! PGCONNECT_TIMEOUT=5 psql -X -q "$dsn" -tAc 'SELECT 1' </dev/null >/dev/null; then
		log "cannot log in with $dsn"
		exit 1
	fi
	log "ready: $dsn"
}

# Everything setup runs writes to stderr. Its commands never see this
# script's stdout: a server started here outlives the script, and if it held
# the caller's "$(…)" pipe open, the caller would wait for it forever.
dsn=
setup >&2
printf 'export AUTH_TEST_POSTGRES_DSN=%s\n' "$dsn"
