# FkTest: helpers for fkscan's integration tests (Perl TAP, core modules).
#
# The cluster comes from tests/harness/pgcluster.sh, which exports PGHOST,
# PGPORT and PGUSER=postgres (a superuser; the local socket trusts, TCP on
# 127.0.0.1 asks for a scram password).  ctest sets FKSCAN to the binary
# under test and FKSCAN_SOURCE_DIR to the source tree.  Each test file makes
# its own database, so files can run in parallel.
#
#   my $db = FkTest::new_db('audit');               # drop if exists, create
#   FkTest::copy_db($db, 'audit_2');                # a copy of it
#   my $out = FkTest::psql($db, $sql);              # trimmed stdout, or die
#   my ($rc, $out, $err) = FkTest::fkscan(@args);
#   my ($rc, $json, $err) = FkTest::fkscan_json(@args);
#   FkTest::as_role('alice', sub { FkTest::fkscan(...) });  # via PGUSER
#   my %pair = FkTest::start_standby_pair($dir);    # primary + hot standby
#
# Strings stay bytes throughout (psql's output, fkscan's JSON, test file
# literals without "use utf8"), so non-ASCII names compare as they are.
package FkTest;

use strict;
use warnings;
use Carp;
use File::Temp ();
use JSON::PP ();
use POSIX ();

# Run a command with $stdin as its input; returns (exit code, stdout, stderr).
# Output goes through files, so neither side can block on a full pipe.  A
# command killed by a signal reports 128 + the signal number, as a shell does.
# With setsid => 1 the command runs in a new session, without a controlling
# terminal (so a password prompt reads stdin).
sub run_command {
    my ($cmd, $stdin, %opt) = @_;
    my $in = File::Temp->new;
    my $out = File::Temp->new;
    my $err = File::Temp->new;
    print {$in} (defined $stdin ? $stdin : '');
    close $in;

    my $pid = fork;
    croak "fork: $!" unless defined $pid;
    if ($pid == 0) {
        # the child must never return into the test (Test::More's END blocks)
        POSIX::setsid() if $opt{setsid};
        open(STDIN, '<', $in->filename) or POSIX::_exit(127);
        open(STDOUT, '>', $out->filename) or POSIX::_exit(127);
        open(STDERR, '>', $err->filename) or POSIX::_exit(127);
        { exec { $cmd->[0] } @$cmd }    # a block: exec's failure falls through
        print STDERR "exec $cmd->[0]: $!\n";
        POSIX::_exit(127);
    }
    waitpid($pid, 0);
    my $status = $?;
    my $rc = ($status & 127) ? 128 + ($status & 127) : $status >> 8;
    return ($rc, slurp($out->filename), slurp($err->filename));
}

sub slurp {
    my ($file) = @_;
    open(my $fh, '<:raw', $file) or croak "open $file: $!";
    local $/;
    my $text = <$fh>;
    close $fh;
    return defined $text ? $text : '';
}

# "name" as an SQL identifier / 'text' as an SQL literal.
sub quote_ident {
    my ($name) = @_;
    $name =~ s/"/""/g;
    return qq{"$name"};
}

sub quote_literal {
    my ($text) = @_;
    $text =~ s/'/''/g;
    return "'$text'";
}

# Run SQL (any number of statements, as a script) in $db as the current
# PGUSER.  Returns stdout (unaligned, tuples only, "|" between columns) with
# trailing white space removed; dies with psql's stderr when a statement
# fails.
sub psql {
    my ($db, $sql) = @_;
    my ($rc, $out, $err) = run_command(
        ['psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', $db, '-f', '-'], $sql);
    croak "psql -d $db failed (exit $rc): $err" if $rc != 0;
    $out =~ s/\s+\z//;
    return $out;
}

# A fresh, empty database named $name (dropped first if it exists).
sub new_db {
    my ($name) = @_;
    my $version = psql('postgres', 'SHOW server_version_num');
    my $force = $version >= 130000 ? ' WITH (FORCE)' : '';
    psql('postgres', 'DROP DATABASE IF EXISTS ' . quote_ident($name) . $force);
    psql('postgres', 'CREATE DATABASE ' . quote_ident($name));
    return $name;
}

# Run the fkscan under test; returns (exit code, stdout, stderr).
# A fresh database $name made from $template (dropped first if it exists).
sub copy_db {
    my ($template, $name) = @_;
    psql('postgres', 'DROP DATABASE IF EXISTS ' . quote_ident($name));
    psql('postgres', 'CREATE DATABASE ' . quote_ident($name) . ' TEMPLATE ' . quote_ident($template));
    return $name;
}

sub fkscan {
    my (@args) = @_;
    my $bin = $ENV{FKSCAN} or croak 'FKSCAN is not set (run the tests through ctest)';
    return run_command([$bin, @args], '');
}

# Run fkscan with --format=json (added unless @args has a --format) and
# decode its stdout; returns (exit code, decoded object or undef, stderr).
sub fkscan_json {
    my (@args) = @_;
    push @args, '--format=json' unless grep { /^--format/ } @args;
    my ($rc, $out, $err) = fkscan(@args);
    my $json = eval { JSON::PP->new->decode($out) };
    if (!defined $json) {
        my $why = $@ || 'no output';
        Test::More::diag("fkscan @args: stdout is not JSON ($why): $out");
    }
    return ($rc, $json, $err);
}

# Run $code with PGUSER set to $role (psql and fkscan both connect as it).
sub as_role {
    my ($role, $code) = @_;
    local $ENV{PGUSER} = $role;
    return $code->();
}

# Where the source tree is (for tests/demo/shop.sql and friends).
sub source_dir {
    return $ENV{FKSCAN_SOURCE_DIR} if $ENV{FKSCAN_SOURCE_DIR};
    require File::Basename;
    require File::Spec;
    return File::Spec->rel2abs(File::Basename::dirname(__FILE__) . '/../..');
}

# A primary and its streaming hot standby in $dir (pgcluster.sh
# start-standby); psql and fkscan then talk to the primary.  Returns the
# pair's env lines as a hash (FKSCAN_STANDBY_HOST, FKSCAN_STANDBY_PORT...;
# with $count standbys, FKSCAN_STANDBY2_HOST... for the second and so on).
# Bails out when the pair cannot start.  stop_standby_pair($dir) stops it.
sub start_standby_pair {
    my ($dir, $count) = @_;
    my ($rc, $out, $err) = run_command([source_dir() . '/tests/harness/pgcluster.sh', 'start-standby', $dir,
                                        $count // 1]);
    if ($rc != 0) {
        require Test::More;
        Test::More::BAIL_OUT("pgcluster.sh start-standby failed (exit $rc): $err");
    }
    my %pair = $out =~ /^export (\w+)='?([^'\n]*)'?$/mg;
    $ENV{$_} = $pair{$_} for qw(PGHOST PGPORT PGUSER PGDATABASE);
    return %pair;
}

# Where the primary's WAL ends, flushed: the harness runs with
# synchronous_commit = off, so pg_current_wal_lsn() can lag behind a commit
# psql already saw; a synchronous commit that writes WAL (a transactional
# logical message) flushes everything before it.  A standby that replayed
# up to it has everything committed so far.
sub primary_flush_lsn {
    return psql('postgres', "BEGIN; SET LOCAL synchronous_commit = on; "
                . "SELECT pg_logical_emit_message(true, 'fkscan-test', '') \\g /dev/null\n"
                . "COMMIT; SELECT pg_current_wal_flush_lsn();");
}

sub stop_standby_pair {
    my ($dir) = @_;
    run_command([source_dir() . '/tests/harness/pgcluster.sh', 'stop-standby', $dir]);
}

# SQL counting granted $mode locks on $table (its SQL name) in the current
# database.  pg_locks, like pg_stat_activity, is cluster-wide and other tests
# run beside this one: a wait must never be satisfied by their sessions.
sub lock_held_sql {
    my ($table, $mode) = @_;
    return "SELECT count(*) FROM pg_locks WHERE relation = " . quote_literal($table) . "::regclass "
        . "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        . "AND mode = " . quote_literal($mode) . " AND granted";
}

# Run fkscan @args in $db while another session holds ACCESS EXCLUSIVE on
# $table (its SQL name): once fkscan has its
# snapshot and waits for the lock, that session runs $sql and commits.  So
# $sql lands after the scan's snapshot and before it reads.  Returns
# (exit code, stdout, stderr).
sub run_behind_lock {
    my ($db, $table, $sql, @args) = @_;
    require File::Temp;
    open(my $locker, '|-', 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $db) or die "psql: $!";
    $locker->autoflush(1);
    print $locker "BEGIN; LOCK TABLE $table IN ACCESS EXCLUSIVE MODE;\n";
    wait_until($db, lock_held_sql($table, 'AccessExclusiveLock'));
    my ($outfh, $outfile) = File::Temp::tempfile();
    my ($errfh, $errfile) = File::Temp::tempfile();
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open(STDOUT, '>&', $outfh) or POSIX::_exit(127);
        open(STDERR, '>&', $errfh) or POSIX::_exit(127);
        exec($ENV{FKSCAN}, @args) or POSIX::_exit(127);
    }
    wait_until($db, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
               . "AND application_name = 'fkscan' AND wait_event_type = 'Lock'");
    print $locker "$sql; COMMIT;\n";
    close $locker;
    waitpid($pid, 0);
    my $rc = $? >> 8;
    my ($out, $err) = (slurp($outfile), slurp($errfile));
    unlink $outfile, $errfile;
    return ($rc, $out, $err);
}

# Poll $sql (a count) in $db until it is positive; bail out after 30 s.
sub wait_until {
    my ($db, $sql) = @_;
    require Time::HiRes;
    my $t0 = Time::HiRes::time();
    while (Time::HiRes::time() - $t0 < 30) {
        return if psql($db, $sql) > 0;
        Time::HiRes::usleep(50_000);
    }
    require Test::More;
    Test::More::BAIL_OUT("timed out waiting for: $sql");
}

1;
