#!/usr/bin/env bash
# pgcluster.sh: a throwaway PostgreSQL cluster for tests and the demo.
#
#   pgcluster.sh run [--keep] -- COMMAND...
#       initdb in a temp dir, start on a free port with a private socket,
#       export PGHOST PGPORT PGUSER PGDATABASE (and FKSCAN_PG_DIR), run
#       COMMAND, and stop the server whatever happens.  The server log is
#       printed when COMMAND fails.  Exit status is COMMAND's.  TMPDIR is a
#       directory of the run's, and servers left running under it (a test
#       killed before its own cleanup) are stopped too.
#   pgcluster.sh start DIR   start a cluster in DIR and print its env lines
#   pgcluster.sh stop DIR    stop it
#
#   pgcluster.sh run-standby [--keep] -- COMMAND...
#       as run, with a streaming hot standby of that primary (pg_basebackup -R
#       into a second data dir, its own port and socket dir): PGHOST/PGPORT
#       are the primary, FKSCAN_STANDBY_HOST / FKSCAN_STANDBY_PORT /
#       FKSCAN_STANDBY_DIR the standby.  Both are stopped whatever happens.
#   pgcluster.sh start-standby DIR [COUNT]   start a primary in DIR/primary
#       and its standby in DIR/standby (COUNT of them: DIR/standby2, ...),
#       wait until they stream, print the env lines
#       (also in DIR/env); on failure, stop what was started
#   pgcluster.sh stop-standby DIR    stop both (safe to call twice)
#
# The standby runs with hot_standby = on, hot_standby_feedback = off and the
# default max_standby_streaming_delay (30s); tests change it with ALTER
# SYSTEM on the standby and pg_reload_conf() (allowed during recovery).
#
# initdb refuses to run as root: as root, the server runs as the "postgres"
# user (or a "fkscan" user created here).  fsync is off: data is throwaway.
set -euo pipefail

# The bindir of the newest Debian major (empty if none).
newest_debian_bindir() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true
}

find_bindir() {
    if [ -n "${PG_BINDIR:-}" ]; then echo "$PG_BINDIR"; return; fi
    local d
    d=$(newest_debian_bindir)
    if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return; fi
    d=$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")
    if [ -x "$d/initdb" ]; then echo "$d"; return; fi
    echo "pgcluster.sh: error: no PostgreSQL server binaries found (install postgresql)" >&2
    exit 2
}

BINDIR=$(find_bindir)

# Debian's psql is pg_wrapper, a Perl script that picks a version and then
# execs the real psql: it doubles the cost of each psql a test runs (tests
# run thousands).  The clients of the newest Debian major come first in PATH
# for the commands run here.
use_client_bindir() {
    local d
    d=$(newest_debian_bindir)
    if [ -n "$d" ] && [ -x "$d/psql" ]; then PATH=$d:$PATH; fi
    return 0
}

# Run a server command as the cluster's OS user.
as_pguser() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u "$PGOSUSER" -- "$@"
    else
        "$@"
    fi
}

# Explicit "return 0": in an EXIT trap a bare return would return the
# status the trap was entered with, and set -e would cut the cleanup short.
pick_os_user() {
    if [ "$(id -u)" != 0 ]; then PGOSUSER=$(id -un); return 0; fi
    if id postgres >/dev/null 2>&1; then PGOSUSER=postgres; return 0; fi
    id fkscan >/dev/null 2>&1 || useradd --system --no-create-home fkscan
    PGOSUSER=fkscan
    return 0
}

# Start the server of DIR/data on a free port (a few tries: another test's
# cluster may take the port first); sets SERVER_PORT.
start_server() {
    local dir=$1 port tries=0
    while :; do
        port=$(( 20000 + RANDOM % 30000 ))
        if as_pguser "$BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
            -o "-p $port" start >/dev/null 2>&1; then
            break
        fi
        tries=$((tries + 1))
        if [ $tries -ge 5 ]; then
            echo "pgcluster.sh: error: could not start the server in $dir" >&2
            cat "$dir/server.log" >&2 || true
            return 2
        fi
    done
    SERVER_PORT=$port
    return 0
}

start_cluster() {
    local dir=$1 port
    pick_os_user
    mkdir -p "$dir"
    chmod 0755 "$dir"
    [ "$(id -u)" = 0 ] && chown "$PGOSUSER" "$dir"
    as_pguser "$BINDIR/initdb" -D "$dir/data" -U postgres --auth=trust \
        --no-sync -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; return 2; }
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 256MB
max_connections = 200
wal_level = replica
max_wal_senders = 4
wal_keep_size = 256MB
password_encryption = 'scram-sha-256'
hot_standby = on
log_min_messages = warning
log_line_prefix = '%m [%p] %q%u@%d '
CONF
    # Local sockets trust; TCP asks for a password (tests of -W/bad password).
    cat >"$dir/data/pg_hba.conf" <<HBA
local all all trust
local replication all trust
host all all 127.0.0.1/32 scram-sha-256
host replication all 127.0.0.1/32 trust
HBA
    start_server "$dir" || return 2
    port=$SERVER_PORT
    cat >"$dir/env" <<ENV
export PGHOST='$dir'
export PGPORT='$port'
export PGUSER=postgres
export PGDATABASE=postgres
export FKSCAN_PG_DIR='$dir'
export FKSCAN_PG_BINDIR='$BINDIR'
export FKSCAN_PG_OSUSER='$PGOSUSER'
ENV
    cat "$dir/env"
}

stop_cluster() {
    local dir=$1
    pick_os_user
    [ -f "$dir/data/postmaster.pid" ] || return 0
    as_pguser "$BINDIR/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
}

# A base backup without a pg_basebackup of the server's major (the npm
# packages have none; Debian's refuses newer servers): the server's own
# non-exclusive backup functions in one psql session, a file copy between
# start and stop, the backup_label the stop returns; then standby.signal
# and primary_conninfo, as pg_basebackup -R writes them.  The standby
# streams the WAL from the backup's start on (wal_keep_size keeps it).
base_backup_by_functions() {
    local pdir=$1 pport=$2 sdir=$3 version start stop
    version=$(psql -X -A -t -h "$pdir" -p "$pport" -U postgres -d postgres -c 'SHOW server_version_num')
    if [ "$version" -ge 150000 ]; then     # 15 renamed them
        start="SELECT pg_catalog.pg_backup_start('fkscan', true)"
        stop="SELECT labelfile FROM pg_catalog.pg_backup_stop(false)"
    else
        start="SELECT pg_catalog.pg_start_backup('fkscan', true, false)"
        stop="SELECT labelfile FROM pg_catalog.pg_stop_backup(false, false)"
    fi
    mkdir -p "$sdir/data"
    chmod 0700 "$sdir/data"
    [ "$(id -u)" = 0 ] && chown "$PGOSUSER" "$sdir/data"
    as_pguser psql -X -q -v ON_ERROR_STOP=1 -h "$pdir" -p "$pport" -U postgres -d postgres <<SQL
$start;
\\! cd '$pdir/data' && tar --exclude=./postmaster.pid --exclude=./postmaster.opts --exclude='./pg_wal/*' -cf - . | tar -xf - -C '$sdir/data'
\\pset format unaligned
\\pset tuples_only on
\\o '$sdir/data/backup_label'
$stop;
\\o
SQL
    mkdir -p "$sdir/data/pg_wal/archive_status"
    touch "$sdir/data/standby.signal"
    echo "primary_conninfo = 'host=''$pdir'' port=$pport user=postgres'" >>"$sdir/data/postgresql.auto.conf"
    [ "$(id -u)" = 0 ] && chown -R "$PGOSUSER" "$sdir/data"
    return 0
}

# A streaming hot standby of the primary in PDIR (port PPORT) in SDIR;
# SERVER_PORT is then its port.
add_standby() {
    local pdir=$1 pport=$2 sdir=$3
    mkdir -p "$sdir"
    chmod 0755 "$sdir"
    [ "$(id -u)" = 0 ] && chown "$PGOSUSER" "$sdir"
    if [ -x "$BINDIR/pg_basebackup" ]; then
        as_pguser "$BINDIR/pg_basebackup" -D "$sdir/data" -R -X stream -c fast --no-sync \
            -h "$pdir" -p "$pport" -U postgres >"$sdir/basebackup.log" 2>&1 \
            || { echo "pgcluster.sh: error: pg_basebackup failed" >&2
                 cat "$sdir/basebackup.log" >&2; return 2; }
    else
        base_backup_by_functions "$pdir" "$pport" "$sdir" >"$sdir/basebackup.log" 2>&1 \
            || { echo "pgcluster.sh: error: the base backup failed" >&2
                 cat "$sdir/basebackup.log" >&2; return 2; }
    fi
    # later lines win over the primary's settings copied with the data dir
    cat >>"$sdir/data/postgresql.conf" <<CONF
# standby
unix_socket_directories = '$sdir'
hot_standby = on
hot_standby_feedback = off
max_standby_streaming_delay = 30s
wal_receiver_status_interval = 1s
CONF
    start_server "$sdir" || return 2
}

# A primary in DIR/primary and COUNT (default 1) streaming hot standbys in
# DIR/standby, DIR/standby2, ...; the env lines name the first as
# FKSCAN_STANDBY_*, the others as FKSCAN_STANDBY2_* and so on.
start_standby_pair() {
    local dir=$1 count=${2:-1} pdir sdir pport n i suffix
    pdir=$dir/primary
    mkdir -p "$dir"
    chmod 0755 "$dir"       # the server's OS user walks through it
    start_cluster "$pdir" >/dev/null || return 2
    pport=$SERVER_PORT
    cat "$pdir/env" >"$dir/env.new"
    for i in $(seq 1 "$count"); do
        suffix=$([ "$i" = 1 ] || echo "$i")
        sdir=$dir/standby$suffix
        add_standby "$pdir" "$pport" "$sdir" || return 2
        cat >>"$dir/env.new" <<ENV
export FKSCAN_STANDBY${suffix}_HOST='$sdir'
export FKSCAN_STANDBY${suffix}_PORT='$SERVER_PORT'
export FKSCAN_STANDBY${suffix}_DIR='$sdir'
ENV
    done
    # streaming: the primary's pg_stat_replication shows them
    for _ in $(seq 1 300); do
        n=$(psql -X -A -t -h "$pdir" -p "$pport" -U postgres -d postgres -c \
            "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'" 2>/dev/null || true)
        [ "$n" = "$count" ] && break
        sleep 0.1
    done
    if [ "$n" != "$count" ]; then
        echo "pgcluster.sh: error: $count standbys are not streaming after 30 s" >&2
        tail -n 30 "$dir"/standby*/server.log >&2 || true
        return 2
    fi
    mv "$dir/env.new" "$dir/env"
    cat "$dir/env"
    return 0
}

# Explicit "return 0" (see pick_os_user): this runs from an EXIT trap.
stop_standby_pair() {
    local dir=$1 sdir
    for sdir in "$dir"/standby*; do
        [ -d "$sdir" ] && stop_cluster "$sdir"
    done
    stop_cluster "$dir/primary"
    return 0
}

# Servers a test started under DIR and could not stop itself (killed by a
# ctest timeout, say): "run" stops them with the suite's own cluster.
stop_clusters_under() {
    local pid
    while IFS= read -r pid; do
        stop_cluster "$(dirname "$(dirname "$pid")")"
    done < <(find "$1" -path '*/data/postmaster.pid' 2>/dev/null)
    return 0
}

print_logs() {
    local f
    for f in "$@"; do
        if [ -s "$f" ]; then
            echo "---- server log ($f), last 60 lines ----" >&2
            tail -n 60 "$f" >&2
        fi
    done
    return 0
}

case "${1:-}" in
    start) start_cluster "$2" ;;
    stop) stop_cluster "$2" ;;
    start-standby)
        [ -n "${2:-}" ] || { echo "usage: pgcluster.sh start-standby DIR" >&2; exit 2; }
        if ! start_standby_pair "$2" "${3:-1}"; then
            stop_standby_pair "$2"
            exit 2
        fi
        ;;
    stop-standby)
        [ -n "${2:-}" ] || { echo "usage: pgcluster.sh stop-standby DIR" >&2; exit 2; }
        stop_standby_pair "$2"
        ;;
    run-standby)
        shift
        keep=0
        if [ "${1:-}" = "--keep" ]; then keep=1; shift; fi
        [ "${1:-}" = "--" ] && shift
        dir=$(mktemp -d /tmp/fkscan-pgsb.XXXXXX)
        cleanup() {
            set +e
            stop_standby_pair "$dir"
            [ "$keep" = 1 ] || rm -rf "$dir"
            return 0
        }
        trap cleanup EXIT
        trap 'exit 130' INT TERM
        use_client_bindir
        start_standby_pair "$dir" >/dev/null
        # shellcheck disable=SC1091
        . "$dir/env"
        set +e
        "$@"
        rc=$?
        set -e
        if [ $rc != 0 ]; then
            print_logs "$dir/primary/server.log" "$dir/standby/server.log"
        fi
        exit $rc
        ;;
    run)
        shift
        keep=0
        if [ "${1:-}" = "--keep" ]; then keep=1; shift; fi
        [ "${1:-}" = "--" ] && shift
        dir=$(mktemp -d /tmp/fkscan-pg.XXXXXX)
        cleanup() {
            set +e
            stop_clusters_under "$dir/tmp"
            stop_cluster "$dir"
            [ "$keep" = 1 ] || rm -rf "$dir"
        }
        trap cleanup EXIT
        trap 'exit 130' INT TERM
        use_client_bindir
        start_cluster "$dir" >/dev/null
        # the command's temp files (and the standby pairs tests start) live
        # in the run's directory, so nothing outlives it
        mkdir -m 1777 "$dir/tmp"
        export TMPDIR=$dir/tmp
        # shellcheck disable=SC1091
        . "$dir/env"
        set +e
        "$@"
        rc=$?
        set -e
        if [ $rc != 0 ] && [ -s "$dir/server.log" ]; then
            echo "---- server log ($dir/server.log), last 60 lines ----" >&2
            tail -n 60 "$dir/server.log" >&2
        fi
        exit $rc
        ;;
    *)
        echo "usage: pgcluster.sh run [--keep] -- COMMAND... | start DIR | stop DIR" >&2
        echo "       pgcluster.sh run-standby [--keep] -- COMMAND... | start-standby DIR | stop-standby DIR" >&2
        exit 2
        ;;
esac
