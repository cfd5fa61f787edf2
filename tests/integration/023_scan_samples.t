# The samples are the first orphan rows in ctid order, for hashed keys as
# for integer ones: the lookup that names them tries growing prefixes of
# the chunk (64 pages, then 512...), and a prefix may only answer when it
# holds every sample the whole chunk would give.  Each child (about 220
# pages, one chunk) has orphans in three layouts: every sample in the first
# prefix, some beyond it, and fewer orphans than samples.
use strict;
use warnings;
use Test::More;
use FkTest;
use FkOracle;

my $db = FkTest::new_db('scan_samples');
FkTest::psql($db, <<'SQL');
CREATE TABLE p_int (id bigint PRIMARY KEY);
CREATE TABLE p_text (id text PRIMARY KEY);
CREATE TABLE p_pair (a int, b int, PRIMARY KEY (a, b));
CREATE TABLE p_uuid (id uuid PRIMARY KEY);
INSERT INTO p_int SELECT g FROM generate_series(1, 1000) g;
INSERT INTO p_text SELECT 'k' || g FROM generate_series(1, 1000) g;
INSERT INTO p_pair SELECT g % 5, g FROM generate_series(1, 1000) g;
INSERT INTO p_uuid SELECT md5('k' || g)::uuid FROM generate_series(1, 1000) g;
SQL

# $orph(n): whether child row n (1-based, about 180 a page) is an orphan.
my %layout = (
    early => sub { my $n = shift; $n % 2000 == 7 },               # every ~11 pages
    late  => sub { my $n = shift; $n == 50 || $n == 60 || ($n > 20000 && $n % 3000 == 1) },
    few   => sub { my $n = shift; $n == 40 || $n == 30000 },
);
for my $l (sort keys %layout) {
    my @orphan = grep { $layout{$l}->($_) } 1 .. 40000;
    my $list = join(',', @orphan);
    FkTest::psql($db, <<"SQL");
CREATE TABLE c_int_$l (n int, pid bigint REFERENCES p_int);
CREATE TABLE c_text_$l (n int, pid text REFERENCES p_text);
CREATE TABLE c_pair_$l (n int, a int, b int, FOREIGN KEY (a, b) REFERENCES p_pair);
CREATE TABLE c_uuid_$l (n int, pid uuid REFERENCES p_uuid);
SET session_replication_role = replica;
INSERT INTO c_int_$l SELECT g, CASE WHEN g IN ($list) THEN 5000 + g ELSE 1 + g % 1000 END
  FROM generate_series(1, 40000) g;
INSERT INTO c_text_$l SELECT g, 'k' || CASE WHEN g IN ($list) THEN 5000 + g ELSE 1 + g % 1000 END
  FROM generate_series(1, 40000) g;
INSERT INTO c_pair_$l SELECT g, (1 + g % 1000) % 5, CASE WHEN g IN ($list) THEN 5000 + g ELSE 1 + g % 1000 END
  FROM generate_series(1, 40000) g;
INSERT INTO c_uuid_$l SELECT g, md5('k' || CASE WHEN g IN ($list) THEN 5000 + g ELSE 1 + g % 1000 END)::uuid
  FROM generate_series(1, 40000) g;
SQL
}
FkTest::psql($db, 'VACUUM ANALYZE');
ok(FkTest::psql($db, "SELECT min(pg_relation_size(oid)) / 8192 FROM pg_class WHERE relname LIKE 'c\\_%'") > 64,
   'every child is longer than the first prefix');

for my $j (1, 2) {
    my ($rc, $json, $err) = FkTest::fkscan_json('scan', '-j', $j, $db);
    is($rc, 1, "-j $j: orphans found") or diag($err);
    is(scalar @{ $json->{constraints} }, 12, "-j $j: every FK scanned");
    FkOracle::check($db, $json, "-j $j");
    for my $c (@{ $json->{constraints} }) {
        my $t = FkTest::quote_ident($c->{table});
        my $p = FkTest::quote_ident($c->{ref_table});
        my $on = join(' AND ', map { 'p.' . FkTest::quote_ident($c->{ref_columns}[$_]) . ' = c.'
                                     . FkTest::quote_ident($c->{columns}[$_]) } 0 .. $#{ $c->{columns} });
        my $first = FkTest::psql($db, <<"SQL");
SELECT string_agg(ctid::text, ' ' ORDER BY ctid) FROM (
  SELECT c.ctid FROM $t c WHERE NOT EXISTS (SELECT FROM $p p WHERE $on)
   ORDER BY c.ctid LIMIT 5) s
SQL
        is(join(' ', map { $_->{ctid} } @{ $c->{sample} }), $first,
           "-j $j $c->{table}: the samples are the first orphan rows by ctid ($c->{method})");
    }
}
done_testing();
