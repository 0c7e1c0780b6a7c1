#!/usr/bin/env bash
# Private Radicale (CalDAV/CardDAV) for tests and the demo: never the packaged system service.
#   radicale.sh start DIR   two Radicale processes sharing one storage under DIR/radicale/: one cleartext on
#                           127.0.0.1, one TLS with a certificate signed by a throwaway CA made here (so the
#                           client's verification can be tested both ways); writes DIR/radicale.env
#   radicale.sh stop DIR    stops both by the PIDs recorded at start
#
# Users (htpasswd, plain; one password for all, random per run): user001..user600@example.test (the same
# naming as the Dovecot testbed) and an admin, admin@example.test, whose rights allow writing every
# user's collections (what `arrival calendars --admin` needs). Ordinary users can only touch their own.
#
# DIR/radicale.env:
#   ARRIVAL_RADICALE_URL              http://127.0.0.1:PORT/           cleartext base URL
#   ARRIVAL_RADICALE_TLS_URL          https://localhost:PORT/          TLS base URL (cert for localhost, 127.0.0.1)
#   ARRIVAL_RADICALE_CA               CA certificate that signed the TLS server certificate
#   ARRIVAL_RADICALE_PASSWORD         password of every userNNN@example.test
#   ARRIVAL_RADICALE_ADMIN            admin@example.test
#   ARRIVAL_RADICALE_ADMIN_PASSWORD   the admin's password
#   ARRIVAL_RADICALE_STORAGE          the collections root (tests may inspect or reset it)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/common.bash
. "$here/lib/common.bash"
component_args radicale "start|stop DIR" "$@"

stop() {
  stop_by_pid_file 5 "$base"/*.pid
}

# Waits until the server answers an authenticated PROPFIND (207) or gives up after ~10 s.
wait_ready() {
  local url=$1 cafile=${2:-} code=""
  local args=(-s -o /dev/null -w '%{http_code}' -X PROPFIND -H 'Depth: 0' --max-time 2
              --netrc-file "$base/netrc")
  [ -z "$cafile" ] || args+=(--cacert "$cafile")
  for _ in $(seq 100); do
    for f in "$base"/*.pid; do kill -0 "$(cat "$f")" 2>/dev/null || { code=exited; break 2; }; done
    code=$(curl "${args[@]}" "$url" 2>/dev/null || true)
    [ "$code" = 207 ] && return 0
    sleep 0.1
  done
  echo "radicale: $url did not answer (last HTTP status '$code'); log:" >&2
  cat "$base"/*.log >&2 || true
  return 1
}

start() {
  mkdir -p "$base/collections"
  local password admin_password port tls_port
  password=$(random_password)
  admin_password=$(random_password)
  read -r port tls_port < <(python3 "$here/free-port" 2)

  umask 077
  {
    for i in $(seq 1 600); do printf 'user%03d@example.test:%s\n' "$i" "$password"; done
    printf 'admin@example.test:%s\n' "$admin_password"
  } > "$base/htpasswd"
  printf 'machine 127.0.0.1 login admin@example.test password %s\nmachine localhost login admin@example.test password %s\n' \
    "$admin_password" "$admin_password" > "$base/netrc"

  # First matching section wins (radicale/rights/from_file.py). R/W: collections, r/w: items.
  cat > "$base/rights" <<'EOF'
[admin]
user: admin@example\.test
collection: .*
permissions: RWrw

[root]
user: .+
collection:
permissions: R

[principal]
user: .+
collection: {user}
permissions: RW

[own-collections]
user: .+
collection: {user}/[^/]+
permissions: rw
EOF

  # A throwaway CA and a server certificate for localhost / 127.0.0.1 (EC keys: fast to make).
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj '/CN=arrival radicale test CA' -keyout "$base/ca.key" -out "$base/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj '/CN=localhost' \
    -keyout "$base/server.key" -out "$base/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' > "$base/server.ext"
  openssl x509 -req -in "$base/server.csr" -CA "$base/ca.pem" -CAkey "$base/ca.key" -CAcreateserial \
    -days 2 -extfile "$base/server.ext" -out "$base/server.pem" 2>/dev/null

  local name hostport ssl
  for name in plain tls; do
    if [ "$name" = plain ]; then hostport=127.0.0.1:$port ssl=False; else hostport=127.0.0.1:$tls_port ssl=True; fi
    cat > "$base/$name.conf" <<EOF
[server]
hosts = $hostport
ssl = $ssl
certificate = $base/server.pem
key = $base/server.key
max_connections = 64
timeout = 30

[auth]
type = htpasswd
htpasswd_filename = $base/htpasswd
htpasswd_encryption = plain
# No delay after a failed login: tests try wrong passwords on purpose.
delay = 0

[rights]
type = from_file
file = $base/rights

[storage]
filesystem_folder = $base/collections

[web]
type = none

[logging]
level = warning
mask_passwords = True
EOF
    /usr/bin/python3 -m radicale --config "$base/$name.conf" >"$base/$name.log" 2>&1 &
    echo $! > "$base/$name.pid"
  done

  wait_ready "http://127.0.0.1:$port/" || { stop; exit 1; }
  wait_ready "https://localhost:$tls_port/" "$base/ca.pem" || { stop; exit 1; }

  cat > "$dir/radicale.env" <<EOF
ARRIVAL_RADICALE_URL=http://127.0.0.1:$port/
ARRIVAL_RADICALE_TLS_URL=https://localhost:$tls_port/
ARRIVAL_RADICALE_CA=$base/ca.pem
ARRIVAL_RADICALE_PASSWORD=$password
ARRIVAL_RADICALE_ADMIN=admin@example.test
ARRIVAL_RADICALE_ADMIN_PASSWORD=$admin_password
ARRIVAL_RADICALE_STORAGE=$base/collections
EOF
}

run_component "$@"
