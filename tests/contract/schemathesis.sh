#!/usr/bin/env bash
# Contract test: schemathesis generates requests from openapi/openapi.json for every operation
# (valid and invalid, with an admin token) against the real binary and a throwaway FerretDB and
# runs every check (--checks all): no 5xx, every status, header, content type and body as
# documented, schema-valid requests accepted, schema-invalid ones refused, auth enforced, and
# deleted resources gone. All phases run, the stateful one included: it follows the document's
# OpenAPI links (register → login → token → cart → order → status, product → cart, ...) so that
# every operation is reached past its 404s. Fixed seed; zero failures allowed.
# Usage: schemathesis.sh <flaskcart binary>. Environment: FLASKCART_CONTRACT_EXAMPLES (examples
# per operation and cycle, default 40), FLASKCART_CONTRACT_SECONDS (the main run's time budget,
# default 400: about 8 minutes in all on a 2-core machine). Needs .local/venv (scripts/setup) and FLASKCART_FERRETDB_BIN, or
# MONGODB_URI to use a server.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
binary=$1
venv="$root/.local/venv"
work=$(mktemp -d)
database="fc_contract_$$"
ferret_pid=""
service_pid=""
cleanup() {
  [ -n "$service_pid" ] && kill "$service_pid" 2>/dev/null && wait "$service_pid" 2>/dev/null || true
  if [ -n "${uri:-}" ] && [ -z "$ferret_pid" ]; then
    "$venv/bin/python" -c 'import sys, pymongo; pymongo.MongoClient(sys.argv[1]).drop_database(sys.argv[2])' "$uri" "$database" || true
  fi
  [ -n "$ferret_pid" ] && kill "$ferret_pid" 2>/dev/null && wait "$ferret_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { "$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
if [ -n "${MONGODB_URI:-}" ]; then
  uri=$MONGODB_URI
else
  port=$(free_port)
  mkdir -p "$work/data"
  "$FLASKCART_FERRETDB_BIN" --listen-addr="127.0.0.1:$port" --sqlite-url="file:$work/data/" --log-level=error &
  ferret_pid=$!
  uri="mongodb://127.0.0.1:$port/"
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
fi
export MONGODB_URI=$uri FLASKCART_DATABASE=$database
export FLASKCART_JWT_SECRET=contract-test-secret-contract-test-secret
# Failed logins and registrations are part of the fuzzing: high per-address limits keep the
# generated requests from locking the register → login → cart flows out (the 429s themselves are
# tested in the api tier). The catalog starts empty, as in the other tiers.
"$binary" --port=0 --maintenance-interval=1 --login-max-failures-per-address=100000 \
  --register-max-per-address=1000000 --demo-catalog-on-empty=false \
  > "$work/service.out" 2> "$work/service.log" &
service_pid=$!
for _ in $(seq 1 300); do grep -q LISTENING "$work/service.out" 2>/dev/null && break; sleep 0.1; done
base="http://127.0.0.1:$(awk '/LISTENING/ {print $2}' "$work/service.out")"
for _ in $(seq 1 300); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/ready")" = 200 ] && break; sleep 0.1
done

curl -sf -X POST "$base/register" -H 'Content-Type: application/json' \
  -d '{"name":"Contract Admin","email":"contract@example.com","password":"correct-horse-1"}' >/dev/null
"$binary" --log-level=warn create-admin --email contract@example.com >/dev/null
"$binary" --log-level=warn seed-demo --products 20 >/dev/null

login() {
  curl -sf -X POST "$base/login" -H 'Content-Type: application/json' \
    -d '{"email":"contract@example.com","password":"correct-horse-1"}' |
    "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}
examples=${FLASKCART_CONTRACT_EXAMPLES:-40}
budget=${FLASKCART_CONTRACT_SECONDS:-400}
run_schemathesis() {
  "$venv/bin/schemathesis" --config-file "$root/tests/contract/schemathesis.toml" run \
    "$root/openapi/openapi.json" --url "$base" --checks all --seed 20261127 \
    --max-examples "$examples" --no-color --suppress-health-check too_slow,filter_too_much "$@"
}
# Tokens are taken up front: the runs may lock the admin's email out of /login (429).
main_token=$(login)
roles_token=$(login)
logout_token=$(login)
status=0
# Three runs, each on its own token of the admin. The main one leaves out the two operations that
# would take its own admin away: PUT /users/{id}/role (the run learns the admin's id from
# responses and, once it has promoted someone else, demotes it) and logout (revokes the token).
# Fuzzing and stateful testing repeat until the time budget is spent.
run_schemathesis --header "Authorization: Bearer $main_token" --max-time "$budget" \
  --phases examples,coverage,fuzzing,stateful \
  --exclude-operation-id setUserRole --exclude-operation-id logout || status=$?
# Role changes on accounts this run registers (register → set role, stateful); it never sees the
# admin's id.
run_schemathesis --header "Authorization: Bearer $roles_token" --phases examples,coverage,fuzzing,stateful \
  --include-operation-id registerUser --include-operation-id setUserRole || status=$?
run_schemathesis --header "Authorization: Bearer $logout_token" --phases examples,coverage,fuzzing \
  --include-operation-id logout || status=$?
if ! kill -0 "$service_pid" 2>/dev/null; then
  echo "schemathesis.sh: the service died during the run; its log:" >&2
  tail -50 "$work/service.log" >&2
  status=1
fi
if grep -qE "AddressSanitizer|runtime error" "$work/service.log"; then
  echo "schemathesis.sh: sanitizer report in the service log:" >&2
  grep -A30 -E "AddressSanitizer|runtime error" "$work/service.log" | head -60 >&2
  status=1
fi
# CTest reads this line as the result.
if [ "$status" = 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
exit "$status"
