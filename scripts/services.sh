#!/usr/bin/env bash
# Makes sure Postgres (127.0.0.1:5432) and Redis (127.0.0.1:6379) answer:
# uses running ones, starts installed-but-stopped ones, installs missing ones
# with apt. Then creates the holdfast and holdfast_test databases.
set -euo pipefail

PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PGUSER=${PGUSER:-postgres}
export PGHOST PGPORT PGUSER

say() { printf 'services: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  for _ in $(seq 1 60); do port_open "$1" && return 0; sleep 0.5; done
  return 1
}

ensure_postgres() {
  if port_open "$PGPORT"; then return; fi
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    say "installing PostgreSQL"
    apt_install postgresql postgresql-contrib
  fi
  local version
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)
  if [ -z "$version" ]; then say "no PostgreSQL cluster found under /etc/postgresql"; exit 1; fi
  say "starting PostgreSQL $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_port "$PGPORT" || { say "PostgreSQL did not come up on $PGPORT"; exit 1; }
}

ensure_redis() {
  if port_open 6379; then return; fi
  if ! command -v redis-server >/dev/null 2>&1; then
    say "installing Redis"
    apt_install redis-server
  fi
  say "starting Redis"
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/holdfast.log
  wait_port 6379 || { say "Redis did not come up on 6379"; exit 1; }
}

psql_admin() {
  # Debian's cluster trusts local connections; elsewhere fall back to the postgres OS user.
  if psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@" 2>/dev/null; then return 0; fi
  as_root -u postgres psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"
}

ensure_database() {
  local db=$1
  if [ "$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]; then
    say "creating database $db"
    psql_admin -c "CREATE DATABASE $db" || true
  fi
}

command -v psql >/dev/null 2>&1 || apt_install postgresql-client
ensure_postgres
ensure_redis
ensure_database holdfast
ensure_database holdfast_test
say "postgres on $PGHOST:$PGPORT and redis on 127.0.0.1:6379 are up"
