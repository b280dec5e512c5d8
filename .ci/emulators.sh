#!/usr/bin/env bash
# Local AWS emulators for people (tests start their own on free ports):
#   .ci/emulators.sh start   DynamoDB Local on 127.0.0.1:${DYNAMODB_PORT:-8000} and moto on
#                            127.0.0.1:${MOTO_PORT:-5000}, in the background
#   .ci/emulators.sh stop    stops what start started (by the pids in .emulators/*.pid)
#   .ci/emulators.sh status
#   .ci/emulators.sh env     prints the exports that point the service at them (exit 1 if stopped);
#                            `make run STORE=aws` uses it
# Both listen on loopback only. Logs and pid files are in .emulators/ (git-ignored).
# DynamoDB Local is installed on first use (.ci/dynamodb-local/install.sh); moto comes from the
# project's .venv (`make venv`), or $MOTO_SERVER.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="$root/.emulators"
ddb_dir="${DYNAMODB_LOCAL_DIR:-$state/dynamodb-local}"
ddb_port="${DYNAMODB_PORT:-8000}"
moto_port="${MOTO_PORT:-5000}"
host=127.0.0.1

running() { # name -> 0 if its pid file names a live process
  local pidfile="$state/$1.pid"
  [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

wait_http() { # name url pid
  for _ in $(seq 1 300); do
    if curl -s -o /dev/null "$2"; then return 0; fi
    if ! kill -0 "$3" 2>/dev/null; then break; fi
    sleep 0.2
  done
  echo "$1 did not start; its log ($state/$1.log) ends with:" >&2
  tail -n 20 "$state/$1.log" >&2 || true
  return 1
}

start_one() { # name url command...
  local name="$1" url="$2"
  shift 2
  if running "$name"; then
    echo "$name already running (pid $(cat "$state/$name.pid"))"
    return 0
  fi
  if curl -s -o /dev/null "$url"; then
    echo "$name: something else already answers at $url; set another port" >&2
    return 1
  fi
  nohup "$@" >"$state/$name.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$state/$name.pid"
  echo "$url" >"$state/$name.url"
  if ! wait_http "$name" "$url" "$pid"; then
    kill "$pid" 2>/dev/null || true
    rm -f "$state/$name.pid"
    return 1
  fi
  echo "$name listening on $url (pid $pid)"
}

stop_one() { # name
  local pidfile="$state/$1.pid"
  if running "$1"; then
    kill "$(cat "$pidfile")"
    echo "$1 stopped"
  fi
  rm -f "$pidfile"
}

case "${1:-}" in
start)
  mkdir -p "$state"
  bash "$root/.ci/dynamodb-local/install.sh"
  moto="${MOTO_SERVER:-$root/.venv/bin/moto_server}"
  if [[ ! -x "$moto" ]]; then
    echo "moto_server not found at $moto: run \`make venv\` first" >&2
    exit 1
  fi
  start_one dynamodb-local "http://$host:$ddb_port/" \
    java -Djava.library.path="$ddb_dir" -Dsqlite4java.library.path="$ddb_dir" -Ddynamodb.local.host="$host" \
    -cp "$ddb_dir/*:$ddb_dir/classes" LoopbackServerRunner -inMemory -disableTelemetry -port "$ddb_port"
  start_one moto "http://$host:$moto_port/moto-api/" "$moto" -H "$host" -p "$moto_port"
  cat <<EOF
To use them:
  export AWS_ENDPOINT_URL_DYNAMODB=http://$host:$ddb_port
  export AWS_ENDPOINT_URL_SECRETS_MANAGER=http://$host:$moto_port
  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
DynamoDB Local keeps its data in memory: it is gone when it stops.
EOF
  ;;
stop)
  stop_one dynamodb-local
  stop_one moto
  ;;
env)
  running dynamodb-local && running moto || exit 1
  ddb_url=$(cat "$state/dynamodb-local.url"); moto_url=$(cat "$state/moto.url")
  echo "export AWS_ENDPOINT_URL_DYNAMODB=${ddb_url%/} AWS_ENDPOINT_URL_SECRETS_MANAGER=${moto_url%/moto-api/}"
  echo "export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1"
  echo "export TABLE_NAME=\${TABLE_NAME:-fleet-providers-local} CREATE_TABLE=true SECRET_RECOVERY_DAYS=0"
  ;;
status)
  for name in dynamodb-local moto; do
    if running "$name"; then echo "$name: running (pid $(cat "$state/$name.pid"))"; else echo "$name: stopped"; fi
  done
  ;;
*)
  echo "usage: $0 start|stop|status|env" >&2
  exit 2
  ;;
esac
