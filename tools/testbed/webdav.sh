#!/usr/bin/env bash
# Private Apache httpd with mod_dav (Debian's apache2) for `arrival files`: a WebDAV source and destination.
# Never the packaged system service: its own config, pid and logs under DIR/webdav/, loopback only.
#   webdav.sh start DIR   httpd on a free 127.0.0.1 port, TLS with the testbed certificate (tools/testbed/cert),
#                         one tree per user under /dav/<user>/; writes DIR/webdav.env
#   webdav.sh stop DIR    stops it by the PID httpd recorded and waits until it is gone
# Users: user001..user600@example.test (basic auth, one random password per run, from htpasswd in SHA form);
# each may read and write only /dav/<own address>/, admin@example.test every tree. /dav/<user>/ does not exist
# until someone creates it (MKCOL) or a test writes into ARRIVAL_WEBDAV_ROOT/<user>/ on disk.
# DIR/webdav.env:
#   ARRIVAL_WEBDAV_URL              https://localhost:PORT/dav/{user}/   (the {user} form `arrival files` takes)
#   ARRIVAL_WEBDAV_BASE             https://localhost:PORT
#   ARRIVAL_WEBDAV_CA               the testbed CA (DIR/tls/ca.crt)
#   ARRIVAL_WEBDAV_PASSWORD_FILE    file holding every userNNN's password (mode 600)
#   ARRIVAL_WEBDAV_ADMIN            admin@example.test
#   ARRIVAL_WEBDAV_ADMIN_PASSWORD_FILE  the admin's password (mode 600)
#   ARRIVAL_WEBDAV_ROOT             the directory /dav/ serves (tests read what landed, or seed a source tree)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/common.bash
. "$here/lib/common.bash"
component_args webdav "start|stop DIR" "$@"

stop() {
  stop_by_pid_file 5 "$base/httpd.pid"
}

start() {
  bash "$here/cert" "$dir"
  mkdir -p "$base/dav" "$base/lock" "$base/run"
  chmod 700 "$base"
  local port password admin_password run_as=""
  read -r port < <(python3 "$here/free-port" 1)
  password=$(random_password)
  admin_password=$(random_password)
  (umask 077; printf '%s\n' "$password" > "$base/password"; printf '%s\n' "$admin_password" > "$base/admin-password")
  # {SHA} entries: one digest per password, so 600 users cost nothing (bcrypt would take seconds).
  local sha admin_sha
  sha=$(printf '%s' "$password" | openssl dgst -sha1 -binary | base64)
  admin_sha=$(printf '%s' "$admin_password" | openssl dgst -sha1 -binary | base64)
  {
    for i in $(seq 1 600); do printf 'user%03d@example.test:{SHA}%s\n' "$i" "$sha"; done
    printf 'admin@example.test:{SHA}%s\n' "$admin_sha"
  } > "$base/htpasswd"
  chmod 644 "$base/htpasswd"
  # Started as root, httpd serves as www-data (it refuses to serve as root): give it the tree and the lock DB.
  if [ "$(id -u)" -eq 0 ]; then
    run_as="User www-data
Group www-data"
    chown www-data:www-data "$base/dav" "$base/lock"
    # www-data must traverse DIR (mktemp makes it 0700) to reach the tree: search only, no listing.
    chmod 711 "$dir" "$base"
  fi
  local m=/usr/lib/apache2/modules
  cat > "$base/httpd.conf" <<EOF
ServerRoot "$base"
ServerName localhost
PidFile "$base/httpd.pid"
DefaultRuntimeDir "$base/run"
Mutex file:$base/run
ErrorLog "$base/error.log"
LogLevel warn
$run_as
LoadModule mpm_event_module $m/mod_mpm_event.so
LoadModule authz_core_module $m/mod_authz_core.so
LoadModule authn_core_module $m/mod_authn_core.so
LoadModule authn_file_module $m/mod_authn_file.so
LoadModule auth_basic_module $m/mod_auth_basic.so
LoadModule authz_user_module $m/mod_authz_user.so
LoadModule dav_module $m/mod_dav.so
LoadModule dav_fs_module $m/mod_dav_fs.so
LoadModule ssl_module $m/mod_ssl.so
LoadModule mime_module $m/mod_mime.so
LoadModule alias_module $m/mod_alias.so
TypesConfig /etc/mime.types
StartServers 1
ServerLimit 2
ThreadsPerChild 16
MaxRequestWorkers 32
KeepAliveTimeout 30
Timeout 120
# No request body limit: 1 GB+ PUTs are the point.
LimitRequestBody 0
Listen 127.0.0.1:$port
SSLEngine on
SSLCertificateFile "$dir/tls/server.crt"
SSLCertificateKeyFile "$dir/tls/server.key"
SSLSessionCache none
DavLockDB "$base/lock/DavLock"
Alias /dav "$base/dav"
<Directory />
  Require all denied
  AllowOverride None
</Directory>
<Directory "$base/dav">
  Dav On
  AuthType Basic
  AuthName "arrival webdav testbed"
  AuthBasicProvider file
  AuthUserFile "$base/htpasswd"
  Require user admin@example.test
</Directory>
# A user's own tree: the first path segment after /dav/ must be the authenticated name.
<LocationMatch "^/dav/(?<owner>[^/]+)">
  <RequireAny>
    Require user admin@example.test
    Require expr %{REMOTE_USER} == %{env:MATCH_OWNER}
  </RequireAny>
</LocationMatch>
EOF
  /usr/sbin/apache2 -f "$base/httpd.conf" -k start
  local code=""
  for _ in $(seq 100); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$dir/tls/ca.crt" -X PROPFIND -H 'Depth: 0' \
      -u "admin@example.test:$admin_password" --max-time 2 "https://localhost:$port/dav/" 2>/dev/null || true)
    [ "$code" = 207 ] && break
    sleep 0.1
  done
  if [ "$code" != 207 ]; then
    echo "webdav: https://localhost:$port/dav/ did not answer (last status '$code'); log:" >&2
    cat "$base/error.log" >&2 || true
    stop
    exit 1
  fi
  cat > "$dir/webdav.env" <<EOF
ARRIVAL_WEBDAV_URL=https://localhost:$port/dav/{user}/
ARRIVAL_WEBDAV_BASE=https://localhost:$port
ARRIVAL_WEBDAV_CA=$dir/tls/ca.crt
ARRIVAL_WEBDAV_PASSWORD_FILE=$base/password
ARRIVAL_WEBDAV_ADMIN=admin@example.test
ARRIVAL_WEBDAV_ADMIN_PASSWORD_FILE=$base/admin-password
ARRIVAL_WEBDAV_ROOT=$base/dav
EOF
}

run_component "$@"
