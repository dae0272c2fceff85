#!/usr/bin/env bash
# make cluster-demo: a three-node runtools cluster on this one machine,
# each node with its own data directory, bridge and subnet, sharing a
# throwaway PostgreSQL (Debian's) and a throwaway S3 server (SeaweedFS,
# from scripts/weed.sh). It runs in the foreground; Ctrl-C destroys the
# demo's sandboxes and stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${DEMO_DIR:-/tmp/runtools-cluster-demo}
KEY=${RUNTOOLS_API_KEY:-demo-admin-key-0123456789abcdef}
PG_PORT=55432
S3_PORT=58333
PGBIN=/usr/lib/postgresql/15/bin
WEED=/usr/local/lib/runtools/weed
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

[ "$(id -u)" = 0 ] || { echo "the demo needs root (as runtools server does): run it with sudo" >&2; exit 1; }
[ -x "$WEED" ] && [ -x "$PGBIN/postgres" ] || { echo "run make setup first (PostgreSQL and SeaweedFS are missing)" >&2; exit 1; }
rm -rf "$DIR" && mkdir -p "$DIR" && chmod 755 "$DIR"
pids=()

cleanup() {
	say "destroying the demo's sandboxes and stopping the cluster"
	export RUNTOOLS_URL=http://127.0.0.1:7171 RUNTOOLS_API_KEY=$KEY
	for id in $(bin/runtools sandbox list -o json 2>/dev/null | python3 -c 'import json,sys; [print(s["id"]) for s in json.load(sys.stdin)]' 2>/dev/null); do
		bin/runtools sandbox destroy "$id" >/dev/null 2>&1 || true
	done
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DIR/pg" -m fast stop >/dev/null 2>&1 || true
	for i in 1 2 3; do
		for t in "inet runtools_rtdemo$i" "ip runtools_rtdemo${i}_nat" "bridge runtools_rtdemo${i}_ports"; do nft delete table $t 2>/dev/null || true; done
		ip link del "rtdemo$i" 2>/dev/null || true
	done
}
trap cleanup EXIT

say "starting PostgreSQL on 127.0.0.1:$PG_PORT"
mkdir -p "$DIR/pg" && chown postgres "$DIR/pg"
runuser -u postgres -- "$PGBIN/initdb" -D "$DIR/pg" -A trust -U postgres >/dev/null
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DIR/pg" -l "$DIR/pg.log" -o "-p $PG_PORT -k $DIR/pg -c listen_addresses=127.0.0.1" -w start >/dev/null
runuser -u postgres -- "$PGBIN/psql" -h 127.0.0.1 -p $PG_PORT -U postgres -qc "CREATE DATABASE runtools" >/dev/null
DB="postgres://postgres@127.0.0.1:$PG_PORT/runtools?sslmode=disable"

say "starting the S3 server (SeaweedFS) on 127.0.0.1:$S3_PORT"
mkdir -p "$DIR/s3"
"$WEED" server -dir="$DIR/s3" -ip=127.0.0.1 -ip.bind=127.0.0.1 -master.port=59333 -volume.port=58080 -filer.port=58888 \
	-s3 -s3.port=$S3_PORT -volume.max=0 >"$DIR/s3.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$S3_PORT/" && break; sleep 0.3; done
S3="s3://runtools?endpoint=127.0.0.1:$S3_PORT&insecure=true"

make -s build
for i in 1 2 3; do
	say "starting node n$i: API 127.0.0.1:717$i, URLs :818$i, SSH :223$i, bridge rtdemo$i"
	RUNTOOLS_API_KEY=$KEY bin/runtools server --cluster "$DB" --object-store "$S3" --node-name "n$i" \
		--data-dir "$DIR/n$i" --template-dir "${TEMPLATE_DIR:-/var/cache/runtools/templates}" --bridge "rtdemo$i" --subnet "10.23$i.0.0/16" --listen "127.0.0.1:717$i" \
		--proxy-listen "127.0.0.1:818$i" --ssh-listen "127.0.0.1:223$i" --build-templates=false >"$DIR/n$i.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:717$i/v1/me" && break; sleep 0.3; done
done

cat <<MSG

A three-node runtools cluster runs (logs in $DIR). In another shell:

  export RUNTOOLS_URL=http://127.0.0.1:7171 RUNTOOLS_API_KEY=$KEY
  runtools node list
  runtools sandbox create demo            # placed on the least loaded node
  runtools sandbox exec demo -- hostname
  RUNTOOLS_URL=http://127.0.0.1:7173 runtools sandbox exec demo -- hostname   # through another node
  runtools node drain n1                  # moves what runs on n1 to the others
  runtools node uncordon n1

Ctrl-C here destroys the demo's sandboxes and stops the cluster.
MSG
wait "${pids[@]}"
