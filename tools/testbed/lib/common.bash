# shellcheck shell=bash
# What the testbed's component scripts (tools/testbed/*.sh) share; each sources this file:
#   component_args, run_component   the command line every component takes: COMMAND DIR [...]
#   stop_by_pid_file      stopping a server by the PID file it wrote (every component's stop)
#   random_password       the per-start test passwords
#   run_imap_check        a Python IMAP check that first waits for the server's port (the Dovecot scripts)
#   dovecot_*             what dovecot.sh and dovecot-acl.sh have in common: making an instance's directory,
#                         passwd-files and the common part of its dovecot.conf, starting and checking the
#                         instances, the env variables every instance has
# It lives in lib/, not beside the scripts, because tools/testbed/testbed starts every tools/testbed/*.sh as a
# component. Sourcing it only defines functions; they expect $here, the scripts' directory (cert, free-port).

# component_args COMPONENT USAGE ARG...
# Reads the arguments every component script takes, COMMAND DIR [...] ("$@"): sets cmd, dir (made absolute:
# the configs and env files written name absolute paths), base=DIR/COMPONENT (the component's own directory)
# and component_usage ("COMPONENT.sh USAGE"). Without COMMAND or DIR: says the usage and exits.
component_args() {
  local component=$1
  component_usage="$1.sh $2"
  shift 2
  cmd=${1:?usage: $component_usage}
  dir=${2:?usage: $component_usage}
  dir=$(cd "$dir" && pwd)
  base=$dir/$component
}

# run_component ARG...: does what COMMAND asks, with the sourcing script's functions: start, stop, or (where
# the script has reset_user) reset-user, given the arguments after DIR. Any other command: usage, exit 2.
run_component() {
  case "$cmd" in
    start) start ;;
    stop) stop ;;
    reset-user) declare -F reset_user >/dev/null || exit_with_usage; shift 2; reset_user "$@" ;;
    *) exit_with_usage ;;
  esac
}

# Says how the component script is called and exits 2 (an unknown command).
exit_with_usage() {
  echo "usage: $component_usage" >&2
  exit 2
}

# stop_by_pid_file SECONDS PIDFILE...
# Stops the process whose PID each PIDFILE holds (in the order given): SIGTERM, then up to SECONDS for it to be
# gone (a server's master stops its children first), then SIGKILL and as long again; removes the PIDFILE.
# A missing PIDFILE, an empty one or a process already gone is no error: stop runs after failed starts too.
stop_by_pid_file() {
  local seconds=$1 pidfile pid
  shift
  for pidfile in "$@"; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      if ! wait_until_gone "$pid" "$seconds"; then
        kill -9 "$pid" 2>/dev/null || true
        wait_until_gone "$pid" "$seconds" || true
      fi
    fi
    rm -f "$pidfile"
  done
}

# wait_until_gone PID SECONDS: succeeds as soon as PID no longer exists, fails when it still does after SECONDS.
wait_until_gone() {
  local _
  for _ in $(seq $(($2 * 20))); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.05
  done
  ! kill -0 "$1" 2>/dev/null
}

# Prints a fresh random password (24 characters from [A-Za-z0-9]): test-only secrets, new at every start.
random_password() {
  head -c 18 /dev/urandom | base64 | tr -d '/+='
}

# run_imap_check PORT [ARG...] <<'PY' ... PY
# Runs the Python check on stdin with sys.argv = ['-c', PORT, ARG...] after a prelude that imports imaplib, os,
# ssl, sys and time, sets port = int(PORT), and waits (~10 s) until 127.0.0.1:PORT accepts an IMAP connection,
# left open in c: a server just started may not listen yet.
run_imap_check() {
  python3 -c "$(cat <<'PY'
import imaplib, os, ssl, sys, time
port = int(sys.argv[1])
deadline = time.time() + 10
while True:
    try:
        c = imaplib.IMAP4("127.0.0.1", port); break
    except OSError as e:
        if time.time() > deadline: sys.exit(f"no answer on 127.0.0.1:{port}: {e}")
        time.sleep(0.05)
PY
)"$'\n'"$(cat)" "$@"
}

# --- Dovecot (dovecot.sh, dovecot-acl.sh) ---
# Each instance lives in BASE/<name>/: dovecot.conf, users, masters, log, run/ (base_dir, master.pid), state/,
# mail/ (maildirs), public/ (the public namespace's maildir). A script using these functions defines
#   write_conf NAME PORT TLS_PORT       writes BASE/NAME/: dovecot_make_root, dovecot.conf (dovecot_conf_*
#                                       and its own settings), dovecot_write_passwd_files
#   check_instance NAME PORT TLS_PORT   fails (saying why on stderr) when the instance does not answer as the
#                                       tests need
#   stop                                stops every instance (dovecot_stop)

# dovecot_stop BASE NAME...: stops the instances by their masters' PID files (the master stops its children,
# shutdown_clients=yes, before it exits).
dovecot_stop() {
  local base=$1 name
  shift
  for name in "$@"; do stop_by_pid_file 10 "$base/$name/run/master.pid"; done
}

# dovecot_make_root ROOT: the instance's directories. Mail processes run as the system user "mail" (Dovecot
# refuses uid 0): they own the maildirs and traverse ROOT (search only, no listing).
dovecot_make_root() {
  local root=$1
  mkdir -p "$root/run" "$root/state" "$root/mail" "$root/public"
  chmod 711 "$root"
  chown mail:mail "$root/mail" "$root/public"
}

# dovecot_write_passwd_files ROOT < USERS: ROOT/users from stdin (passwd-file lines
# user:password:uid:gid:gecos:home:shell:extra; uid/gid/home come from default_fields) and ROOT/masters with the
# master user; both root-only (the auth process runs as root).
dovecot_write_passwd_files() {
  local root=$1
  cat > "$root/users"
  printf '%s:%s\n' "$master_user" "$master_pw" > "$root/masters"
  chmod 600 "$root/users" "$root/masters"
}

# dovecot_conf_head ROOT INSTANCE_NAME TLS_DIR: the settings that open every instance's dovecot.conf (paths,
# TLS, auth, mail user and location, the acl plugin, the passwd-files).
dovecot_conf_head() {
  local root=$1 instance_name=$2 tls=$3
  cat <<CONF
instance_name = $instance_name
base_dir = $root/run
state_dir = $root/state
log_path = $root/log
info_log_path = $root/log
protocols = imap
listen = 127.0.0.1
# Loopback test server: LOGIN in cleartext is allowed, STARTTLS and implicit TLS are offered.
disable_plaintext_auth = no
ssl = yes
ssl_cert = <$tls/server.crt
ssl_key = <$tls/server.key
ssl_min_protocol = TLSv1.2
auth_mechanisms = plain login
auth_master_user_separator = *
# Dovecot never runs mail processes as uid 0: they run as the system user "mail" (uid 8); internal and
# login processes as the package's unprivileged users; auth as root (it reads the root-only passwd-files).
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = $(id -u mail)
first_valid_gid = $(id -g mail)
mail_uid = mail
mail_gid = mail
mail_location = maildir:$root/mail/%d/%n
# acl: folder rights come from ACL files (the plugin block says which).
mail_plugins = acl
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $root/masters
  master = yes
  pass = yes
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $root/users
}
userdb {
  driver = passwd-file
  args = username_format=%u $root/users
  default_fields = uid=mail gid=mail home=$root/mail/%d/%n
}
CONF
}

# dovecot_conf_namespaces ROOT PREFIX SEPARATOR PUBLIC_PREFIX MAILBOX:AUTO...: the personal namespace (the
# special-use folders given, in that order, e.g. Sent:subscribe, Junk:create) and the RFC 2342 public one.
dovecot_conf_namespaces() {
  local root=$1 prefix=$2 sep=$3 pub_prefix=$4 mailbox folder auto
  shift 4
  printf 'namespace inbox {\n  inbox = yes\n  prefix = %s\n  separator = %s\n' "$prefix" "$sep"
  for mailbox in "$@"; do
    folder=${mailbox%%:*} auto=${mailbox#*:}
    printf '  mailbox %s {\n    special_use = \\%s\n    auto = %s\n  }\n' "$folder" "$folder" "$auto"
  done
  cat <<CONF
}
# RFC 2342 public ("shared") namespace, owned by no user: every user sees the same folders. Dovecot
# requires every listed namespace to use the personal separator.
namespace public {
  type = public
  prefix = $pub_prefix
  separator = $sep
  location = maildir:$root/public
  subscriptions = no
  list = children
}
CONF
}

# dovecot_conf_services PORT TLS_PORT: the listeners (cleartext with STARTTLS, implicit TLS) and the services'
# users and sockets.
dovecot_conf_services() {
  cat <<CONF
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $1
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $2
    ssl = yes
  }
}
# The auth process reads the passwd-files under DIR (a root-only mktemp directory): it runs as root.
service auth {
  user = root
}
service auth-worker {
  user = root
}
service anvil {
  chroot =
}
service stats {
  unix_listener stats-reader {
    mode = 0666
  }
  unix_listener stats-writer {
    mode = 0666
  }
}
CONF
}

# dovecot_start_instances SCRIPT DIR BASE NAME...
# Makes the secrets (user_pw, master_user, master_pw), gives each instance two free ports
# (dovecot_port[NAME], dovecot_tls_port[NAME]), writes (write_conf) and starts every instance, then checks
# each (check_instance) and empties their mail stores (the checks' logins created mailboxes). On failure: the
# instance's log on stderr, every instance stopped, exit 1.
# shellcheck disable=SC2154  # here: the sourcing script's directory
dovecot_start_instances() {
  local script=$1 dir=$2 base=$3 name i=0 ports
  shift 3
  [ -x /usr/sbin/dovecot ] || { echo "$script: /usr/sbin/dovecot missing (apt-get install dovecot-imapd)" >&2; exit 1; }
  bash "$here/cert" "$dir"
  mkdir -p "$base"
  # The mail processes (uid mail) must traverse DIR (mktemp makes it 0700) to reach their maildirs.
  chmod o+x "$dir" "$base"
  user_pw=$(random_password)
  master_pw=$(random_password)
  master_user=master
  declare -gA dovecot_port=() dovecot_tls_port=()
  read -r -a ports < <(python3 "$here/free-port" $((2 * $#)))
  for name in "$@"; do
    dovecot_port[$name]=${ports[$((2 * i))]}
    dovecot_tls_port[$name]=${ports[$((2 * i + 1))]}
    i=$((i + 1))
    write_conf "$name" "${dovecot_port[$name]}" "${dovecot_tls_port[$name]}"
    /usr/sbin/dovecot -c "$base/$name/dovecot.conf" || dovecot_fail "$script" "$base" "$name" "did not start"
  done
  for name in "$@"; do
    check_instance "$name" "${dovecot_port[$name]}" "${dovecot_tls_port[$name]}" ||
      dovecot_fail "$script" "$base" "$name" "does not answer as expected"
  done
  for name in "$@"; do find "$base/$name/mail" "$base/$name/public" -mindepth 1 -delete; done
}

# dovecot_fail SCRIPT BASE NAME WHAT: says what went wrong with the tail of the instance's log, stops every
# instance, exits 1.
dovecot_fail() {
  echo "$1: dovecot ($3) $4; $2/$3/log:" >&2
  tail -20 "$2/$3/log" >&2 || true
  stop
  exit 1
}

# dovecot_print_env PREFIX DIR BASE NAME...: the variables every instance has, PREFIX_<NAME>_{PORT,TLS_PORT,
# CONF,MAIL,PUBLIC}, then PREFIX_USER_PASSWORD, PREFIX_MASTER_USER, PREFIX_MASTER_PASSWORD and
# ARRIVAL_TESTBED_CA, as KEY=value lines.
dovecot_print_env() {
  local prefix=$1 dir=$2 base=$3 name up
  shift 3
  for name in "$@"; do
    up=${name^^}
    echo "${prefix}_${up}_PORT=${dovecot_port[$name]}"
    echo "${prefix}_${up}_TLS_PORT=${dovecot_tls_port[$name]}"
    echo "${prefix}_${up}_CONF=$base/$name/dovecot.conf"
    echo "${prefix}_${up}_MAIL=$base/$name/mail"
    echo "${prefix}_${up}_PUBLIC=$base/$name/public"
  done
  echo "${prefix}_USER_PASSWORD=$user_pw"
  echo "${prefix}_MASTER_USER=$master_user"
  echo "${prefix}_MASTER_PASSWORD=$master_pw"
  echo "ARRIVAL_TESTBED_CA=$dir/tls/ca.crt"
}
