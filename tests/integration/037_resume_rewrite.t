# --state chunk records after a table rewrite (#14 item 2): a chunk record
# names pages of one file (the leaf's filenode).  VACUUM FULL, CLUSTER,
# TRUNCATE or ALTER TYPE between runs puts other rows on those pages: the
# resumed run must not take the records, and its answer must be the
# server's.  Without a rewrite, the records are taken (the control case).
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use FkTest;
use FkOracle;

my $version = FkTest::psql('postgres', 'SHOW server_version_num');
plan skip_all => "chunk-level resume needs TID Range Scans (PostgreSQL 14+), this is $version"
    if $version < 140000;

my $dir = tempdir(CLEANUP => 1);
my $tmpl = FkTest::new_db('rewrite_tmpl');
FkTest::psql($tmpl, <<'SQL');
CREATE TABLE p (id bigint PRIMARY KEY);
INSERT INTO p SELECT g FROM generate_series(1, 20000) g;
CREATE TABLE tags (name text PRIMARY KEY);
INSERT INTO tags SELECT 'tag' || g FROM generate_series(1, 5000) g;
CREATE TABLE big (pid bigint REFERENCES p, tag text REFERENCES tags, note int);
CREATE INDEX big_pid ON big (pid);
SET session_replication_role = replica;
INSERT INTO big SELECT CASE WHEN g % 9973 = 0 THEN 900000 + g % 5 ELSE g % 20000 + 1 END,
                       CASE WHEN g % 7919 = 0 THEN 'nope' || g % 3 ELSE 'tag' || (g % 5000 + 1) END,
                       g
    FROM generate_series(1, 100000) g;
ANALYZE;
SQL

my %rewrite = (
    '0 none' => undef,
    'VACUUM FULL' => 'DELETE FROM big WHERE note <= 50000; VACUUM FULL big',
    'CLUSTER' => 'DELETE FROM big WHERE note % 3 = 0; CLUSTER big USING big_pid',
    'TRUNCATE' => "TRUNCATE big; SET session_replication_role = replica; "
        . "INSERT INTO big SELECT g % 25000 + 1, 'tag' || (g % 5100 + 1), g FROM generate_series(1, 60000) g",
    'ALTER TYPE' => 'DELETE FROM big WHERE note > 60000; ALTER TABLE big ALTER COLUMN note TYPE bigint',
);
my $n = 0;
for my $case (sort keys %rewrite) {
    my $db = FkTest::copy_db($tmpl, "rewrite_" . $n++);
    my $state = "$dir/$db.state";
    my ($rc, $part, $err) = FkTest::fkscan_json('scan', '-j', '2', '--chunk-size', '80kB', '--max-rate', 20000,
                                                '--max-time', '3s', '--state', $state, $db);
    is($rc, 2, "$case: the first run stopped inside big") or diag($err);
    my $chunks = () = FkTest::slurp($state) =~ /^end\tchunk$/mg;
    cmp_ok($chunks, '>=', 2, "$case: chunk records written");
    like(FkTest::slurp($state), qr/^chunk\t\d+\t\d+\t\d+\t\S+\t\S+\t[1-9]\d*$/m, "$case: they name the file");
    FkTest::psql($db, $rewrite{$case}) if defined $rewrite{$case};
    FkOracle::forget();
    ($rc, my $res, $err) = FkTest::fkscan_json('scan', '-j', '2', '--state', $state, $db);
    is($rc, 1, "$case: the resumed run: exit 1") or diag($err);
    my $taken = 0;
    $taken += $_->{resumed_chunks} // 0 for @{ $res->{constraints} };
    if (defined $rewrite{$case}) {
        is($taken, 0, "$case: no recorded chunk taken after the rewrite");
    } else {
        cmp_ok($taken, '>=', 2, "$case: recorded chunks taken");
    }
    FkOracle::check($db, $res, "$case, resumed");
    FkTest::psql('postgres', "DROP DATABASE $db");
}

# Chunk records of version 2 (no filenode) and version 3 (hashed keys
# fingerprinted by an older rule) are read but never taken.
for my $v (2, 3) {
    my $db = FkTest::copy_db($tmpl, "rewrite_v$v");
    my $state = "$dir/v$v.state";
    my ($rc, undef, $err) = FkTest::fkscan_json('scan', '-j', '2', '--chunk-size', '80kB', '--max-rate', 20000,
                                                '--max-time', '3s', '--state', $state, $db);
    is($rc, 2, "version $v: the first run stopped") or diag($err);
    my $text = FkTest::slurp($state);
    $text =~ s/^fkscan-state\t4$/fkscan-state\t$v/m or fail("version $v: the header rewritten");
    $text =~ s/^(chunk\t.*)\t\d+$/$1/mg if $v == 2;
    open(my $fh, '>', $state) or die;
    print {$fh} $text;
    close $fh;
    ($rc, my $res, $err) = FkTest::fkscan_json('scan', '-j', '2', '--state', $state, $db);
    is($rc, 1, "version $v: the resumed run: exit 1") or diag($err);
    my $taken = 0;
    $taken += $_->{resumed_chunks} // 0 for @{ $res->{constraints} };
    is($taken, 0, "version $v: its chunk records are not taken");
    FkOracle::check($db, $res, "version $v, resumed");
}

done_testing();
