#!/usr/bin/env bash
# The demo as a cluster (docs/cluster.md), on the loopback of one machine: installs what is
# missing, builds cccd, and starts
#  - a throwaway PostgreSQL (tests/pg/pg-tmp.sh: initdb + pg_ctl under var/cluster/pg, as
#    the `postgres` user when run as root), the one store of every node;
#  - 3 cccd nodes (node1..node3: API 127.0.0.1:8081-8083, SIP 127.0.0.1:5061-5063, admin
#    127.0.0.1:9101-9103) sharing the demo tenant, which node1 provisions on the empty
#    database; each node's process id in var/cluster/nodeN.pid;
#  - Kamailio (deploy/kamailio/kamailio.cfg) on 127.0.0.1:5060, the one SIP address: inbound
#    calls are spread over the nodes, the nodes' outbound calls leave through it;
#  - nginx (deploy/nginx/cccd-api.conf) with the API at 127.0.0.1:8080;
#  - as scripts/demo.sh: the simulated phone (sipp, answers on 127.0.0.1:5080, behind the
#    edge), the push receiver (9090) and the IVR's order endpoint (9091), and the demo
#    tenant's credentials in var/demo-credentials.env (CCC_ENDPOINT: nginx's address).
# Ctrl-C stops everything it started. CCCD_VAR=DIR puts var/ elsewhere (the tests do).
set -euo pipefail
cd "$(dirname "$0")/.."

VAR=${CCCD_VAR:-var}
C=$VAR/cluster
NODES=3

scripts/install-deps.sh
make -j"$(nproc)" >/dev/null

mkdir -p "$C"
C=$(cd "$C" && pwd)
pids=()
pgdir=""
cleanup() {
	trap - EXIT INT TERM
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[ -z "$pgdir" ] || tests/pg/pg-tmp.sh stop "$pgdir"
	rm -f "$C"/*.pid
	[ ! -L "$C/pg" ] || rm -f "$C/pg"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# PostgreSQL, new for every run. As root it runs as `postgres`, which must reach its folder:
# when var/ is not reachable for it (a home folder of mode 0700) or its path is too long for
# a unix socket, the cluster lives in /tmp and var/cluster/pg points there.
rm -rf "$C/pg"
pgdir=$C/pg
if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$C" 2>/dev/null || [ ${#pgdir} -gt 80 ]; then
	pgdir=$(mktemp -d /tmp/cccd-cluster-pg-XXXXXX)
	rmdir "$pgdir"
	ln -s "$pgdir" "$C/pg"
fi
tests/pg/pg-tmp.sh start "$pgdir" >/dev/null
PGPASSWORD=$(cat "$pgdir/password") psql "$(cat "$pgdir/dsn")" -qAtc "CREATE DATABASE cccd"
dsn="$(sed 's/dbname=postgres/dbname=cccd/' "$pgdir/dsn")"

# The nodes: one database, one master key (the sealed secrets open on every node), a
# node_id each. Recordings go to one folder, as a shared volume would in production.
rm -f "$C/master.key"
mkdir -p "$C/recordings"
nodeconf() { # nodeconf N: node N's configuration
	local n=$1
	cat <<-EOF
		# cccd node$n of scripts/cluster.sh (docs/cluster.md); every key: docs/configuration.md
		[log]
		level = info
		[api]
		listen = 127.0.0.1:808$n
		[admin]
		listen = 127.0.0.1:910$n
		[store]
		backend = postgresql
		dsn = $dsn
		password_file = $pgdir/password
		master_key_file = $C/master.key
		[cluster]
		node_id = node$n
		[sip]
		listen = udp 127.0.0.1:506$n
		inbound_from = 127.0.0.1
		# The simulated phone, reached through the edge (its outbound proxy).
		[trunk demo]
		host = 127.0.0.1
		port = 5080
		transport = udp
		route = *
		options_interval = 0
		proxy = sip:127.0.0.1:5060
		[media]
		rtp_ip = 127.0.0.1
		port_min = $((30000 + (n - 1) * 300))
		port_max = $((30299 + (n - 1) * 300))
		recording_dir = $C/recordings
		[demo]
		provision = $([ "$n" -eq 1 ] && echo yes || echo no)
		sdkappid = 1400000000
		ivr_id = 4500
		ivr_file = demo/flows/4500.json
		caller = 008675512345678
		credentials_file = $VAR/demo-credentials.env
	EOF
}

# Waits (bounded) for a TCP listener on 127.0.0.1:$1.
listening() {
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "cluster: nothing listens on 127.0.0.1:$1" >&2
	return 1
}

# node1 first: it makes the schema and the demo tenant; the others find both.
rm -f "$VAR/demo-credentials.env"
for n in $(seq "$NODES"); do
	nodeconf "$n" >"$C/node$n.conf"
	./build/release/cccd --config "$C/node$n.conf" >"$C/node$n.log" 2>&1 &
	pids+=($!)
	echo $! >"$C/node$n.pid"
	listening "808$n"
done
# The credentials name nginx's address, where the API of the cluster is.
sed -i 's/^CCC_ENDPOINT=.*/CCC_ENDPOINT=127.0.0.1:8080/' "$VAR/demo-credentials.env"

# The edge and the balancer.
: >"$C/nodes.list"
for n in $(seq "$NODES"); do echo "1 sip:127.0.0.1:506$n 0 0 duid=node$n" >>"$C/nodes.list"; done
kamailio -f deploy/kamailio/kamailio.cfg -DD -E -P "$C/kamailio.pid" -Y "$C" -w "$C" \
	-A LISTEN=udp:127.0.0.1:5060 -A "NODES_LIST=\"$C/nodes.list\"" \
	-A "CTL_SOCKET=\"unix:$C/kamailio_ctl\"" >"$C/kamailio.log" 2>&1 &
pids+=($!)
mkdir -p "$C/nginx"
cat >"$C/nginx.conf" <<EOF
worker_processes 1;
pid $C/nginx.pid;
error_log $C/nginx-error.log warn;
events { worker_connections 256; }
http {
	access_log off;
	client_body_temp_path $C/nginx/body;
	proxy_temp_path $C/nginx/proxy;
	fastcgi_temp_path $C/nginx/fastcgi;
	uwsgi_temp_path $C/nginx/uwsgi;
	scgi_temp_path $C/nginx/scgi;
	include $PWD/deploy/nginx/cccd-api.conf;
}
EOF
nginx -p "$C/nginx" -e "$C/nginx-error.log" -c "$C/nginx.conf" -g "daemon off;" &
pids+=($!)
listening 8080

# The demo's phone and services, as scripts/demo.sh starts them.
sipp -sf demo/phone.xml -i 127.0.0.1 -p 5080 -mi 127.0.0.1 -mp 31000 -nostdin \
	-error_file "$VAR/phone-errors.log" >"$VAR/phone.log" 2>&1 &
pids+=($!)
node demo/services.mjs &
pids+=($!)

cat <<MSG

The cccd cluster is up: 3 nodes on PostgreSQL, Kamailio at 127.0.0.1:5060, the API through
nginx at 127.0.0.1:8080 (logs in $C). In another terminal, place the seed's example call:

  set -a; . $VAR/demo-credentials.env; set +a
  ./build/release/ccc call CreateIVRSession --json '{"Callee":"008612300000000","SdkAppId":1400000000,"IVRId":4500}'

MSG
# Until Ctrl-C, or until one of them stops.
wait -n "${pids[@]}"
