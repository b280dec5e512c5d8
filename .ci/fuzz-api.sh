#!/usr/bin/env bash
# Property-based API testing: schemathesis generates requests from the OpenAPI document and sends
# them to the local server (embedded store, fresh data dir). It fails on any 5xx, any response that
# breaks the document, and any schema-invalid request the API accepts.
#
# positive_data_acceptance is left out: the API enforces rules a schema cannot express (body org
# must equal the path org, a cursor must have been issued for the org, an OCI fingerprint must
# match its key), so some schema-valid requests are rightly refused.
set -euo pipefail
cd "$(dirname "$0")/.."
ST=${ST:-.venv/bin/st}
MAX_TIME=${FUZZ_SECONDS:-60}

data=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
go build -o "$data/fleetdev" ./shared/cmd/fleetdev
DATA_DIR="$data" PORT="$port" LOG_LEVEL=warn "$data/fleetdev" serve &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 50); do
  curl -s -o /dev/null "http://127.0.0.1:$port/" && break
  sleep 0.1
done

FLEET_TOKEN=$(DATA_DIR="$data" "$data/fleetdev" token -org acme) \
  "$ST" --config-file .ci/schemathesis.toml run shared/httpapi/openapi.yaml \
  --url "http://127.0.0.1:$port" \
  --phases fuzzing,stateful \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection,use_after_free,ensure_resource_availability,ignored_auth \
  --exclude-path-regex '/validate$' \
  --max-time "$MAX_TIME" --workers 2 --seed 20261122
