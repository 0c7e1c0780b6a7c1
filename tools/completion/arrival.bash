# bash completion for arrival(1): the commands, each command's flags, and the values of flags that take a
# fixed set, a file or a directory. Installed by tools/meson.build; tests/doc/doc_sync_test.py checks that
# every flag `arrival COMMAND --help` lists is offered here (and nothing else), so the two cannot drift.

_arrival_commands="preflight probe calendars contacts files shares provision migrate verify plan run report"

# Flags per command, as each command's --help lists them (--help itself is added below).
_arrival_connection_flags="--source --dest --accounts --accounts-format --source-admin --source-password-file
  --dest-admin --dest-password-file --jobs --max-source-connections --max-dest-connections --report --include
  --exclude --ca-file --source-ca-file --dest-ca-file --insecure --starttls --no-starttls --allow-cleartext
  --strict-permissions --dest-profile --max-message-size --timeout --shard"
_arrival_pim_flags="--dir --accounts --dest --admin --password-file --carbonio-auth --admin-url --folder --jobs
  --report --ca-file --insecure --allow-cleartext --strict-permissions --collection --retries --timeout
  --progress --quiet --shard"

_arrival_flags() {
    case $1 in
    migrate) echo "$_arrival_connection_flags --state-dir --dry-run --collapse-duplicates --no-sync-flags --sync-deletes --batch --memory-mb
                   --spill-dir --connections-per-account --fixed-concurrency --progress --metrics --public --public-account --public-dest-account" ;;
    verify) echo "$_arrival_connection_flags --public --public-account --public-dest-account --flags --content --metrics" ;;
    preflight) echo "$_arrival_connection_flags --json --content --rest --rest-admin-url --rest-auth --metrics" ;;
    calendars) echo "$_arrival_pim_flags" ;;
    contacts) echo "$_arrival_pim_flags --csv-format --vcard-version" ;;
    files) echo "--source --accounts --dest --admin --password-file --source-admin --source-password-file --admin-url
                 --jobs --report --dry-run --ca-file --insecure --allow-cleartext --strict-permissions --retries
                 --timeout --spool-dir --progress --quiet --shard" ;;
    shares) echo "$_arrival_connection_flags --public --public-account --public-dest-account --map-domain --dry-run
                  --from --admin --password-file --admin-url --retries" ;;
    provision) echo "--dl-csv --ldap --bind-dn --bind-password-file --starttls --allow-cleartext
                     --strict-permissions --ca-file --insecure --emit --accounts-out --rename-domain --schema
                     --rules --no-default-rules --keep-server-entries --no-base-entries --check --report --window --shard" ;;
    run) echo "--run-dir --redo --dry-run --shard --metrics --progress" ;;
    plan) echo "--run-dir --shard" ;;
    report) echo "--out" ;;
    probe) echo "--user --admin --master-login --password-file --ca-file --insecure --starttls --allow-cleartext
                 --strict-permissions --json --timeout" ;;
    esac
}

_arrival() {
    local cur prev cmd
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    if ((COMP_CWORD == 1)); then
        mapfile -t COMPREPLY < <(compgen -W "$_arrival_commands --help" -- "$cur")
        return
    fi
    cmd=${COMP_WORDS[1]}

    # The value of the flag just typed.
    case $prev in
    --accounts-format) mapfile -t COMPREPLY < <(compgen -W "detect imapsync csv list" -- "$cur"); return ;;
    --dest-profile) mapfile -t COMPREPLY < <(compgen -W "auto carbonio generic" -- "$cur"); return ;;
    --progress) mapfile -t COMPREPLY < <(compgen -W "auto bar log none" -- "$cur"); return ;;
    --carbonio-auth | --rest-auth) mapfile -t COMPREPLY < <(compgen -W "delegate basic" -- "$cur"); return ;;
    --csv-format) mapfile -t COMPREPLY < <(compgen -W "outlook google thunderbird zimbra" -- "$cur"); return ;;
    --vcard-version) mapfile -t COMPREPLY < <(compgen -W "3.0 4.0" -- "$cur"); return ;;
    --redo) mapfile -t COMPREPLY < <(compgen -W "provision migrate calendars contacts files shares verify" -- "$cur"); return ;;
    --dir | --state-dir | --spill-dir | --spool-dir | --run-dir) mapfile -t COMPREPLY < <(compgen -d -- "$cur"); return ;;
    --accounts | --*-password-file | --password-file | --report | --*ca-file | --emit | --accounts-out | \
        --dl-csv | --schema | --rules | --from | --out)
        mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return ;;
    --source | --dest | --rest | --rest-admin-url | --admin-url | --ldap | --source-admin | --dest-admin | \
        --admin | --user | --public-account | --public-dest-account | --bind-dn | --jobs | --max-*-connections | --max-message-size | \
        --batch | --memory-mb | --include | --exclude | --folder | --collection | --retries | --timeout | \
        --rename-domain | --window | --shard | --map-domain)
        return ;;  # a value only the user knows
    esac

    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(_arrival_flags "$cmd") --help" -- "$cur")
    elif [[ $cmd == provision || $cmd == run ]]; then
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")  # LDIF files, the plan
    elif [[ $cmd == plan ]]; then
        if ((COMP_CWORD == 2)); then mapfile -t COMPREPLY < <(compgen -W "check" -- "$cur")
        else mapfile -t COMPREPLY < <(compgen -f -- "$cur"); fi
    elif [[ $cmd == report ]]; then
        if ((COMP_CWORD == 2)); then
            mapfile -t COMPREPLY < <(compgen -W "merge html" -- "$cur")
        else
            mapfile -t COMPREPLY < <(compgen -f -- "$cur")  # run directories and reports
        fi
    fi
}

complete -o filenames -F _arrival arrival
