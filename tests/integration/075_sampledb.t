# Real schemas (#17): Chinook, Pagila (its payments partitioned by month,
# composite primary keys holding FK columns) and Northwind (varchar and
# smallint keys), read from ../shared/sampledb at test time, broken the way
# bulk loads break them (rows loaded with triggers off or replica-only, an
# FK re-added NOT VALID), then for every FK: scan and --orphans-out against
# the server's own check, a cascade count, the repairs where they apply,
# and validate, after which the server's VALIDATE agrees.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use FkTest;
use FkOracle;

# beside the checkout; a clone made elsewhere (CI's) finds it beside its origin
my $src = FkTest::source_dir();
my $origin = `git -C '$src' config --get remote.origin.url 2>/dev/null` // '';
chomp $origin;
my ($dir) = grep { -r "$_/chinook.sql" } grep { defined }
    ($ENV{FKSCAN_SAMPLEDB_DIR}, "$src/../shared/sampledb", $origin =~ m{^/} ? "$origin/../shared/sampledb" : undef);
$dir //= $ENV{FKSCAN_SAMPLEDB_DIR} // "$src/../shared/sampledb";
plan skip_all => "no sample databases in $dir (set FKSCAN_SAMPLEDB_DIR)"
    unless -r "$dir/chinook.sql" && -r "$dir/pagila-schema.sql" && -r "$dir/northwind.sql";
my $work = tempdir(CLEANUP => 1);

sub load {
    my ($db, @files) = @_;
    for my $f (@files) {
        my $sql = FkTest::slurp("$dir/$f");
        # Chinook makes and enters its own database: load it into ours
        $sql =~ s/^(DROP|CREATE) DATABASE .*$//mg;
        $sql =~ s/^\\c .*$//mg;
        my ($rc, $out, $err) = FkTest::run_command(['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $db], $sql);
        die "loading $f: $err" if $rc != 0;
    }
}
sub scan_checked {
    my ($db, $label, @args) = @_;
    FkOracle::forget();
    my ($rc, $json, $err) = FkTest::fkscan_json('scan', '-j', '2', @args, $db);
    ok($json, "$label: a report") or diag($err);
    FkOracle::check($db, $json, $label) if $json;
    return ($rc, $json);
}
sub broken { return grep { $_->{status} ne 'clean' } @{ $_[0]{constraints} }; }

my %break = (
    chinook => <<'SQL',
SET session_replication_role = replica;
INSERT INTO invoice_line SELECT 90000 + g, 1, 100000 + g % 3, 0.99, 1 FROM generate_series(1, 5) g;
UPDATE track SET genre_id = 900 + track_id % 2 WHERE track_id % 97 = 0;
INSERT INTO playlist_track VALUES (1, 99999), (999, 1);
RESET session_replication_role;
ALTER TABLE album DROP CONSTRAINT album_artist_id_fkey;
INSERT INTO album VALUES (9001, 'Lost', 77777);
ALTER TABLE album ADD CONSTRAINT album_artist_id_fkey FOREIGN KEY (artist_id) REFERENCES artist (artist_id) NOT VALID;
ALTER TABLE customer DISABLE TRIGGER ALL;
UPDATE customer SET support_rep_id = 99 WHERE customer_id <= 3;
SQL
    pagila => <<'SQL',
SET session_replication_role = replica;
INSERT INTO film_category VALUES (1, 99, now()), (2, 98, now());
UPDATE rental SET inventory_id = 900000 + rental_id WHERE rental_id IN (1, 2, 3);
INSERT INTO payment (customer_id, staff_id, rental_id, amount, payment_date)
    VALUES (9999, 1, 1, 1.00, '2022-02-10'), (1, 1, 999999, 2.00, '2022-03-10');
RESET session_replication_role;
ALTER TABLE film_actor DISABLE TRIGGER ALL;
INSERT INTO film_actor VALUES (5000, 1, now());
SQL
    northwind => <<'SQL',
SET session_replication_role = replica;
UPDATE orders SET customer_id = 'ZZZZZ' WHERE order_id % 50 = 0;
INSERT INTO order_details VALUES (10248, 999, 1, 1, 0), (10249, 998, 1, 1, 0);
RESET session_replication_role;
ALTER TABLE products DISABLE TRIGGER ALL;
UPDATE products SET supplier_id = 99 WHERE product_id = 1;
SQL
);
my %files = (chinook => ['chinook.sql'], pagila => ['pagila-schema.sql', 'pagila-data.sql'],
             northwind => ['northwind.sql']);

for my $name (sort keys %files) {
    my $tpl = FkTest::new_db("sdb_${name}_tpl");
    load($tpl, @{ $files{$name} });
    FkTest::psql($tpl, $break{$name});

    # scan, every FK against the server
    my ($rc, $json) = scan_checked($tpl, $name);
    is($rc, 1, "$name: orphans found (exit 1)");
    cmp_ok(scalar(broken($json)), '>=', 3, "$name: the planted breakage is found");

    # --orphans-out: as many rows per FK as it counted
    my $odir = "$work/$name/";
    mkdir $odir;
    ($rc, undef, my $err) = FkTest::fkscan_json('scan', '--orphans-out', $odir, $tpl);
    for my $c (broken($json)) {
        my ($f) = glob("$odir$c->{schema}.$c->{table}.$c->{constraint}*.csv");
        my $rows = defined $f ? () = FkTest::slurp($f) =~ /\r\n/g : 0;
        is($rows - 1, $c->{orphan_rows}, "$name: $c->{constraint}: --orphans-out has its rows");
    }

    # delete, where nothing refuses it, repairs exactly those FKs
    my $del = FkTest::copy_db($tpl, "sdb_${name}_del");
    my @targets = map { ('-c', $_->{constraint}) } grep { !@{ $_->{cascade} || [] } } broken($json);
    ($rc, my $out, $err) = FkTest::fkscan('fix', '--strategy', 'delete', '--apply', '--backup-dir',
                                           "$work/${name}_bk", @targets, $del);
    is($rc, 0, "$name: delete --apply") or diag($err);
    ($rc, my $after) = scan_checked($del, "$name after delete", @targets);
    is(scalar(broken($after)), 0, "$name: delete left no orphan in those FKs");
    my ($prc, $pout, $perr) = FkTest::run_command(
        ['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $del, '-f', "$work/${name}_bk/restore.sql"], '');
    is($prc, 0, "$name: restore.sql puts the rows back") or diag($perr);
    ($rc, my $restored) = FkTest::fkscan_json('scan', '-j', '2', @targets, $del);
    is($restored->{totals}{orphan_rows}, (eval { my $t = 0; $t += $_->{orphan_rows} for grep {
        my $n = $_->{constraint}; grep { $_ eq $n } @targets } broken($json); $t }),
       "$name: restored, the same orphans again");

    # validate, on the repaired FKs: VALID and triggers on, as the server sees it
    ($rc, $out, $err) = FkTest::fkscan('validate', '--apply', @targets, $del);
    is($rc, 1, "$name: validate leaves FKs with orphans alone (exit 1)") or diag("$out$err");
    ($rc, $out, $err) = FkTest::fkscan('fix', '--strategy', 'delete', '--apply', '--backup-dir',
                                       "$work/${name}_bk2", @targets, $del);
    is($rc, 0, "$name: repaired again") or diag($err);
    ($rc, $out, $err) = FkTest::fkscan('validate', '--apply', @targets, $del);
    is($rc, 0, "$name: validate --apply") or diag("$out$err");
    my @names = map { FkTest::quote_literal($_->{constraint}) } grep {
        my $n = $_->{constraint}; grep { $_ eq $n } @targets } broken($json);
    my $in = join(', ', @names);
    is(FkTest::psql($del, "SELECT count(*) FROM pg_constraint WHERE conname IN ($in) AND NOT convalidated"), 0,
       "$name: those FKs VALID in the catalog");
    is(FkTest::psql($del, "SELECT count(*) FROM pg_trigger t JOIN pg_constraint c ON c.oid = t.tgconstraint "
                    . "WHERE c.conname IN ($in) AND t.tgenabled <> 'O'"), 0, "$name: their RI triggers enabled");
}

# Chinook: nullify a nullable FK, backfill with a NOT NULL parent column
{
    my $n = FkTest::copy_db('sdb_chinook_tpl', 'sdb_chinook_null');
    my ($rc, $out, $err) = FkTest::fkscan('fix', '--strategy', 'nullify', '--apply', '-c', 'track_genre_id_fkey',
                                          '--backup-dir', "$work/null", $n);
    is($rc, 0, 'chinook: nullify track.genre_id') or diag($err);
    is(FkTest::psql($n, 'SELECT count(*) FROM track WHERE genre_id IS NULL AND track_id % 97 = 0'),
       FkTest::psql('sdb_chinook_tpl', 'SELECT count(*) FROM track WHERE track_id % 97 = 0'),
       'chinook: exactly the orphans nulled');
    my $b = FkTest::copy_db('sdb_chinook_tpl', 'sdb_chinook_back');
    ($rc, $out, $err) = FkTest::fkscan('fix', '--strategy', 'backfill', '--apply', '-c', 'track_genre_id_fkey', $b);
    is($rc, 0, 'chinook: backfill genre stubs') or diag($err);
    is(FkTest::psql($b, 'SELECT string_agg(genre_id::text, \',\' ORDER BY genre_id) FROM genre WHERE genre_id >= 900'),
       '900,901', 'chinook: one stub per missing key');
    my ($rc2, $json) = scan_checked($b, 'chinook backfilled', '-c', 'track_genre_id_fkey');
    is($rc2, 0, 'chinook: backfilled FK clean');
}

# Pagila: the cascade a delete of orphan rentals would have, as SQL counts it
{
    my ($rc, $json) = scan_checked('sdb_pagila_tpl', 'pagila cascade', '-c', 'rental_inventory_id_fkey');
    my ($root) = @{ $json->{constraints} };
    my %steps = map { ("$_->{table}") => $_ } @{ $root->{cascade} || [] };
    # (payment_p2022_07 has no FK to rental: a delete reaches none of its rows)
    my $sql = FkTest::psql('sdb_pagila_tpl', 'SELECT count(*) FROM payment p WHERE p.tableoid IN '
                           . "(SELECT conrelid FROM pg_constraint WHERE contype = 'f' AND confrelid = 'rental'::regclass) "
                           . 'AND p.rental_id IN '
                           . '(SELECT rental_id FROM rental r WHERE NOT EXISTS (SELECT 1 FROM inventory i '
                           . 'WHERE i.inventory_id = r.inventory_id))');
    my $got = 0;
    $got += $_->{rows} for grep { $_->{table} =~ /^payment/ } values %steps;
    is($got, $sql, "pagila: deleting the orphan rentals reaches $sql payments, as SQL counts them");
}

done_testing();
