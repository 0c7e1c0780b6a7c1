#!/usr/bin/env bash
# Provisioning benchmark (issue 4):
#   1. parse + validate of a generated LDIF of N accounts (default 100,000): seconds and peak RSS, through
#      `arrival provision --check` (schema from the same files slapd includes)
#   2. online load into a fresh private slapd: `arrival provision --ldap` vs `ldapadd` of the very same
#      entries (arrival's --emit output, so both load identical data), entries/s; then arrival's rerun
#      (idempotent no-op: everything read back and compared)
# Usage: bench/provision/run.sh [ACCOUNTS [ONLINE_ACCOUNTS]]     (defaults 100000 and 20000)
# Uses the release build: build/tools/arrival/arrival if present, else build/tests/provision/provision_cli
# (override with ARRIVAL_PROVISION="path/to/arrival provision"). Needs python3, slapd, ldap-utils, GNU time.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
accounts=${1:-100000}
online=${2:-20000}
if [ -z "${ARRIVAL_PROVISION:-}" ]; then
  if [ -x build/tools/arrival/arrival ]; then ARRIVAL_PROVISION="$root/build/tools/arrival/arrival provision"
  elif [ -x build/tests/provision/provision_cli ]; then ARRIVAL_PROVISION="$root/build/tests/provision/provision_cli"
  else echo "run.sh: build first (tools/bootstrap), or set ARRIVAL_PROVISION" >&2; exit 2; fi
fi
work=$(mktemp -d /tmp/arrival-provision-bench.XXXXXX)
testbeds=()
cleanup() {
  for t in "${testbeds[@]}"; do bash "$root/tools/testbed/testbed" stop "$t" || true; done
  rm -rf "$work"
}
trap cleanup EXIT

schema_args=()
for f in /etc/ldap/schema/{core,cosine,inetorgperson,nis,dyngroup}.schema \
         "$root"/tools/testbed/slapd/schema/{amavisd,carbonio}.schema; do
  schema_args+=(--schema "$f")
done

echo "== generating $accounts accounts (4 domains)"
python3 tools/ldif_gen/ldif_gen.py --accounts "$accounts" --domains 4 --seed 1 -o "$work/big.ldif"
echo "   $(grep -c '^dn: ' "$work/big.ldif") entries, $(du -m "$work/big.ldif" | cut -f1) MB"

echo "== parse + validate (arrival provision --check)"
/usr/bin/time -f "   wall %e s, user %U s, peak RSS %M KB" $ARRIVAL_PROVISION "$work/big.ldif" "${schema_args[@]}" \
  --check > "$work/check.out" 2>"$work/check.err" || { cat "$work/check.err"; exit 1; }
tail -1 "$work/check.err"
head -1 "$work/check.out"

echo "== online load of $online accounts"
python3 tools/ldif_gen/ldif_gen.py --accounts "$online" --domains 4 --seed 2 -o "$work/online.ldif"
$ARRIVAL_PROVISION "$work/online.ldif" "${schema_args[@]}" --emit "$work/emitted.ldif" > /dev/null 2>&1
entries=$(grep -c '^dn: ' "$work/emitted.ldif")
echo "   $entries entries (base entries included)"

tb_a=$(bash tools/testbed/testbed start slapd); testbeds+=("$tb_a")
tb_b=$(bash tools/testbed/testbed start slapd); testbeds+=("$tb_b")
load_env() { set -a; . "$1/env"; set +a; }

load_env "$tb_b"
start=$(date +%s.%N)
ldapadd -x -H "$ARRIVAL_SLAPD_URL" -D "$ARRIVAL_SLAPD_BIND_DN" -y <(printf '%s' "$ARRIVAL_SLAPD_PASSWORD") \
  -f "$work/emitted.ldif" > /dev/null
end=$(date +%s.%N)
python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); print(f'   ldapadd:                 {s:7.2f} s  {int(sys.argv[3])/s:8.0f} entries/s')" "$start" "$end" "$entries"

load_env "$tb_a"
export ARRIVAL_LDAP_PASSWORD=$ARRIVAL_SLAPD_PASSWORD
for run in "first load" "rerun (no-op)"; do
  start=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$work/rss" $ARRIVAL_PROVISION "$work/online.ldif" --ldap "$ARRIVAL_SLAPD_URL" \
    --bind-dn "$ARRIVAL_SLAPD_BIND_DN" > "$work/load.out" 2> "$work/load.err" || { cat "$work/load.err"; exit 1; }
  end=$(date +%s.%N)
  python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); print(f'   arrival {sys.argv[4]:<16} {s:7.2f} s  {int(sys.argv[3])/s:8.0f} entries/s  peak RSS {int(sys.argv[5])//1024} MB')" \
    "$start" "$end" "$entries" "$run" "$(cat "$work/rss")"
  tail -1 "$work/load.out" | sed 's/^/   /'
done
