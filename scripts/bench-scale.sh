#!/usr/bin/env bash
# Issue 15, "What must be measured": an awarding organisation's data at scale F on a throwaway
# PostgreSQL 15 cluster (`credence bench --scale F --keep`), then the busiest pages under a
# bounded wrk load test through nginx, with two servers and then one, on loopback only.
#
#   [ONLY='register'] scripts/bench-scale.sh --scale 0.1 [--duration 15s] [--connections 32]
#       [--credence target/release/credence] [--work /var/tmp/credence-scale] [--no-0017]
#
# Prints the build's phases, one line per page and server count (p50, p99, requests/s),
# and the five statements with the most total time (pg_stat_statements) with their
# EXPLAIN (ANALYZE, BUFFERS). Everything it starts is stopped, and its folder deleted, at the
# end (--keep-work leaves the cluster's folder; it is stopped anyway).
set -euo pipefail

SCALE=0.01
DURATION=15s
WARMUP=${WARMUP:-5s}
CONNECTIONS=32
THREADS=2
CREDENCE=target/release/credence
WORK=/var/tmp/credence-scale
KEEP_WORK=0
NO_0017=0
while [ $# -gt 0 ]; do
    case "$1" in
        --scale) SCALE=$2; shift 2 ;;
        --duration) DURATION=$2; shift 2 ;;
        --connections) CONNECTIONS=$2; shift 2 ;;
        --credence) CREDENCE=$2; shift 2 ;;
        --work) WORK=$2; shift 2 ;;
        --keep-work) KEEP_WORK=1; shift ;;
        --no-0017) NO_0017=1; shift ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
HERE=$(cd "$(dirname "$0")" && pwd)
CREDENCE=$(realpath "$CREDENCE")
PG_PORT=${PG_PORT:-55931}
A_PORT=${A_PORT:-58081}
B_PORT=${B_PORT:-58082}
NGINX_PORT=${NGINX_PORT:-58080}
PIDS=()

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
    set +e
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    [ -f "$WORK/nginx/nginx.pid" ] && kill "$(cat "$WORK/nginx/nginx.pid")" 2>/dev/null
    [ -d "$WORK/pg" ] && as_pg pg_ctl -D "$WORK/pg" stop -m fast >/dev/null 2>&1
    [ "$KEEP_WORK" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT

rm -rf "$WORK"
mkdir -p "$WORK/nginx" "$WORK/data"
[ "$(id -u)" = 0 ] && chown postgres:postgres "$WORK"
as_pg initdb -D "$WORK/pg" -U credence --auth=trust -E UTF8 --no-locale -N >/dev/null
# fsync off: a throwaway cluster (bulk loading and reading; say so next to the figures).
as_pg pg_ctl -D "$WORK/pg" -w -t 60 -l "$WORK/pg.log" -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $WORK \
 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 \
 -c shared_buffers=2GB -c work_mem=16MB -c maintenance_work_mem=512MB -c max_wal_size=8GB \
 -c checkpoint_timeout=30min -c shared_preload_libraries=pg_stat_statements \
 -c pg_stat_statements.track=all" start >/dev/null
PSQL="psql -X -q -h 127.0.0.1 -p $PG_PORT -U credence"
$PSQL -d postgres -c "create database credence_scale"
URL="postgres://credence@127.0.0.1:$PG_PORT/credence_scale"
$PSQL -d credence_scale -c "create extension pg_stat_statements"

echo "== Build at scale $SCALE"
/usr/bin/time -f "build: %e s wall, %M KiB peak" \
    "$CREDENCE" --database-url "$URL" bench --scale "$SCALE" --keep --scale-dir "$WORK/data" \
    | tee "$WORK/build.txt"
# Migration 0017 (its indexes) where this Credence does not apply it yet (--no-0017: leave it
# out, to measure without it).
if [ "$NO_0017" = 0 ] && [ -z "$($PSQL -d credence_scale -At -c "select 1 from pg_indexes where indexname = 'registration_centre'")" ]; then
    echo "applying crates/credence/migrations/postgres/0017_scale_indexes.sql by hand (this build does not run it)"
    $PSQL -d credence_scale -c "drop index if exists certificate_claim_latest" -c "drop index if exists registration_centre"
    /usr/bin/time -f "  %e s" $PSQL -d credence_scale -f "$HERE/../crates/credence/migrations/postgres/0017_scale_indexes.sql"
    $PSQL -d credence_scale -c "analyze certificate" -c "analyze registration"
fi
LEARNER_BASE=$($PSQL -d credence_scale -At -c "select min(learner_id) - 1 from learner where email like '%@scale.test'")
CENTRES=$($PSQL -d credence_scale -At -c "select count(*) from centre where name like 'Scale Centre%'")
CENTRE1=$($PSQL -d credence_scale -At -c "select min(centre_id) from centre where name like 'Scale Centre%'")
LEARNER1=$((LEARNER_BASE + 1))
$PSQL -d credence_scale -At -c "select number from certificate order by random() limit 2000" > "$WORK/numbers.txt"
# Learners of the first centre (500 at every scale), for portfolio pages opened by its staff.
$PSQL -d credence_scale -At -c "select learner_id from registration where centre_id = $CENTRE1 order by 1" > "$WORK/centre-learners.txt"

serve() { # port
    CREDENCE_LOG=warn "$CREDENCE" --database-url "$URL" --data-dir "$WORK/data" --verify-rate-limit 0 \
        serve --listen "127.0.0.1:$1" --trust-proxy --workers 0 --public-url "http://127.0.0.1:$NGINX_PORT" \
        >>"$WORK/server-$1.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$1/healthz" >/dev/null && return; sleep 0.2; done
    echo "server on $1 did not start" >&2; exit 1
}
nginx_with() { # servers...
    local conf="$WORK/nginx/nginx.conf"
    [ -f "$WORK/nginx/nginx.pid" ] && { kill "$(cat "$WORK/nginx/nginx.pid")"; sleep 0.5; }
    # docs/nginx-cluster.conf as the cluster test runs it, with the per-address limit on
    # certificate checks taken out (one load generator is one address) and no access log.
    sed -e "s#{{PREFIX}}#$WORK/nginx#g" -e "s#{{LISTEN}}#127.0.0.1:$NGINX_PORT#" \
        -e "s#{{SERVER_A}}#127.0.0.1:$1#" -e "/limit_req zone=verify/d" \
        -e "s#access_log [^;]*;#access_log off;#" \
        "$HERE/../docs/nginx-cluster.conf" > "$conf"
    if [ -n "${2:-}" ]; then sed -i "s#{{SERVER_B}}#127.0.0.1:$2#" "$conf"; else sed -i "/{{SERVER_B}}/d" "$conf"; fi
    /usr/sbin/nginx -p "$WORK/nginx" -c "$conf" -e "$WORK/nginx/error.log"
    sleep 0.3
}
sign_in() { # email -> cookie value
    local jar="$WORK/jar-$1"
    curl -fs -o /dev/null -c "$jar" --data-urlencode "email=$1" --data-urlencode "password=credence-scale-2026" \
        "http://127.0.0.1:$NGINX_PORT/sign-in"
    awk '$6 == "credence_session" { print $7 }' "$jar"
}

serve "$A_PORT"
serve "$B_PORT"
nginx_with "$A_PORT" "$B_PORT"
AO=$(sign_in ao-isp@scale.test)
ASSESSOR=$(sign_in c1-assessor1@scale.test)
IQA=$(sign_in c1-iqa1@scale.test)
ADMIN=$(sign_in c1-admin@scale.test)
LEARNER=$(sign_in learner1@scale.test)

# name|cookie|path[|connections] (a path with {learner} or {number} takes a random one per
# request)
PAGES=(
    "portfolio (learner, own)|$LEARNER|/learners/$LEARNER1/portfolio"
    "portfolio (centre admin, random learner)|$ADMIN|/learners/{learner}/portfolio"
    "assessor caseload (/home)|$ASSESSOR|/home"
    "IQA queue (/home)|$IQA|/home"
    "IQA sampling (/centres/C/qa)|$IQA|/centres/$CENTRE1/qa"
    "AO centre list (/centres)|$AO|/centres"
    "register search (number)|$AO|/certificates?q={number}"
    "register search (name)|$AO|/certificates?q=Priya+Smith"
    "register, all of the AO's (page 1)|$AO|/certificates"
    "register, all of the AO's (page 60)|$AO|/certificates?page=60"
    "centres API (100 a page)|$AO|/api/v1/centres?limit=100"
    "verification API|-|/api/v1/certificates/{number}"
    # 2,500 claims on one page, each looked up on its own: a request takes over a second
    # alone, so 32 at once finish none in 15 s; 4 at a time.
    "claims (centre, 4 connections)|$ADMIN|/centres/$CENTRE1/claims|4"
)

run_pages() { # label
    for spec in "${PAGES[@]}"; do
        IFS='|' read -r name cookie path conns <<<"$spec"
        # ONLY='register|centres API': only the pages whose name matches (a quicker rerun).
        if [ -n "${ONLY:-}" ] && ! [[ "$name" =~ $ONLY ]]; then continue; fi
        conns=${conns:-$CONNECTIONS}
        [ "$cookie" = - ] && cookie=""
        code=$(curl -s -o /dev/null -w '%{http_code} in %{time_total}s' -b "credence_session=$cookie" \
            "http://127.0.0.1:$NGINX_PORT$(echo "$path" | sed -e "s/{learner}/$LEARNER1/" -e "s/{number}/$(head -1 "$WORK/numbers.txt")/")")
        # Warm-up (each server's caches, PostgreSQL's buffers), then the measured run.
        COOKIE="$cookie" PATH_TEMPLATE="$path" NUMBERS="$WORK/numbers.txt" LEARNERS="$WORK/centre-learners.txt" \
            wrk -t"$THREADS" -c"$conns" -d"$WARMUP" --timeout 30s -s "$HERE/bench-scale.lua" \
            "http://127.0.0.1:$NGINX_PORT" >/dev/null 2>&1
        out=$(COOKIE="$cookie" PATH_TEMPLATE="$path" NUMBERS="$WORK/numbers.txt" LEARNERS="$WORK/centre-learners.txt" \
            wrk -t"$THREADS" -c"$conns" -d"$DURATION" --timeout 30s --latency -s "$HERE/bench-scale.lua" \
            "http://127.0.0.1:$NGINX_PORT" 2>&1)
        p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
        p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
        rps=$(awk '$1 == "Requests/sec:" { print $2 }' <<<"$out")
        bad=$(awk '/Non-2xx or 3xx responses:/ { print $5 }' <<<"$out")
        printf 'RESULT scale=%s servers=%s | %-42s | first: %s | p50 %8s | p99 %8s | %8s req/s | non-2xx %s | load %s\n' \
            "$SCALE" "$1" "$name" "$code" "$p50" "$p99" "$rps" "${bad:-0}" "$(cut -d" " -f1 /proc/loadavg)" | tee -a "$WORK/results.txt"
    done
}

$PSQL -d credence_scale -c "select pg_stat_statements_reset()" >/dev/null
echo "== Two servers behind nginx, wrk -t$THREADS -c$CONNECTIONS -d$DURATION"
run_pages 2
echo "== Five statements with the most total time (two-server run)"
$PSQL -d credence_scale -c "select round(total_exec_time::numeric, 0) as total_ms, calls, round(mean_exec_time::numeric, 2) as mean_ms, rows, left(regexp_replace(query, '\s+', ' ', 'g'), 400) as query from pg_stat_statements where query not ilike '%pg_stat_statements%' order by total_exec_time desc limit 12" | tee "$WORK/top.txt"
echo "== One server behind nginx"
nginx_with "$A_PORT"
run_pages 1
echo "== Database size"
$PSQL -d credence_scale -c "select pg_size_pretty(pg_database_size('credence_scale'))"
echo "== EXPLAIN (ANALYZE, BUFFERS) of the slowest statements (scripts/bench-scale-explain.sql)"
$PSQL -d credence_scale -v learner="$LEARNER1" -v centre="$CENTRE1" -v number="$(head -1 "$WORK/numbers.txt")" \
    -v claim="$($PSQL -d credence_scale -At -c "select max(claim_id) from claim where centre_id = $CENTRE1")" \
    -f "$HERE/bench-scale-explain.sql"
cp "$WORK/results.txt" "${RESULTS_OUT:-/dev/null}" 2>/dev/null || true
