# Privileges and row-level security: a role that cannot read every row of a
# table gets an error naming the table for the FKs that need it, never false
# orphans; the other FKs still scan, and the run exits 2 (incomplete).
use strict;
use warnings;
use Test::More;
use FkTest;
use FkOracle;

my $db = FkTest::new_db('scan_privileges');
FkTest::psql($db, <<'SQL');
DROP ROLE IF EXISTS fk_scanner;
CREATE ROLE fk_scanner LOGIN;
CREATE TABLE p_rls (id bigint PRIMARY KEY, tenant int);
CREATE TABLE c_rls (pid bigint REFERENCES p_rls);
CREATE TABLE p_secret (id bigint PRIMARY KEY);
CREATE TABLE c_secret (pid bigint REFERENCES p_secret);
CREATE TABLE p_ok (id bigint PRIMARY KEY);
CREATE TABLE c_ok (pid bigint REFERENCES p_ok);
INSERT INTO p_rls SELECT g, g % 2 FROM generate_series(1, 100) g;
INSERT INTO c_rls SELECT g FROM generate_series(1, 100) g;
INSERT INTO p_secret VALUES (1);
INSERT INTO c_secret VALUES (1);
INSERT INTO p_ok SELECT g FROM generate_series(1, 10) g;
SET session_replication_role = replica;
INSERT INTO c_ok SELECT g FROM generate_series(1, 12) g;
RESET session_replication_role;
ALTER TABLE p_rls ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_even ON p_rls FOR SELECT USING (tenant = 0);
GRANT SELECT ON p_rls, c_rls, c_secret, p_ok, c_ok TO fk_scanner;
SQL

# As a role the policy would filter: an error, not 50 false orphans.
my ($rc, $json, $err) = FkTest::as_role('fk_scanner', sub { FkTest::fkscan_json('scan', '-j', '2', $db) });
is($rc, 2, 'incomplete answer: exit 2');
my %by = map { $_->{table} => $_ } @{ $json->{constraints} };
is($by{c_rls}{status}, 'error', 'RLS table: status error');
like($by{c_rls}{error}, qr/row-level security.*p_rls/, 'RLS table: the reason names the table');
is($by{c_rls}{orphan_rows}, 0, 'RLS table: no invented orphans');
is($by{c_secret}{status}, 'error', 'unreadable parent: status error');
like($by{c_secret}{error}, qr/permission denied.*p_secret/, 'unreadable parent: the reason names the table');
is($by{c_ok}{status}, 'orphans', 'the readable FK still scans');
is($by{c_ok}{orphan_rows}, 2, 'the readable FK: its orphans');
is($json->{totals}{errors}, 2, 'two FKs in error');
like($err, qr/row-level security/, 'stderr says why');

# The text report says the answer is incomplete.
my ($rc2, $out) = FkTest::as_role('fk_scanner', sub { FkTest::fkscan('scan', $db) });
is($rc2, 2, 'text report: exit 2');
like($out, qr/answer is incomplete/, 'text report: incomplete');

# A superuser bypasses RLS, as RI itself does: the true answer.
($rc, $json) = FkTest::fkscan_json('scan', '-j', '2', $db);
is($rc, 1, 'superuser: exit 1 (orphans in c_ok only)');
FkOracle::check($db, $json, 'superuser');

# Column-level SELECT on exactly the key columns (#14 item 18): what the
# server's own anti-join may read, so the scan too.  ctid is not readable:
# no ctid ranges (--chunk-size asks for them), no samples, exact counts.
FkTest::psql($db, <<'SQL');
DROP ROLE IF EXISTS fk_cols;
CREATE ROLE fk_cols LOGIN;
CREATE TABLE p_cols (id bigint PRIMARY KEY, code text UNIQUE, secret text);
CREATE TABLE c_cols (id bigint, pid bigint REFERENCES p_cols, pcode text REFERENCES p_cols (code), secret text);
INSERT INTO p_cols SELECT g, 'k' || g, 'x' FROM generate_series(1, 1000) g;
SET session_replication_role = replica;
INSERT INTO c_cols SELECT g, g, 'k' || (g + 3), repeat('y', 100) FROM generate_series(1, 1004) g;
RESET session_replication_role;
GRANT SELECT (id, code) ON p_cols TO fk_cols;
GRANT SELECT (pid, pcode) ON c_cols TO fk_cols;
SQL
($rc, $json, $err) = FkTest::as_role('fk_cols', sub {
    FkTest::fkscan_json('scan', '-j', '2', '--chunk-size', '8kB', '-t', 'c_cols', $db) });
is($rc, 1, 'key columns only: exit 1 (orphans), no error') or diag($err);
is(scalar @{ $json->{constraints} }, 2, 'key columns only: both FKs');
for my $c (@{ $json->{constraints} }) {
    my $want = FkOracle::expected($db, $c);
    is($c->{status}, 'orphans', "key columns only, $c->{constraint}: status");
    for my $k (qw(child_rows orphan_rows orphan_keys)) {
        is($c->{$k}, $want->{$k}, "key columns only, $c->{constraint}: $k");
    }
    is(scalar @{ $c->{sample} }, 0, "key columns only, $c->{constraint}: no ctid samples");
}
unlike($err, qr/permission denied/, 'key columns only: no permission error');
my ($rc3, $out3) = FkTest::as_role('fk_cols', sub { FkTest::fkscan('scan', '-t', 'c_cols', $db) });
is($rc3, 1, 'key columns only, text report: exit 1');
like($out3, qr/no sample rows: they are named by ctid/, 'text report says why there are no samples');
# the suggested look in psql reads only what the role may read
my @looks = $out3 =~ /^    (SELECT .*?\);)$/msg;
is(scalar @looks, 2, 'key columns only: a suggested SELECT per FK');
my @got;
for my $look (@looks) {
    (my $inner = $look) =~ s/;\z//;
    push @got, FkTest::as_role('fk_cols', sub { FkTest::psql($db, "SELECT count(*) FROM ($inner) s") });
}
is(join(',', sort { $a <=> $b } @got),
   join(',', sort { $a <=> $b } map { $_->{orphan_rows} } @{ $json->{constraints} }),
   'key columns only: the suggested SELECTs run for the role and find the orphan rows');

# Partitioned tables: RI's own query reads through the partitioned table,
# fkscan reads each partition, so it needs the key columns of every
# partition too.  Without them: an error saying so, never a wrong answer.
FkTest::psql($db, <<'SQL');
DROP ROLE IF EXISTS fk_parts;
CREATE ROLE fk_parts LOGIN;
CREATE TABLE p_part (id bigint PRIMARY KEY, secret text) PARTITION BY RANGE (id);
CREATE TABLE p_part_a PARTITION OF p_part FOR VALUES FROM (0) TO (50);
CREATE TABLE p_part_b PARTITION OF p_part FOR VALUES FROM (50) TO (1000);
CREATE TABLE c_part (id bigint, pid bigint REFERENCES p_part, secret text) PARTITION BY RANGE (id);
CREATE TABLE c_part_a PARTITION OF c_part FOR VALUES FROM (0) TO (100);
CREATE TABLE c_part_b PARTITION OF c_part FOR VALUES FROM (100) TO (1000);
INSERT INTO p_part SELECT g, 'x' FROM generate_series(1, 100) g;
SET session_replication_role = replica;
INSERT INTO c_part SELECT g, g % 110, 'y' FROM generate_series(1, 500) g;
RESET session_replication_role;
GRANT SELECT (id) ON p_part TO fk_parts;
GRANT SELECT (pid) ON c_part TO fk_parts;
SQL
($rc, $json, $err) = FkTest::as_role('fk_parts', sub { FkTest::fkscan_json('scan', '-t', 'c_part', $db) });
is($rc, 2, 'partitions not readable: exit 2');
is($json->{constraints}[0]{status}, 'error', 'partitions not readable: the FK is an error');
like($json->{constraints}[0]{error}, qr/permission denied for table [pc]_part_[ab] \(a partition of public\.[pc]_part: fkscan reads each partition, so it needs SELECT on the key columns of every partition\)/,
     'partitions not readable: the error says what to grant') or diag($json->{constraints}[0]{error});
FkTest::psql($db, 'GRANT SELECT (id) ON p_part_a, p_part_b TO fk_parts; GRANT SELECT (pid) ON c_part_a, c_part_b TO fk_parts;');
($rc, $json, $err) = FkTest::as_role('fk_parts', sub { FkTest::fkscan_json('scan', '-t', 'c_part', $db) });
is($rc, 1, 'key columns of every partition: exit 1 (orphans)') or diag($err);
my $want = FkOracle::expected($db, $json->{constraints}[0]);
for my $k (qw(child_rows orphan_rows orphan_keys)) {
    is($json->{constraints}[0]{$k}, $want->{$k}, "key columns of every partition: $k");
}

# With SELECT on the table, the same scan names its sample rows.
FkTest::psql($db, 'GRANT SELECT ON c_cols TO fk_cols;');
($rc, $json) = FkTest::as_role('fk_cols', sub {
    FkTest::fkscan_json('scan', '-j', '2', '--chunk-size', '8kB', '-t', 'c_cols', $db) });
is($rc, 1, 'table SELECT on the child: exit 1');
FkOracle::check($db, $json, 'table SELECT on the child');

done_testing();
