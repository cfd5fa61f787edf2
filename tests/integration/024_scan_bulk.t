# A relation larger than a quarter of shared_buffers is read whole by a
# plain scan, which the server runs through its small ring buffer; ctid
# ranges would read it through the whole buffer pool.  --chunk-size,
# --max-time and --consistency chunk still split it (--state and --spread
# chunk too: the same rule in plan.c, which test_plan checks for every
# option).  Smaller relations are split as before.  The SQL each worker
# sends (-vv) shows which; the counts match the server's own check either
# way.
use strict;
use warnings;
use POSIX qw(ceil);
use Test::More;
use FkTest;
use FkOracle;

my $version = FkTest::psql('postgres', 'SHOW server_version_num');
plan skip_all => "ctid ranges need TID Range Scans (PostgreSQL 14+), this is $version"
    if $version < 140000;
my $ring = FkTest::psql('postgres', "SELECT setting::int8 / 4 FROM pg_settings WHERE name = 'shared_buffers'");
plan skip_all => "shared_buffers / 4 is $ring pages: a table above it would take too long to load"
    if $ring > 20000;

# About 19 rows a page: a 400-byte pad makes pages cheaply.
my $db = FkTest::new_db('scan_bulk');
my $big_rows = int($ring * 1.2 * 19);
my $mid_rows = int($ring * 0.4 * 19);
FkTest::psql($db, <<"SQL");
CREATE TABLE p (id int PRIMARY KEY);
INSERT INTO p SELECT generate_series(1, 1000);
CREATE TABLE big_c (pid int REFERENCES p, pad text);
CREATE TABLE mid_c (pid int REFERENCES p, pad text);
SET session_replication_role = replica;
INSERT INTO big_c SELECT CASE WHEN g % 5001 = 0 THEN 100000 + g ELSE 1 + g % 1000 END, repeat('x', 400)
  FROM generate_series(1, $big_rows) g;
INSERT INTO mid_c SELECT CASE WHEN g % 3001 = 0 THEN 100000 + g ELSE 1 + g % 1000 END, repeat('y', 400)
  FROM generate_series(1, $mid_rows) g;
SQL
FkTest::psql($db, 'VACUUM ANALYZE');
my %pages = map { $_ => FkTest::psql($db, "SELECT pg_relation_size('$_') / 8192") } qw(big_c mid_c);
cmp_ok($pages{big_c}, '>', $ring, "big_c ($pages{big_c} pages) is above shared_buffers / 4 ($ring)");
cmp_ok($pages{mid_c}, '<=', $ring, "mid_c ($pages{mid_c} pages) is not");
cmp_ok($pages{mid_c}, '>', 2048, 'mid_c is large enough to be split');

# COPY statements per child table, and how many of them had a ctid range.
sub copies {
    my ($err) = @_;
    my %n;
    for my $line (split /\n/, $err) {
        my ($table, $where) = $line =~ /: COPY \(SELECT .* FROM ONLY "public"\."(\w+)"(.*)\) TO STDOUT/
            or next;
        $n{$table}{all}++;
        $n{$table}{ctid}++ if $where =~ /ctid >=/;
    }
    return \%n;
}

for my $case (['-j', '2'], ['-j', '2', '--chunk-size', '8MB'], ['-j', '2', '--max-time', '1h'],
              ['-j', '2', '--consistency', 'chunk'], ['-j', '1']) {
    my $label = join(' ', @$case);
    my ($rc, $json, $err) = FkTest::fkscan_json('scan', '-vv', @$case, $db);
    is($rc, 1, "$label: orphans found") or diag($err);
    FkOracle::check($db, $json, $label);
    my $n = copies($err);
    if ($label eq '-j 2') {
        is_deeply($n->{big_c}, {all => 1}, "$label: big_c in one plain scan");
        cmp_ok($n->{mid_c}{all}, '>', 1, "$label: mid_c in several chunks");
        is($n->{mid_c}{ctid}, $n->{mid_c}{all}, "$label: every mid_c chunk a ctid range");
    } elsif ($label =~ /chunk-size/) {
        is($n->{big_c}{all}, ceil($pages{big_c} / 1024), "$label: big_c in 8 MB ctid ranges");
        is($n->{big_c}{ctid}, $n->{big_c}{all}, "$label: every big_c chunk a ctid range");
    } elsif ($label =~ /max-time|consistency/) {
        # chunks are what a budget or a retry keeps: a big table still progresses
        cmp_ok($n->{big_c}{all}, '>', 1, "$label: big_c in several chunks");
        is($n->{big_c}{ctid}, $n->{big_c}{all}, "$label: every big_c chunk a ctid range");
    } else {
        is_deeply($n->{$_}, {all => 1}, "$label: $_ in one plain scan") for qw(big_c mid_c);
    }
}
done_testing();
