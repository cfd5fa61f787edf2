# What each PostgreSQL major changes (issue 15), on whatever server the
# harness runs (PG_BINDIR picks the major):
#   - every major: an FK whose RI triggers are missing (deleted from
#     pg_trigger, as a DETACH PARTITION before 17.1/16.5/15.9/14.14/13.17
#     could leave them) is found by audit and reported by scan; the
#     expected set does not depend on the major's trigger layout;
#   - 18: temporal (PERIOD) FKs, checked against the RI trigger's own
#     verdict row by row; NOT ENFORCED FKs; NOT VALID FKs on partitioned
#     tables.  Below 18 those parts skip, saying why.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use FkTest;
use FkOracle;

my $db = FkTest::new_db('versions');
my $version = FkTest::psql($db, 'SHOW server_version_num');
my $dir = tempdir(CLEANUP => 1);
note("server_version_num $version");

# The rows "relation|ctid" of an --orphans-out file (one FK, directory mode).
sub csv_row_ids {
    my ($file) = @_;
    my @ids;
    for my $line (split /\r?\n/, FkTest::slurp($file)) {
        next if $line =~ /^relation,/;
        my ($rel, $ctid) = $line =~ /^([^,]+),"?(\(\d+,\d+\))"?,/ or next;
        push @ids, ($rel =~ s/^public\.//r) . "|$ctid";
    }
    return sort @ids;
}

sub by_name {
    my ($json) = @_;
    return map { $_->{constraint} => $_ } @{ $json->{constraints} };
}

# ---- every major: missing RI triggers ----

FkTest::psql($db, <<'SQL');
CREATE TABLE p (id bigint PRIMARY KEY);
INSERT INTO p SELECT g FROM generate_series(1, 100) g;
CREATE TABLE c (id serial PRIMARY KEY, pid bigint CONSTRAINT c_fk REFERENCES p);
INSERT INTO c (pid) SELECT g FROM generate_series(1, 50) g;
CREATE TABLE d (id serial PRIMARY KEY, pid bigint CONSTRAINT d_fk REFERENCES p ON DELETE CASCADE);
INSERT INTO d (pid) VALUES (1), (2);
CREATE TABLE ok_child (id serial PRIMARY KEY, pid bigint CONSTRAINT ok_fk REFERENCES p);
-- a partitioned FK to a partitioned key: 14 lays out 8 RI triggers, 15+ 12
CREATE TABLE pp (id int PRIMARY KEY) PARTITION BY RANGE (id);
CREATE TABLE pp1 PARTITION OF pp FOR VALUES FROM (0) TO (1000);
CREATE TABLE pp2 PARTITION OF pp FOR VALUES FROM (1000) TO (2000);
INSERT INTO pp SELECT g FROM generate_series(1, 1999, 7) g;
CREATE TABLE pc (id int, pid int CONSTRAINT pc_fk REFERENCES pp) PARTITION BY RANGE (id);
CREATE TABLE pc1 PARTITION OF pc FOR VALUES FROM (0) TO (100);
CREATE TABLE pc2 PARTITION OF pc FOR VALUES FROM (100) TO (200);
INSERT INTO pc VALUES (5, 1), (150, 1002);
SQL

my ($rc, $json, $err) = FkTest::fkscan_json('audit', $db);
is($rc, 0, 'intact RI triggers: audit exit 0') or diag($err);
my %fk = by_name($json);
for my $name (qw(c_fk d_fk ok_fk pc_fk)) {
    is($fk{$name}{triggers_missing}, 0, "$name: no trigger missing on this major's layout");
    is($fk{$name}{missing_trigger_detail}, undef, "$name: no missing detail");
}

# Delete RI trigger rows as a superuser would have been left with them: the
# child's insert check and the parent's delete action of c_fk, the update
# check of one child leaf and the delete action of one parent leaf of pc_fk
# (whichever clone carries them), and d_fk's insert check.
FkTest::psql($db, <<'SQL');
CREATE FUNCTION pg_temp.ri_clones(root oid) RETURNS SETOF oid LANGUAGE sql AS $$
    WITH RECURSIVE t(con) AS (SELECT root UNION ALL
        SELECT k.oid FROM pg_constraint k JOIN t ON k.conparentid = t.con)
    SELECT con FROM t $$;
DELETE FROM pg_trigger
 WHERE tgconstraint IN (SELECT pg_temp.ri_clones(oid) FROM pg_constraint WHERE conname = 'c_fk')
   AND ((tgrelid = 'c'::regclass AND tgfoid = '"RI_FKey_check_ins"'::regproc)
     OR (tgrelid = 'p'::regclass AND tgfoid = '"RI_FKey_noaction_del"'::regproc));
DELETE FROM pg_trigger
 WHERE tgconstraint IN (SELECT pg_temp.ri_clones(oid) FROM pg_constraint WHERE conname = 'pc_fk')
   AND ((tgrelid = 'pc1'::regclass AND tgfoid = '"RI_FKey_check_upd"'::regproc)
     OR (tgrelid = 'pp2'::regclass AND tgfoid = '"RI_FKey_noaction_del"'::regproc));
DELETE FROM pg_trigger
 WHERE tgconstraint IN (SELECT pg_temp.ri_clones(oid) FROM pg_constraint WHERE conname = 'd_fk')
   AND tgrelid = 'd'::regclass AND tgfoid = '"RI_FKey_check_ins"'::regproc;
SQL
# Without its check trigger, an ordinary insert of an orphan goes through.
FkTest::psql($db, 'INSERT INTO c (pid) VALUES (1001), (1002)');
is(FkTest::psql($db, 'SELECT count(*) FROM c WHERE pid > 100'), 2,
   'the deleted check trigger no longer checks: orphans inserted with triggers "on"');

($rc, $json, $err) = FkTest::fkscan_json('audit', $db);
is($rc, 1, 'missing RI triggers: audit exit 1') or diag($err);
%fk = by_name($json);
is($fk{c_fk}{triggers_missing}, 2, 'c_fk: two triggers missing');
is($fk{c_fk}{missing_trigger_detail}, 'public.c.RI_FKey_check_ins, public.p.RI_FKey_noaction_del',
   'c_fk: the check trigger on the child and the action trigger on the parent, named');
ok(grep({ $_ eq 'triggers_missing' } @{ $fk{c_fk}{problems} }), 'c_fk: problem triggers_missing');
ok($fk{c_fk}{broken}, 'c_fk: broken');
ok(!$fk{c_fk}{triggers_enabled}, 'c_fk: triggers_enabled is false');
is($fk{pc_fk}{triggers_missing}, 2, 'pc_fk: two triggers missing');
is($fk{pc_fk}{missing_trigger_detail}, 'public.pc1.RI_FKey_check_upd, public.pp2.RI_FKey_noaction_del',
   'pc_fk: the leaves that lost them, named');
is($fk{d_fk}{missing_trigger_detail}, 'public.d.RI_FKey_check_ins', 'd_fk: its check trigger, named');
is($fk{ok_fk}{triggers_missing}, 0, 'ok_fk: intact');
ok(!grep({ $_ eq 'triggers_missing' } @{ $fk{ok_fk}{problems} }), 'ok_fk: no problem');

my $text;
($rc, $text, $err) = FkTest::fkscan('audit', $db);
is($rc, 1, 'text audit: exit 1');
like($text, qr/RI triggers missing \(2: public\.c\.RI_FKey_check_ins, public\.p\.RI_FKey_noaction_del\)/,
     'text audit: says which triggers are missing');

($rc, $json, $err) = FkTest::fkscan_json('scan', $db);
is($rc, 1, 'scan: exit 1 (orphans)') or diag($err);
FkOracle::check($db, $json, 'missing triggers');
%fk = by_name($json);
is($fk{c_fk}{triggers_missing}, 2, 'scan JSON: triggers_missing');
ok(!$fk{c_fk}{triggers_enabled}, 'scan JSON: triggers_enabled false');
($rc, $text, $err) = FkTest::fkscan('scan', '-c', 'c_fk', $db);
like($text, qr/its RI triggers are missing now \(public\.c\.RI_FKey_check_ins, public\.p\.RI_FKey_noaction_del\): rows arrive unchecked; only re-creating the constraint brings them back/,
     'scan text: rows arrived unchecked');

# validate: a clean FK with a missing trigger is left alone, and says why
($rc, $text, $err) = FkTest::fkscan('validate', '--apply', '-c', 'd_fk', $db);
is($rc, 1, 'validate on missing triggers: exit 1') or diag($err);
like($text, qr/d_fk on public\.d: clean, but its RI triggers are missing \(public\.d\.RI_FKey_check_ins\): left as it is/,
     'validate: says the triggers are missing and leaves the FK');
($rc, $json) = FkTest::fkscan_json('audit', '-c', 'd_fk', $db);
is($json->{constraints}[0]{triggers_missing}, 1, 'validate --apply changed nothing');

# ---- 18: temporal (PERIOD) foreign keys ----

subtest 'temporal foreign keys' => sub {
    plan skip_all => "temporal (PERIOD) foreign keys exist from PostgreSQL 18 (server $version)"
        if $version < 180000;
    FkTest::psql($db, <<'SQL');
CREATE EXTENSION btree_gist;
CREATE TABLE rooms (id int, valid_at daterange, PRIMARY KEY (id, valid_at WITHOUT OVERLAPS));
INSERT INTO rooms VALUES
    (2, '[2024-01-01,2024-03-01)'),                                   -- the issue's room
    (3, '[2024-01-01,2024-02-01)'), (3, '[2024-03-01,2024-04-01)'),   -- a gap in February
    (4, '[2024-01-01,2024-02-01)'), (4, '[2024-02-01,2024-03-01)'),   -- adjacent: one span
    (5, '[2024-01-01,)'),                                             -- unbounded
    (6, '[2024-01-01,2024-02-01)'), (6, '[2024-02-01,2024-03-01)'), (6, '[2024-03-01,2024-04-01)');
CREATE TABLE bookings (bid serial PRIMARY KEY, room_id int, valid_at daterange,
    CONSTRAINT bookings_fk FOREIGN KEY (room_id, PERIOD valid_at) REFERENCES rooms (id, PERIOD valid_at));
CREATE TABLE bookings_full (bid serial PRIMARY KEY, room_id int, valid_at daterange,
    CONSTRAINT bookings_full_fk FOREIGN KEY (room_id, PERIOD valid_at)
        REFERENCES rooms (id, PERIOD valid_at) MATCH FULL);
SET session_replication_role = replica;
INSERT INTO bookings (room_id, valid_at) VALUES
    (2, '[2024-02-01,2024-04-01)'),   -- the issue's case: partly covered
    (2, '[2024-01-15,2024-02-15)'),   -- covered
    (3, '[2024-01-15,2024-03-15)'),   -- across the gap
    (3, '[2024-03-05,2024-03-10)'),   -- inside the second period
    (4, '[2024-01-10,2024-02-20)'),   -- covered by two adjacent periods
    (5, '[2024-06-01,)'),             -- unbounded, under an unbounded parent
    (2, '[2024-02-01,)'),             -- unbounded, bounded parent
    (5, '(,2025-01-01)'),             -- unbounded below
    (2, NULL),                        -- NULL period: exempt under MATCH SIMPLE
    (NULL, '[2024-01-01,2024-01-02)'),-- NULL key: exempt
    (99, '[2024-01-01,2024-01-02)'),  -- no parent at all
    (6, '[2024-01-05,2024-03-20)'),   -- covered by three rows
    (6, '[2023-12-31,2024-01-05)'),   -- sticks out before
    (2, 'empty');                     -- overlaps nothing
INSERT INTO bookings_full (room_id, valid_at) VALUES
    (2, '[2024-01-15,2024-02-15)'), (2, NULL), (NULL, NULL), (4, '[2024-01-20,2024-02-25)'),
    (4, '[2024-01-20,2024-03-25)');
RESET session_replication_role;
-- twins with the FKs enforced, for the trigger's own verdict
CREATE TABLE bookings_twin (room_id int, valid_at daterange,
    FOREIGN KEY (room_id, PERIOD valid_at) REFERENCES rooms (id, PERIOD valid_at));
CREATE TABLE bookings_full_twin (room_id int, valid_at daterange,
    FOREIGN KEY (room_id, PERIOD valid_at) REFERENCES rooms (id, PERIOD valid_at) MATCH FULL);
SQL
    # The RI trigger's verdict: each row inserted again, with triggers on,
    # into the twin, in a subtransaction that is always rolled back.
    my $verdict = sub {
        my ($table, $twin, $cols, $label) = @_;
        $cols //= 'room_id, valid_at';
        $label //= $table;
        return FkTest::psql($db, <<SQL);
CREATE TEMP TABLE verdict (t tid);
DO \$\$
DECLARE r record;
BEGIN
    FOR r IN SELECT ctid AS t FROM ONLY $table LOOP
        BEGIN
            INSERT INTO $twin ($cols) SELECT $cols FROM ONLY $table WHERE ctid = r.t;
            RAISE EXCEPTION USING ERRCODE = 'P0001';
        EXCEPTION
            WHEN foreign_key_violation THEN INSERT INTO verdict VALUES (r.t);
            WHEN raise_exception THEN NULL;
        END;
    END LOOP;
END \$\$;
SELECT '$label|' || t FROM verdict ORDER BY 1;
SQL
    };
    my @rejected = split /\n/, $verdict->('bookings', 'bookings_twin');
    my @rejected_full = split /\n/, $verdict->('bookings_full', 'bookings_full_twin');

    # hostile names on both sides, the period column included
    FkTest::psql($db, <<'SQL');
CREATE SCHEMA "we""ird";
CREATE TABLE "we""ird"."Ro oms" ("i d" int, "valid at;" daterange,
    PRIMARY KEY ("i d", "valid at;" WITHOUT OVERLAPS));
INSERT INTO "we""ird"."Ro oms" VALUES (1, '[2024-01-01,2024-02-01)'), (1, '[2024-02-01,2024-03-01)');
CREATE TABLE "we""ird"."b,k" ("room" int, "per""iod" daterange,
    CONSTRAINT "odd ""fk""" FOREIGN KEY ("room", PERIOD "per""iod") REFERENCES "we""ird"."Ro oms" ("i d", PERIOD "valid at;"));
SET session_replication_role = replica;
INSERT INTO "we""ird"."b,k" VALUES (1, '[2024-01-10,2024-02-10)'), (1, '[2024-01-10,2024-03-10)'), (2, '[2024-01-01,2024-01-02)');
RESET session_replication_role;
CREATE TABLE "we""ird".twin ("room" int, "per""iod" daterange,
    FOREIGN KEY ("room", PERIOD "per""iod") REFERENCES "we""ird"."Ro oms" ("i d", PERIOD "valid at;"));
SQL
    my @hrejected = split /\n/, $verdict->('"we""ird"."b,k"', '"we""ird".twin', '"room", "per""iod"', 'bk');
    my ($hrc, $hjson, $herr) = FkTest::fkscan_json('scan', '-n', '"we""ird"', $db);
    is($hrc, 1, 'hostile names: exit 1') or diag($herr);
    my ($hc) = grep { $_->{table} eq 'b,k' } @{ $hjson->{constraints} };
    is(scalar @hrejected, 2, 'hostile names: the trigger rejects 2 rows');
    is($hc->{orphan_rows}, scalar @hrejected, 'hostile names: orphan_rows = the trigger\'s rejections');
    is_deeply([sort map { "bk|$_->{ctid}" } @{ $hc->{sample} }], \@hrejected,
              'hostile names: the samples are the rejected rows');
    is(scalar @rejected, 7, 'the trigger rejects the 7 uncovered bookings');
    is(scalar @rejected_full, 2, 'the trigger rejects 2 MATCH FULL rows (mixed NULL, uncovered)');
    is(FkTest::psql($db, 'SELECT count(*) FROM bookings_twin') + 0, 0, 'the twins stay empty');

    my ($rc, $json, $err) = FkTest::fkscan_json('scan', '-t', 'bookings*', '--orphans-out', "$dir/t/", $db);
    is($rc, 1, 'temporal: exit 1') or diag($err);
    my %fk = by_name($json);
    my %want = (bookings_fk => [\@rejected, 2, 'bookings'],
                bookings_full_fk => [\@rejected_full, 1, 'bookings_full']);
    for my $name (sort keys %want) {
        my ($rows, $nulls, $table) = @{ $want{$name} };
        my $c = $fk{$name};
        is($c->{status}, 'orphans', "$name: orphans");
        is($c->{orphan_rows}, scalar @$rows, "$name: orphan_rows = the trigger's rejections");
        is($c->{null_rows}, $nulls, "$name: NULL-exempt rows as RI");
        is($c->{method}, 'server', "$name: checked on the server");
        like($c->{method_reason}, qr/range_agg/, "$name: the method says how");
        ok($c->{period}, "$name: period");
        like($c->{period_note} // '', qr/VALIDATE CONSTRAINT.*partly covered/, "$name: VALIDATE's blind spot noted");
        my @got = csv_row_ids("$dir/t/public.$table.$name.csv");
        is_deeply(\@got, $rows, "$name: --orphans-out lists exactly the rows the trigger rejects");
        my @samples = sort map { "$table|$_->{ctid}" } @{ $c->{sample} };
        ok(!grep({ my $s = $_; !grep { $_ eq $s } @$rows } @samples), "$name: every sample is rejected by the trigger");
    }
    is($fk{bookings_twin_room_id_valid_at_fkey}{status}, 'clean', 'the empty twin is clean');

    my $text;
    ($rc, $text, $err) = FkTest::fkscan('scan', '-c', 'bookings_fk', $db);
    like($text, qr/bookings_fk on public\.bookings is a PERIOD foreign key/, 'text: the method named');
    like($text, qr/VALIDATE CONSTRAINT \(PostgreSQL 18\.4\) tests overlap only and would miss rows whose period is partly covered/,
         'text: VALIDATE would miss partly covered rows');
    # the psql query the report offers finds the same rows
    my ($sql) = $text =~ /(SELECT c\.ctid, c\.\* FROM .*?;)\n/s;
    ok($sql, 'text: a psql query is offered');
    my @by_hand = sort map { "bookings|" . ((split /\|/)[0]) } split /\n/, FkTest::psql($db, $sql);
    is_deeply(\@by_hand, \@rejected, 'text: its query selects the rejected rows');

    # the old check (overlap) misses the issue's case: keep the note honest
    my $validate = FkTest::psql($db, <<'SQL');
CREATE TABLE vcheck (room_id int, valid_at daterange);
INSERT INTO vcheck VALUES (2, '[2024-02-01,2024-04-01)');
ALTER TABLE vcheck ADD CONSTRAINT vcheck_fk FOREIGN KEY (room_id, PERIOD valid_at)
    REFERENCES rooms (id, PERIOD valid_at) NOT VALID;
DO $$ BEGIN
    ALTER TABLE vcheck VALIDATE CONSTRAINT vcheck_fk;
    RAISE NOTICE 'validated';
EXCEPTION WHEN foreign_key_violation THEN NULL;
END $$;
SELECT convalidated FROM pg_constraint WHERE conname = 'vcheck_fk';
SQL
    note("this server's VALIDATE on a partly covered row: convalidated = $validate");
    ($rc, $json) = FkTest::fkscan_json('scan', '-c', 'vcheck_fk', $db);
    is($json->{constraints}[0]{orphan_rows}, 1, 'the partly covered row is an orphan whatever VALIDATE says');
    FkTest::psql($db, 'DROP TABLE vcheck');

    # fix: backfill refused, clearly; delete removes exactly the rejected rows
    ($rc, $text, $err) = FkTest::fkscan('fix', '-c', 'bookings_fk', '--strategy', 'backfill', $db);
    is($rc, 2, 'fix backfill on PERIOD: exit 2');
    like($err, qr/bookings_fk on public\.bookings: cannot insert stub rows for a PERIOD foreign key/,
         'fix backfill: refused, naming the FK');
    ($rc, $text, $err) = FkTest::fkscan('validate', '--apply', '-c', 'bookings_fk', $db);
    is($rc, 1, 'validate on the dirty PERIOD FK: exit 1');
    like($text, qr/bookings_fk on public\.bookings: the catalog claims VALID, but the data is not: 7 orphan rows/,
         'validate: nothing done, and says so');
    my $before = FkTest::psql($db, 'SELECT count(*) FROM bookings');
    ($rc, $text, $err) = FkTest::fkscan('fix', '-c', 'bookings_fk', '--strategy', 'delete', '--apply',
                                        '--backup-dir', "$dir/backup", $db);
    is($rc, 0, 'fix delete --apply: exit 0') or diag($err);
    is(FkTest::psql($db, 'SELECT count(*) FROM bookings'), $before - 7, 'fix delete: 7 rows deleted');
    is(FkTest::psql($db, "SELECT count(*) FROM bookings WHERE valid_at = '[2024-01-10,2024-02-20)' OR valid_at = '[2024-01-05,2024-03-20)'"),
       2, 'fix delete: rows covered by several parent rows are kept');
    ($rc, $json) = FkTest::fkscan_json('scan', '-c', 'bookings_fk', $db);
    is($rc, 0, 'after the fix: clean');
    my @left = split /\n/, $verdict->('bookings', 'bookings_twin');
    is(scalar @left, 0, 'after the fix: the trigger accepts every row');
};

# ---- 18: NOT ENFORCED; NOT VALID on a partitioned table ----

subtest 'NOT ENFORCED' => sub {
    plan skip_all => "NOT ENFORCED foreign keys exist from PostgreSQL 18 (server $version)"
        if $version < 180000;
    FkTest::psql($db, <<'SQL');
CREATE TABLE ne (id serial PRIMARY KEY, pid bigint,
    CONSTRAINT ne_fk FOREIGN KEY (pid) REFERENCES p NOT ENFORCED);
INSERT INTO ne (pid) VALUES (1), (2), (500), (NULL);
SQL
    my ($rc, $json, $err) = FkTest::fkscan_json('audit', '-c', 'ne_fk', $db);
    is($rc, 1, 'audit: exit 1');
    my $c = $json->{constraints}[0];
    ok(!$c->{enforced}, 'audit: enforced false');
    is_deeply($c->{problems}, ['not_enforced'], 'audit: not_enforced, and no missing trigger (none by design)');
    is($c->{triggers_missing}, 0, 'audit: NOT ENFORCED has no triggers to miss');
    my $text;
    ($rc, $text) = FkTest::fkscan('audit', '-c', 'ne_fk', $db);
    like($text, qr/\| NOT ENFORCED\s*$/m, 'audit text: NOT ENFORCED');

    ($rc, $json, $err) = FkTest::fkscan_json('scan', '-c', 'ne_fk', $db);
    is($rc, 1, 'scan: scanned as if enforced, exit 1');
    FkOracle::check($db, $json, 'not enforced');
    is($json->{constraints}[0]{enforced}, JSON::PP::false, 'scan JSON: enforced false');
    ($rc, $text) = FkTest::fkscan('scan', '-c', 'ne_fk', $db);
    like($text, qr/the constraint is NOT ENFORCED: rows arrived unchecked/, 'scan text: NOT ENFORCED');
    unlike($text, qr/NOT VALID/, 'scan text: not called NOT VALID');

    FkTest::psql($db, 'DELETE FROM ne WHERE pid = 500');
    ($rc, $text, $err) = FkTest::fkscan('validate', '--apply', '-c', 'ne_fk', $db);
    is($rc, 1, 'validate: exit 1 (left to the user)') or diag($err);
    like($text, qr/ne_fk on public\.ne: clean, but NOT ENFORCED: left as it is/, 'validate: says so');
    is(FkTest::psql($db, "SELECT conenforced FROM pg_constraint WHERE conname = 'ne_fk'"), 'f',
       'validate --apply left it NOT ENFORCED');
};

subtest 'NOT VALID on a partitioned table' => sub {
    plan skip_all => "NOT VALID foreign keys on partitioned tables exist from PostgreSQL 18 (server $version)"
        if $version < 180000;
    FkTest::psql($db, <<'SQL');
CREATE TABLE npc (id int, pid bigint) PARTITION BY RANGE (id);
CREATE TABLE npc1 PARTITION OF npc FOR VALUES FROM (0) TO (100);
CREATE TABLE npc2 PARTITION OF npc FOR VALUES FROM (100) TO (200);
INSERT INTO npc VALUES (1, 1), (2, 700), (150, 2), (151, 800), (152, NULL);
ALTER TABLE npc ADD CONSTRAINT npc_fk FOREIGN KEY (pid) REFERENCES p NOT VALID;
SQL
    my ($rc, $json, $err) = FkTest::fkscan_json('audit', '-c', 'npc_fk', $db);
    is($rc, 1, 'audit: exit 1');
    is_deeply($json->{constraints}[0]{problems}, ['not_valid'], 'audit: not_valid only');
    ok($json->{constraints}[0]{partitioned}, 'audit: partitioned');
    ($rc, $json, $err) = FkTest::fkscan_json('scan', '-c', 'npc_fk', $db);
    is($rc, 1, 'scan: exit 1');
    FkOracle::check($db, $json, 'not valid partitioned');
    is($json->{constraints}[0]{orphan_rows}, 2, 'scan: both orphans, across leaves');
    my $text;
    ($rc, $text) = FkTest::fkscan('scan', '-c', 'npc_fk', $db);
    like($text, qr/the constraint is NOT VALID/, 'scan text: NOT VALID');
    FkTest::psql($db, 'DELETE FROM npc WHERE pid > 100');
    ($rc, $text, $err) = FkTest::fkscan('validate', '--apply', '-c', 'npc_fk', $db);
    is($rc, 0, 'validate --apply: exit 0') or diag($err);
    is(FkTest::psql($db, "SELECT convalidated FROM pg_constraint WHERE conname = 'npc_fk' AND conparentid = 0"), 't',
       'validate: the partitioned FK is valid now');
};

done_testing();
