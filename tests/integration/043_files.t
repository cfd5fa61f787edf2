# Files fkscan writes hold table rows (#14 items 5, 6, 7, 8, 9, 10): they
# are created exclusively, never through a planted link, 0600 whatever the
# umask (the dry run's script's too); a repair's backup directory is its own; restore.sql describes only
# what committed.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use FkTest;

umask 022;
my $work = tempdir(CLEANUP => 1);
my $tpl = FkTest::new_db('files_tpl');
FkTest::psql($tpl, <<'SQL');
CREATE TABLE p (id int PRIMARY KEY);
CREATE TABLE c (id int PRIMARY KEY, pid int REFERENCES p);
INSERT INTO p SELECT g FROM generate_series(1, 100) g;
SET session_replication_role = replica;
INSERT INTO c SELECT g, CASE WHEN g % 10 = 0 THEN 1000 + g ELSE g % 100 + 1 END FROM generate_series(1, 200) g;
SQL
my $n = 0;
sub fresh_db { return FkTest::copy_db($tpl, 'files_' . $n++); }
sub mode { return (stat($_[0]))[2] & 07777; }
sub orphans { return FkTest::psql($_[0], 'SELECT count(*) FROM c WHERE pid NOT IN (SELECT id FROM p)'); }

# ---- planted links are refused, their targets untouched ----
my $victim = "$work/victim.txt";
sub plant {
    my ($link) = @_;
    open(my $fh, '>', $victim) or die;
    print {$fh} "precious\n";
    close $fh;
    unlink $link;
    symlink($victim, $link) or die "symlink: $!";
}
plant("$work/o.csv.partial");
my ($rc, $out, $err) = FkTest::fkscan('scan', '--orphans-out', "$work/o.csv", $tpl);
is($rc, 2, '--orphans-out, a link at its .partial: exit 2');
like($err, qr/^fkscan: error: refusing to write ".*o\.csv\.partial": it exists and is a symbolic link/m,
     '--orphans-out: says so, naming it');
is(FkTest::slurp($victim), "precious\n", '--orphans-out: the link target is untouched');
unlink "$work/o.csv.partial";

plant("$work/s.state.partial");
($rc, $out, $err) = FkTest::fkscan('scan', '--state', "$work/s.state", $tpl);
is($rc, 2, '--state, a link at its .partial: exit 2');
like($err, qr/refusing to write ".*s\.state\.partial": it exists and is a symbolic link/, '--state: says so');
is(FkTest::slurp($victim), "precious\n", '--state: the link target is untouched');
unlink "$work/s.state.partial";
plant("$work/l.state");
($rc, $out, $err) = FkTest::fkscan('scan', '--state', "$work/l.state", $tpl);
is($rc, 2, '--state that is a link: exit 2');
like($err, qr/could not open ".*l\.state": it is a symbolic link/, '--state that is a link: says so');
is(FkTest::slurp($victim), "precious\n", '--state that is a link: its target is untouched');

# a partial a killed run left (a regular file) is simply replaced
open(my $fh, '>', "$work/o.csv.partial") or die;
print {$fh} "stale\n";
close $fh;
($rc, $out, $err) = FkTest::fkscan('scan', '--orphans-out', "$work/o.csv", $tpl);
is($rc, 1, "a killed run's partial: replaced (exit 1)") or diag($err);
ok(!-e "$work/o.csv.partial", 'no partial is left');

# --orphans-out '-' or '': refused at once, no file named "-"
for my $bad ('-', '') {
    ($rc, $out, $err) = FkTest::fkscan('scan', '--orphans-out', $bad, $tpl);
    is($rc, 2, "--orphans-out '$bad': exit 2");
    like($err, qr/invalid value "\Q$bad\E" for option --orphans-out/, "--orphans-out '$bad': says so");
}
ok(!-e '-', 'no file named "-"');

# an FK column that is part of the primary key: its column once (#17 item 6)
FkTest::psql($tpl, <<'SQL');
CREATE TABLE cat (category_id int PRIMARY KEY);
CREATE TABLE film_cat (film_id int, category_id int REFERENCES cat, PRIMARY KEY (film_id, category_id));
SET session_replication_role = replica;
INSERT INTO film_cat VALUES (1, 5), (2, 6);
SQL
mkdir "$work/pkdir";
($rc, $out, $err) = FkTest::fkscan('scan', '-t', 'film_cat', '--orphans-out', "$work/pkdir/", $tpl);
is($rc, 1, 'FK column in the primary key: exit 1') or diag($err);
my ($pkfile) = glob("$work/pkdir/*.csv");
my @pklines = split /\r?\n/, FkTest::slurp($pkfile // '/dev/null');
is($pklines[0], 'relation,ctid,film_id,category_id,where', 'its header names each column once');
is(scalar(grep { /^public\.film_cat,"\(0,\d+\)",\d,\d,"[^,]*AND[^,]*"$/ } @pklines), 2,
   'every row: relation, ctid, film_id, category_id, where') or diag(join("\n", @pklines));
FkTest::psql($tpl, 'DROP TABLE film_cat, cat');

# ---- modes: 0600 under umask 022 ----
is(sprintf('%o', mode("$work/o.csv")), '600', '--orphans-out file: 0600');
mkdir "$work/odir";
($rc, $out, $err) = FkTest::fkscan('scan', '--orphans-out', "$work/odir/", $tpl);
is($rc, 1, '--orphans-out DIR: exit 1') or diag($err);
my @files = glob("$work/odir/*.csv");
ok(@files == 1 && mode($files[0]) == 0600, '--orphans-out DIR: its file 0600');
($rc, $out, $err) = FkTest::fkscan('scan', '--state', "$work/m.state", $tpl);
is(sprintf('%o', mode("$work/m.state")), '600', '--state file: 0600');

my $db = fresh_db();
($rc, $out, $err) = FkTest::fkscan('fix', '--strategy', 'delete', '--apply', '--backup-dir', "$work/b1", $db);
is($rc, 0, 'fix --apply: exit 0') or diag($err);
is(sprintf('%o', mode("$work/b1")), '700', 'backup directory: 0700');
my @bfiles = glob("$work/b1/*");
ok(@bfiles >= 2 && !grep({ mode($_) != 0600 } @bfiles), 'backup files and restore.sql: 0600')
    or diag(join(' ', map { sprintf('%s %o', $_, mode($_)) } @bfiles));
ok(!-e "$work/b1/restore.sql.pending", 'committed: no pending restore script left');

# the dry run's script writes its backups 0600 too, and never through a link
{
    my $db5 = fresh_db();
    ($rc, my $script, $err) = FkTest::fkscan('fix', '--strategy', 'delete', '--backup-dir', "$work/s1", $db5);
    is($rc, 1, 'fix dry run: exit 1') or diag($err);
    like($script, qr/TO PROGRAM 'umask 077 && set -C && exec cat > ''[^']*s1\/[^']*\.csv'''/,
         'the script: each backup through a noclobber, umask 077 shell');
    my @psql = ('psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $db5);
    mkdir "$work/s1", 0755;
    my ($bfile) = $script =~ /exec cat > ''([^']*)'''/;
    plant($bfile);
    my ($prc, $pout, $perr) = FkTest::run_command([@psql], $script);
    isnt($prc, 0, 'the script, a link at a backup file: psql stops') or diag($perr);
    is(FkTest::slurp($victim), "precious\n", 'the script: the link target is untouched');
    is(orphans($db5), 20, 'the script stopped before its COMMIT: nothing changed');
    unlink $bfile;
    ($prc, $pout, $perr) = FkTest::run_command([@psql], $script);
    is($prc, 0, 'the script runs') or diag($perr);
    is(orphans($db5), 0, 'the script repaired');
    my @sfiles = glob("$work/s1/*.csv");
    ok(@sfiles >= 1 && !grep({ mode($_) != 0600 } @sfiles), "the script's backup CSVs: 0600 under umask 022")
        or diag(join(' ', map { sprintf('%s %o', $_, mode($_)) } @sfiles));
}

# ---- the backup directory is this repair's own ----
($rc, $out, $err) = FkTest::fkscan('fix', '--strategy', 'delete', '--apply', '--backup-dir', "$work/b1", fresh_db());
is($rc, 2, 'a non-empty --backup-dir: exit 2');
like($err, qr/backup directory ".*b1" exists and is not empty/, 'a non-empty --backup-dir: says so');
mkdir "$work/empty";
($rc, $out, $err) = FkTest::fkscan('fix', '--strategy', 'delete', '--apply', '--backup-dir', "$work/empty", fresh_db());
is($rc, 0, 'an empty --backup-dir: used') or diag($err);
for my $bad ('', '-rf x') {
    for my $apply ([], ['--apply']) {
        ($rc, $out, $err) = FkTest::fkscan('fix', '--strategy', 'delete', @$apply, '--backup-dir', $bad, $tpl);
        is($rc, 2, "--backup-dir '$bad' @$apply: exit 2");
        like($err, qr/invalid backup directory/, "--backup-dir '$bad' @$apply: says so");
    }
}
# two repairs in the same second: the default name gets a suffix
{
    my $cwd = "$work/cwd";
    mkdir $cwd;
    my ($db1, $db2) = (fresh_db(), fresh_db());
    my $pid = fork();
    if ($pid == 0) {
        chdir $cwd;
        exec($ENV{FKSCAN}, 'fix', '--strategy', 'delete', '--apply', '-q', $db1) or POSIX::_exit(127);
    }
    chdir $cwd;
    my ($rc2) = FkTest::run_command([$ENV{FKSCAN}, 'fix', '--strategy', 'delete', '--apply', '-q', $db2], '');
    waitpid($pid, 0);
    chdir '/';
    is($? >> 8, 0, 'two repairs at once: the first exit 0');
    is($rc2, 0, 'two repairs at once: the second exit 0');
    my @dirs = glob("$cwd/fkscan-backup-*");
    is(scalar @dirs, 2, 'two repairs: two backup directories');
    my @restores = map { FkTest::slurp("$_/restore.sql") } @dirs;
    isnt($restores[0], $restores[1], 'two repairs: each its own restore script');
}
# a real path psql's \copy cannot take
{
    mkdir "$work/it's";
    symlink("$work/it's", "$work/plain") or die;
    ($rc, $out, $err) = FkTest::fkscan('fix', '--strategy', 'delete', '--apply', '--backup-dir', "$work/plain/b", fresh_db());
    is($rc, 2, 'a quote in the real path: exit 2');
    like($err, qr/its real path ".*it's.*" holds a quote/, 'a quote in the real path: says so');
}
# the dry-run script makes its directory private, and stops if it cannot
($rc, $out, $err) = FkTest::fkscan('fix', '--strategy', 'delete', '--backup-dir', "$work/dry", $tpl);
like($out, qr/^\\! mkdir -m 700 -p -- '.*dry'$/m, 'dry run: mkdir -m 700, no option injection');

# ---- kill -9 just before COMMIT: nothing looks complete ----
{
    my $db3 = fresh_db();
    my $before = orphans($db3);
    local $ENV{FKSCAN_TEST_KILL_BEFORE_COMMIT} = 1;
    ($rc, $out, $err) = FkTest::fkscan('fix', '--strategy', 'delete', '--apply', '--backup-dir', "$work/k", $db3);
    is($rc, 128 + 9, 'killed before COMMIT');
    is(orphans($db3), $before, 'killed: nothing committed');
    ok(!-e "$work/k/restore.sql", 'killed: no restore.sql');
    ok(-e "$work/k/restore.sql.pending", 'killed: restore.sql.pending');
    my ($prc, $pout, $perr) = FkTest::run_command(
        ['psql', '-X', '-q', '-d', $db3, '-f', "$work/k/restore.sql.pending"], '');
    isnt($prc, 0, 'the pending script refuses to run by itself');
    like($perr, qr/not run: give -v fkscan_committed=1/, 'the pending script says why');
    is(FkTest::psql($db3, 'SELECT count(*) FROM c'), 200, 'the pending script restored nothing');
}
# with batches: restore.sql covers exactly the committed batches
{
    my $db4 = fresh_db();
    ($rc, $out, $err) = FkTest::fkscan('fix', '--strategy', 'delete', '--apply', '--batch-size', '5',
                                       '--backup-dir', "$work/batches", $db4);
    is($rc, 0, 'batches: exit 0') or diag($err);
    my ($prc, $pout, $perr) = FkTest::run_command(
        ['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $db4, '-f', "$work/batches/restore.sql"], '');
    is($prc, 0, 'batches: restore.sql runs') or diag($perr);
    is(orphans($db4), 20, 'batches: restore.sql put back every deleted row');
}

done_testing();
