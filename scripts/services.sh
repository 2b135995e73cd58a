#!/usr/bin/env bash
# A throwaway PostgreSQL 15 and Redis for the tests that need them, started for real without Docker
# (Debian packages postgresql-15 and redis-server). Each listens on 127.0.0.1 on a free port, keeps
# its files under DIR and is gone after `stop`.
#
#   eval "$(scripts/services.sh start DIR)"   # prints: export AEGIS_PG_URL=… AEGIS_REDIS_URL=…
#   scripts/services.sh stop DIR
#
# PostgreSQL runs with fsync=off (test data only) as the `postgres` user when started as root:
# initdb refuses to run as root.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop DIR" >&2
  exit 2
fi

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
  [ -n "$pg_bin" ] || { echo "services: PostgreSQL is not installed (apt-get install postgresql-15)" >&2; exit 1; }
  command -v redis-server >/dev/null || { echo "services: Redis is not installed (apt-get install redis-server)" >&2; exit 1; }
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  mkdir -p "$dir/redis"
  # The postgres user must reach its data directory, which DIR's parents may not allow (mktemp -d
  # makes 0700 folders): as root the cluster lives in a folder of its own under /tmp, linked from DIR.
  if [ "$(id -u)" = 0 ]; then
    pg_home=$(mktemp -d /tmp/aegis-pg.XXXXXX)
    chown postgres "$pg_home"
    ln -s "$pg_home" "$dir/pg"
  else
    mkdir -p "$dir/pg"
  fi
  chmod 700 "$dir/pg/"
  pg=$(readlink -f "$dir/pg")
  pg_port=$(free_port)
  as_pg "$pg_bin/initdb" -D "$pg/data" -U postgres --auth=trust -E UTF8 >"$pg/initdb.log" 2>&1 ||
    { cat "$pg/initdb.log" >&2; exit 1; }
  as_pg "$pg_bin/pg_ctl" -D "$pg/data" -l "$pg/server.log" -w -t 30 start \
    -o "-p $pg_port -k $pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    >/dev/null || { cat "$pg/server.log" >&2; exit 1; }
  as_pg "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres aegis
  redis_port=$(free_port)
  redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no --daemonize yes \
    --dir "$dir/redis" --pidfile "$dir/redis/redis.pid" --logfile "$dir/redis/redis.log" >/dev/null
  for _ in $(seq 1 50); do
    redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null || { cat "$dir/redis/redis.log" >&2; exit 1; }
  echo "$redis_port" >"$dir/redis/port"
  echo "export AEGIS_PG_URL=postgres://postgres@127.0.0.1:$pg_port/aegis"
  echo "export AEGIS_REDIS_URL=redis://127.0.0.1:$redis_port"
  ;;
stop)
  [ -d "$dir" ] || exit 0
  pg=$(readlink -f "$dir/pg" || true)
  if [ -n "$pg" ] && [ -f "$pg/data/postmaster.pid" ] && [ -n "$pg_bin" ]; then
    as_pg "$pg_bin/pg_ctl" -D "$pg/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  if [ -f "$dir/redis/port" ]; then
    redis-cli -h 127.0.0.1 -p "$(cat "$dir/redis/port")" shutdown nosave >/dev/null 2>&1 || true
  fi
  [ -L "$dir/pg" ] && rm -rf "$(readlink "$dir/pg")"
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 start|stop DIR" >&2
  exit 2
  ;;
esac
