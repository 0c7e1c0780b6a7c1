#!/usr/bin/env bash
# The Carbonio stand-in: test infrastructure modelled on Carbonio's public source via
# /work/shared/carbonio/FACTS.md (every rule cites its section there). It is NOT Carbonio: no Carbonio can run
# here, so this answers as Carbonio's code says it answers, and stores mail in the testbed's DST Dovecot.
#   carbonio.sh start DIR   needs DIR/dovecot.env (testbed starts dovecot first); runs under DIR/carbonio/:
#                           carbonio/imap_front.py  IMAP front before Dovecot DST (STARTTLS port + implicit TLS)
#                           carbonio/rest_service.py REST (/service/home, /service/soap) and admin SOAP, on TLS
#                           and writes DIR/carbonio.env
#   carbonio.sh stop DIR    stops both by the PIDs recorded at start and waits until they are gone
#   carbonio.sh reset-user DIR USER   empties USER's stand-in mailbox (calendar items, contacts, grants, folders back
#                           to the system ones, Carbonio Files nodes gone); the mail itself is Dovecot DST's (dovecot.sh reset-user DIR dst USER).
#                           The front's identical-APPEND counters live in memory and are not reset.
# Identity, as Carbonio's ImapHandler/ServerConfig write it (file:line in carbonio/imap_front.py's header):
#   greeting "* OK localhost Zimbra IMAP4rev1 server ready"; ID ("NAME" "Zimbra" "VERSION" "4.25.2" "RELEASE"
#   "arrival-standin" ["USER" "<user>"]); CAPABILITY after login = zimbraReverseProxyImapEnabledCapability's default
#   (the mailbox list without SPECIAL-USE and LOGIN-REFERRALS), no APPENDLIMIT; size limit 10240000 bytes.
# Both use the testbed certificate (DIR/tls, CA = ARRIVAL_TESTBED_CA). Users and their password are Dovecot DST's
# (ARRIVAL_DOVECOT_USER_PASSWORD). Secrets go to the processes in DIR/carbonio/config.json (mode 600), never argv.
# DIR/carbonio.env (KEY=value):
#   ARRIVAL_CARBONIO_IMAP_PORT        cleartext IMAP with STARTTLS; LOGINDISABLED and no AUTH= before TLS
#   ARRIVAL_CARBONIO_IMAPS_PORT       the same front on implicit TLS
#   ARRIVAL_CARBONIO_ADMIN / _ADMIN_PASSWORD   an admin that may act for every user (IMAP AUTHENTICATE PLAIN with
#                                     authzid; SOAP AuthRequest + DelegateAuthRequest; REST Basic auth)
#   ARRIVAL_CARBONIO_NOIMAP_ADMIN     an admin (same password) whose zimbraImapEnabled is FALSE: IMAP auth refused
#   ARRIVAL_CARBONIO_REST_URL         https://127.0.0.1:PORT  /service/home/USER/..., /service/soap
#   ARRIVAL_CARBONIO_ADMIN_URL        https://127.0.0.1:PORT  /service/admin/soap
#   ARRIVAL_CARBONIO_EVENTS           JSON lines: every refused command, dropped connection, rule that fired
#   ARRIVAL_CARBONIO_DB               the REST side's SQLite (calendar items, contacts, folders per user; Files
#                                     nodes and versions, whose bytes are in files/<node>.<version> beside it)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/common.bash
. "$here/lib/common.bash"
component_args carbonio "start|stop|reset-user DIR ..." "$@"

stop() {
  stop_by_pid_file 5 "$base"/*.pid
}

# Waits until every port accepts a TLS handshake (the IMAP port: its greeting) or a process died (~10 s).
wait_ready() {
  python3 - "$dir/tls/ca.crt" "$@" <<'PY'
import socket, ssl, sys, time
ca, ports = sys.argv[1], [int(p) for p in sys.argv[2:]]
ctx = ssl.create_default_context(cafile=ca)
deadline = time.time() + 10
for i, port in enumerate(ports):
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                if i == 0:
                    if not s.recv(100).startswith(b"* OK"): sys.exit(f"port {port}: no IMAP greeting")
                else:
                    ctx.wrap_socket(s, server_hostname="localhost").close()
            break
        except OSError as e:
            if time.time() > deadline: sys.exit(f"carbonio: 127.0.0.1:{port} does not answer: {e}")
            time.sleep(0.05)
PY
}

start() {
  [ -f "$dir/dovecot.env" ] || { echo "carbonio.sh: $dir/dovecot.env missing: start dovecot first" >&2; exit 1; }
  bash "$here/cert" "$dir"
  mkdir -p "$base"
  chmod 700 "$base"
  local imap_port imaps_port rest_port admin_port
  read -r imap_port imaps_port rest_port admin_port < <(python3 "$here/free-port" 4)
  local admin=admin@example.test noimap_admin=noimap-admin@example.test admin_pw
  admin_pw=$(random_password)
  # The Dovecot secrets reach python through the environment of this one command, never its argv.
  (
    set -a; . "$dir/dovecot.env"; set +a
    export CARBONIO_ADMIN_PW=$admin_pw
    umask 077
    python3 - "$base/config.json" "$dir" "$base" "$imap_port" "$imaps_port" "$rest_port" "$admin_port" \
      "$admin" "$noimap_admin" <<'PY'
import json, os, sys
out, d, base, imap, imaps, rest, adm, admin, noimap = sys.argv[1:]
env = os.environ
users = [f"user{n:03d}@example.test" for n in range(1, 401)] + ["alice", "bob", "carol", "dave"]
cfg = {
    "imap_port": int(imap), "imaps_port": int(imaps), "rest_port": int(rest), "admin_port": int(adm),
    "tls_cert": f"{d}/tls/server.crt", "tls_key": f"{d}/tls/server.key", "tls_ca": f"{d}/tls/ca.crt",
    "dovecot_tls_port": int(env["ARRIVAL_DOVECOT_DST_TLS_PORT"]),
    "dovecot_master_user": env["ARRIVAL_DOVECOT_MASTER_USER"],
    "dovecot_master_password": env["ARRIVAL_DOVECOT_MASTER_PASSWORD"],
    "user_password": env["ARRIVAL_DOVECOT_USER_PASSWORD"], "users": users,
    "admin": admin, "noimap_admin": noimap, "admin_password": env["CARBONIO_ADMIN_PW"],
    "events": f"{base}/events.jsonl", "db": f"{base}/carbonio.sqlite",
}
with open(out, "w", encoding="utf-8") as f:
    json.dump(cfg, f, indent=1)
PY
  )
  : > "$base/events.jsonl"
  chmod 644 "$base/events.jsonl"
  python3 "$here/carbonio/imap_front.py" "$base/config.json" >"$base/imap.log" 2>&1 &
  echo $! > "$base/imap.pid"
  python3 "$here/carbonio/rest_service.py" "$base/config.json" >"$base/rest.log" 2>&1 &
  echo $! > "$base/rest.pid"
  if ! wait_ready "$imap_port" "$imaps_port" "$rest_port" "$admin_port"; then
    echo "carbonio.sh: the stand-in did not start; its logs:" >&2
    tail -20 "$base/imap.log" "$base/rest.log" >&2 || true
    stop; exit 1
  fi
  cat > "$dir/carbonio.env" <<EOF
ARRIVAL_CARBONIO_IMAP_PORT=$imap_port
ARRIVAL_CARBONIO_IMAPS_PORT=$imaps_port
ARRIVAL_CARBONIO_ADMIN=$admin
ARRIVAL_CARBONIO_ADMIN_PASSWORD=$admin_pw
ARRIVAL_CARBONIO_NOIMAP_ADMIN=$noimap_admin
ARRIVAL_CARBONIO_REST_URL=https://127.0.0.1:$rest_port
ARRIVAL_CARBONIO_ADMIN_URL=https://127.0.0.1:$admin_port
ARRIVAL_CARBONIO_EVENTS=$base/events.jsonl
ARRIVAL_CARBONIO_DB=$base/carbonio.sqlite
EOF
}

reset_user() {
  local user=${1:?usage: carbonio.sh reset-user DIR USER}
  [ -f "$base/carbonio.sqlite" ] || return 0
  python3 - "$base/carbonio.sqlite" "$user" <<'PY'
import contextlib, os, sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=30)
with db:
    for table in ("folders", "next_ids", "calendar_items", "timezones", "contacts", "grants"):
        db.execute(f"DELETE FROM {table} WHERE account=?", (sys.argv[2].lower(),))
    blobs = os.path.join(os.path.dirname(sys.argv[1]), "files")
    for v in db.execute("SELECT node, version FROM files_versions WHERE node IN (SELECT id FROM files_nodes "
                        "WHERE account=?)", (sys.argv[2].lower(),)).fetchall():
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(blobs, f"{v[0]}.{v[1]}"))
    db.execute("DELETE FROM files_versions WHERE node IN (SELECT id FROM files_nodes WHERE account=?)",
               (sys.argv[2].lower(),))
    db.execute("DELETE FROM files_nodes WHERE account=?", (sys.argv[2].lower(),))
PY
}

run_component "$@"
