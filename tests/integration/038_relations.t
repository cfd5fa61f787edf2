# Undeclared relationships (--relation, --relations): the same schema with
# its FKs declared, and with them dropped and described by a relations file,
# must give the same answer: counts, methods, samples, CSV rows, cascades;
# both compared with the server's own RI check on the same data.  Then
# selection, audit, the repairs, and every way a relationship can be wrong.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use FkTest;
use FkOracle;

my $tmp = tempdir(CLEANUP => 1);
my $db = FkTest::new_db('rel_declared');
my $has_citext = FkTest::psql($db, "SELECT count(*) FROM pg_available_extensions WHERE name = 'citext'");
FkTest::psql($db, 'CREATE EXTENSION citext') if $has_citext;
FkTest::psql($db, <<'SQL');
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE p_int (id bigint PRIMARY KEY, code text UNIQUE);
CREATE TABLE c_int (id serial PRIMARY KEY, pid int REFERENCES p_int, pcode varchar(8) REFERENCES p_int (code));
CREATE TABLE p_uuid (k uuid PRIMARY KEY);
CREATE TABLE c_uuid (k uuid REFERENCES p_uuid);
CREATE TABLE p_char (k char(6) PRIMARY KEY);
CREATE TABLE c_char (k char(3) REFERENCES p_char);
CREATE TABLE p_num (k numeric PRIMARY KEY);
CREATE TABLE c_num (k int REFERENCES p_num);
CREATE TABLE p_enum (k mood PRIMARY KEY);
CREATE TABLE c_enum (k mood REFERENCES p_enum);
CREATE TABLE p_comp (a int, b text, c bigint, PRIMARY KEY (a, b), UNIQUE (c, a));
CREATE TABLE c_simple (a int, b text, FOREIGN KEY (a, b) REFERENCES p_comp);
CREATE TABLE c_full (a int, b text, FOREIGN KEY (a, b) REFERENCES p_comp MATCH FULL);
CREATE TABLE c_uniq (x smallint, y bigint, FOREIGN KEY (x, y) REFERENCES p_comp (a, c));
CREATE TABLE pp (id bigint PRIMARY KEY) PARTITION BY RANGE (id);
CREATE TABLE pp1 PARTITION OF pp FOR VALUES FROM (MINVALUE) TO (100);
CREATE TABLE pp2 PARTITION OF pp FOR VALUES FROM (100) TO (MAXVALUE);
CREATE TABLE pc (id int, pid bigint REFERENCES pp) PARTITION BY HASH (id);
CREATE TABLE pc1 PARTITION OF pc FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE pc2 PARTITION OF pc FOR VALUES WITH (MODULUS 2, REMAINDER 1);
-- hostile names: quotes, dots, the syntax's own tokens, a comment sign
CREATE SCHEMA "we""ird. sch;ema";
CREATE TABLE "we""ird. sch;ema"."Pa rent->(x)" ("k""ey" int, "sélect" text, PRIMARY KEY ("k""ey", "sélect"));
CREATE TABLE "we""ird. sch;ema"."ch.ild # not a comment" ("o'k" int, "MATCH" text,
    CONSTRAINT "fk; DROP TABLE x; --" FOREIGN KEY ("o'k", "MATCH")
    REFERENCES "we""ird. sch;ema"."Pa rent->(x)");
-- declared FKs into a child: what deleting its orphans would reach (kept declared)
CREATE TABLE keep_cascade (cid int CONSTRAINT keep_cascade_fk REFERENCES c_int ON DELETE CASCADE);
CREATE TABLE keep_block (cid int CONSTRAINT keep_block_fk REFERENCES c_int);

SET session_replication_role = replica;
INSERT INTO p_int SELECT g, 'c' || g FROM generate_series(1, 300) g;
INSERT INTO c_int (pid, pcode) SELECT g % 320, 'c' || (g % 310) FROM generate_series(1, 2000) g;
INSERT INTO c_int (pid, pcode) VALUES (NULL, NULL), (5, 'c5 ');
INSERT INTO keep_cascade SELECT g FROM generate_series(1, 2002) g WHERE g % 7 = 0;
INSERT INTO keep_block SELECT 19;
INSERT INTO p_uuid SELECT md5(g::text)::uuid FROM generate_series(1, 500) g;
INSERT INTO c_uuid SELECT md5((g % 520)::text)::uuid FROM generate_series(1, 1500) g;
INSERT INTO p_char VALUES ('ab'), ('abc'), ('x');
INSERT INTO c_char VALUES ('ab'), ('ab '), ('abc'), ('x'), ('y'), (' ab');
INSERT INTO p_num VALUES (1), (2.5), (0), (1000000);
INSERT INTO c_num VALUES (1), (2), (0), (1000000), (5);
INSERT INTO p_enum VALUES ('ok'), ('happy');
INSERT INTO c_enum VALUES ('ok'), ('sad'), ('happy'), ('sad');
INSERT INTO p_comp SELECT g, 'b' || g, g * 10 FROM generate_series(1, 200) g;
INSERT INTO c_simple SELECT g % 220, 'b' || (g % 210) FROM generate_series(1, 1000) g;
INSERT INTO c_simple VALUES (1, NULL), (NULL, 'zz'), (NULL, NULL), (9999, NULL);
INSERT INTO c_full SELECT g % 205, 'b' || (g % 205) FROM generate_series(1, 800) g;
INSERT INTO c_full VALUES (1, NULL), (NULL, 'zz'), (NULL, NULL), (9999, NULL);
INSERT INTO c_uniq VALUES (1, 10), (2, 20), (2, 30), (3, NULL), (600, 6000), (NULL, NULL);
INSERT INTO pp SELECT g FROM generate_series(1, 150) g;
INSERT INTO pc SELECT g, g % 170 FROM generate_series(1, 1000) g;
INSERT INTO "we""ird. sch;ema"."Pa rent->(x)" VALUES (1, 'a'), (2, 'b');
INSERT INTO "we""ird. sch;ema"."ch.ild # not a comment" VALUES (1, 'a'), (2, 'b'), (2, 'a'), (3, 'c'), (NULL, 'x');
RESET session_replication_role;
SQL
if ($has_citext) {
    FkTest::psql($db, <<'SQL');
CREATE TABLE p_ci (k citext PRIMARY KEY);
CREATE TABLE c_ci (k citext REFERENCES p_ci);
SET session_replication_role = replica;
INSERT INTO p_ci VALUES ('Abc'), ('x');
INSERT INTO c_ci VALUES ('abc'), ('ABC'), ('X'), ('y');
SQL
}

# Every FK but the kept ones, in the relations syntax (quote_ident: bare
# where it may be, quoted elsewhere), each with its constraint's name.
my $lines = FkTest::psql($db, <<'SQL');
SELECT pg_catalog.format('%I=%I.%I(%s) -> %I.%I(%s)%s', c.conname, cn.nspname, ch.relname,
         (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.i)
            FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n),
         pn.nspname, pa.relname,
         (SELECT string_agg(quote_ident(a.attname), ',' ORDER BY k.i)
            FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
            JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n),
         CASE c.confmatchtype WHEN 'f' THEN ' match full' ELSE '' END)
  FROM pg_constraint c
  JOIN pg_class ch ON ch.oid = c.conrelid JOIN pg_namespace cn ON cn.oid = ch.relnamespace
  JOIN pg_class pa ON pa.oid = c.confrelid JOIN pg_namespace pn ON pn.oid = pa.relnamespace
 WHERE c.contype = 'f' AND c.conparentid = 0 AND c.conname NOT LIKE 'keep%'
 ORDER BY 1
SQL
my @relations = split /\n/, $lines;
cmp_ok(scalar @relations, '>=', 12, 'relations generated from the declared FKs');
my $file = "$tmp/relations.txt";
open(my $fh, '>', $file) or die "$file: $!";
print {$fh} "# relationships the catalog does not declare\n\n";
print {$fh} "  $_   # trailing comment\n" for @relations;
close $fh;

my $undeclared = FkTest::copy_db($db, 'rel_undeclared');
FkTest::psql($undeclared, <<'SQL');
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT conrelid::regclass AS t, conname FROM pg_constraint
            WHERE contype = 'f' AND conparentid = 0 AND conname NOT LIKE 'keep%'
  LOOP
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.t, r.conname);
  END LOOP;
END $$;
SQL
is(FkTest::psql($undeclared, "SELECT count(*) FROM pg_constraint WHERE contype = 'f'"), 2,
   'only the kept FKs are declared in the copy');

sub by_name { return { map { ($_->{constraint} => $_) } @{ $_[0]{constraints} } }; }

sub sorted_lines {
    my ($path) = @_;
    return join "\n", sort split /\r\n/, FkTest::slurp($path);
}

for my $args (['-j', '2', '--chunk-size', '8kB']) {
    my $label = "@$args";
    my ($rc_a, $a, $err_a) = FkTest::fkscan_json('scan', @$args, '--sample', '1000',
                                                 '--orphans-out', "$tmp/a.csv", $db);
    my ($rc_b, $b, $err_b) = FkTest::fkscan_json('scan', @$args, '--sample', '1000',
                                                 '--relations', $file, '--orphans-out', "$tmp/b.csv",
                                                 $undeclared);
    is($rc_a, 1, "$label: declared: exit 1") or diag($err_a);
    is($rc_b, 1, "$label: undeclared: exit 1") or diag($err_b);
    is($b->{totals}{errors}, 0, "$label: no errors") or diag($err_b);
    my ($da, $ub) = (by_name($a), by_name($b));
    is_deeply([sort keys %$ub], [sort keys %$da], "$label: the same constraints");
    for my $name (sort keys %$da) {
        my ($x, $y) = ($da->{$name}, $ub->{$name});
        next unless $y;
        my $n = $name =~ s/\n/\\n/gr;
        my $kept = $name =~ /^keep/;
        is($y->{declared} ? 1 : 0, $kept ? 1 : 0, "$label: $n: declared is " . ($kept ? 'true' : 'false'));
        for my $k (qw(status method child_rows null_rows partial_null_rows orphan_rows orphan_keys
                      schema table columns ref_schema ref_table ref_columns match)) {
            is_deeply($y->{$k}, $x->{$k}, "$label: $n: $k");
        }
        my $samples = sub { [sort map { join("\x1f", $_->{ctid}, map { $_ // '\N' } @{ $_->{key} }) } @{ $_[0] }] };
        is_deeply($samples->($y->{sample}), $samples->($x->{sample}), "$label: $n: samples");
        my $cascade = sub { [map { join '|', @$_{qw(depth schema table constraint on_delete effect rows)} } @{ $_[0] // [] }] };
        is_deeply($cascade->($y->{cascade}), $cascade->($x->{cascade}), "$label: $n: cascade");
        ok(!$kept ? defined $y->{relation} : !exists $y->{relation}, "$label: $n: relation text only when undeclared");
    }
    # the server's own RI check, on the declared copy of the same data
    FkOracle::check($db, $b, "$label undeclared", 1000);
    is(sorted_lines("$tmp/b.csv"), sorted_lines("$tmp/a.csv"), "$label: --orphans-out rows are the same");
}

# The cascade is traced through the declared FKs into the child.
my ($rc, $json) = FkTest::fkscan_json('scan', '--relations', $file, '-c', 'c_int_pid_fkey', $undeclared);
my ($pid) = @{ $json->{constraints} };
is(scalar @{ $json->{constraints} }, 1, '-c selects a relationship by name');
is_deeply([sort map { $_->{constraint} } @{ $pid->{cascade} }], [qw(keep_block_fk keep_cascade_fk)],
          'cascade: the declared FKs into the child');
is($pid->{parent_index}, '"public"."p_int_pkey"', 'parent_index: the unique index ADD FOREIGN KEY would use');

# --orphans-out DIR: two relationships whose names sanitise alike get files of their own.
{
    my $dir = "$tmp/by_fk/";
    my ($rc2, $j2, $err2) = FkTest::fkscan_json('scan', '--orphans-out', $dir, '-t', 'c_int',
        '--relation', '"a b"=public.c_int(pid) -> public.p_int(id)',
        '--relation', '"a;b"=public.c_int(pid) -> public.p_int(id)', $undeclared);
    is($rc2, 1, '--orphans-out DIR, names alike: exit 1') or diag($err2);
    my @files = sort glob("${dir}public.c_int.a_b-*.csv");
    is(scalar @files, 2, '--orphans-out DIR, names alike: two files') or diag(join ' ', glob("$dir/*"));
    my %rows = map { $_->{constraint} => $_->{orphan_rows} } @{ $j2->{constraints} };
    for my $f (@files) {
        my @lines = split /\r\n/, FkTest::slurp($f);
        is(scalar(@lines) - 1, $rows{'a b'}, "--orphans-out DIR, names alike: $f holds every orphan row");
    }
}

# Selection applies: -t on the child, -N on its schema, --strict-names counts relationships.
($rc, $json) = FkTest::fkscan_json('scan', '--relations', $file, '-t', 'c_uuid', $undeclared);
is_deeply([map { $_->{constraint} } @{ $json->{constraints} }], ['c_uuid_k_fkey'], '-t selects by child');
($rc, $json) = FkTest::fkscan_json('scan', '--relations', $file, '-N', 'public', $undeclared);
is_deeply([map { $_->{constraint} } @{ $json->{constraints} }], ['fk; DROP TABLE x; --'], '-N excludes by schema');
my ($rc2, $out, $err) = FkTest::fkscan('scan', '--strict-names', '-c', 'c_enum_k_fkey', '--relations', $file, $undeclared);
is($rc2, 1, '--strict-names: a pattern matching a relationship matches') or diag($err);

# A name and the parts written by hand; unquoted names fold; U&"" escapes.
($rc, $json) = FkTest::fkscan_json('scan', '--relation', 'Mine = Public.C_Int ( PID ) -> public.P_INT(id)',
                                   '--relation', 'U&"\0063_num"(k)->p_num(k) MATCH SIMPLE', $undeclared);
my $mine = by_name($json);
is($mine->{mine}{orphan_rows}, FkOracle::expected($db, { %{ $mine->{mine} }, constraint => 'c_int_pid_fkey' })->{orphan_rows},
   'a hand-written relationship, names folded') if $mine->{mine};
ok($mine->{mine} && $mine->{c_num_k_fkey}, 'NAME= and the default name (as ADD FOREIGN KEY names it)');
is($mine->{c_num_k_fkey}{method}, 'server', 'int -> numeric: the server compares, as for the declared FK');

# Audit lists them, undeclared; a parent without a unique index is named.
FkTest::psql($undeclared, 'CREATE TABLE nouniq (k text); INSERT INTO nouniq VALUES (\'a\'), (\'a\');'
                          . ' CREATE TABLE c_nouniq (k text); INSERT INTO c_nouniq VALUES (\'a\'), (\'b\');');
($rc, $json) = FkTest::fkscan_json('audit', '--relation', 'c_nouniq(k) -> nouniq(k)', '--relation',
                                   'c_enum(k) -> p_enum(k)', $undeclared);
my $audit = by_name($json);
is($rc, 1, 'audit: undeclared relationships count as broken');
is($audit->{c_nouniq_k_fkey}{declared}, JSON::PP::false, 'audit: declared false');
is($audit->{c_nouniq_k_fkey}{parent_index}, undef, 'audit: no unique index on the parent key');
is_deeply($audit->{c_enum_k_fkey}{problems}, ['undeclared'], 'audit: the problem is "undeclared"');
is($audit->{keep_block_fk}{declared}, JSON::PP::true, 'audit: declared FKs still listed');
($rc, $out) = FkTest::fkscan('scan', '--relation', 'c_nouniq(k) -> nouniq(k)', $undeclared);
like($out, qr/ADD FOREIGN KEY would fail: the referenced columns have no unique index/, 'scan: says the parent lacks a unique index');
is(by_name((FkTest::fkscan_json('scan', '--relation', 'c_nouniq(k) -> nouniq(k)', $undeclared))[1])->{c_nouniq_k_fkey}{orphan_rows},
   1, 'a parent key that is not unique still finds the orphan');
($rc, $out) = FkTest::fkscan('scan', '--relation', 'c_enum(k) -> p_enum(k)', $undeclared);
like($out, qr/ADD FOREIGN KEY would fail on 2 rows \(using the parent's unique index "public"."p_enum_pkey"\)/,
     'scan: what ADD FOREIGN KEY would do');
like($out, qr/fkscan fix -t public.c_enum -c c_enum_k_fkey --relation '"c_enum_k_fkey"="public"."c_enum"\("k"\) -> "public"."p_enum"\("k"\)' --strategy delete/,
     'next steps carry the relationship');

# Repairs: every strategy works on a relationship.
FkTest::psql($undeclared, <<'SQL');
CREATE TABLE fp (id int PRIMARY KEY, name text DEFAULT 'stub');
INSERT INTO fp SELECT g FROM generate_series(1, 10) g;
CREATE TABLE f_del (id int PRIMARY KEY, pid int);
CREATE TABLE f_null (id int PRIMARY KEY, pid int);
CREATE TABLE f_back (id int PRIMARY KEY, pid int);
INSERT INTO f_del SELECT g, g FROM generate_series(1, 14) g;
INSERT INTO f_null SELECT g, g FROM generate_series(1, 13) g;
INSERT INTO f_back SELECT g, g FROM generate_series(1, 12) g;
SQL
for my $case (['delete', 'f_del', 'SELECT count(*) FROM f_del', 10],
              ['nullify', 'f_null', 'SELECT count(*) FROM f_null WHERE pid IS NULL', 3],
              ['backfill', 'f_back', 'SELECT count(*) FROM fp', 12]) {
    my ($strategy, $table, $sql, $want) = @$case;
    my $rel = "$table(pid) -> fp(id)";
    ($rc, $out, $err) = FkTest::fkscan('fix', '--relation', $rel, '--strategy', $strategy, '--apply',
                                       '--backup-dir', "$tmp/bk-$strategy", '-q', $undeclared);
    is($rc, 0, "fix --strategy $strategy on a relationship: exit 0") or diag($err);
    is(FkTest::psql($undeclared, $sql), $want, "fix --strategy $strategy: the rows as expected");
    ($rc, $json) = FkTest::fkscan_json('scan', '--relation', $rel, $undeclared);
    is($json->{totals}{orphan_rows}, 0, "fix --strategy $strategy: a new scan finds no orphans");
}

# validate --add: a clean relationship becomes a valid FK; a dirty one never does.
FkTest::psql($undeclared, <<'SQL');
CREATE TABLE "Add ""me""" (id int PRIMARY KEY, pid int);
INSERT INTO "Add ""me""" SELECT g, g FROM generate_series(1, 10) g;
CREATE TABLE f_nouniq (id int, k text);
INSERT INTO f_nouniq VALUES (1, 'a');
SQL
my $addme = '"Add ""me"""(pid) -> fp(id)';
my $addname = q{'Add "me"_pid_fkey'};
($rc, $out, $err) = FkTest::fkscan('validate', '--relation', $addme, $undeclared);
is($rc, 1, 'validate without --add: left as it is, exit 1') or diag($err);
like($out, qr/clean, but no constraint declares it: left as it is \(--add adds it/, 'validate without --add: says so');
($rc, $out, $err) = FkTest::fkscan('validate', '--add', '--relation', $addme, $undeclared);
is($rc, 1, 'validate --add without --apply: exit 1');
like($out, qr/would add it \(two transactions\):\n  LOCK TABLE "public"."Add ""me""" IN SHARE ROW EXCLUSIVE MODE;\n  ALTER TABLE "public"."Add ""me""" ADD CONSTRAINT "Add ""me""_pid_fkey" FOREIGN KEY \("pid"\) REFERENCES "public"."fp" \("id"\) NOT VALID;\n  LOCK TABLE .* IN SHARE UPDATE EXCLUSIVE MODE;\n  ALTER TABLE "public"."Add ""me""" VALIDATE CONSTRAINT "Add ""me""_pid_fkey";/,
     'validate --add prints ADD ... NOT VALID, then VALIDATE') or diag($out);
is(FkTest::psql($undeclared, "SELECT count(*) FROM pg_constraint WHERE conname = $addname"), 0,
   'the plan changed nothing');

# a lock held by another session: ADD waits at most --lock-timeout
open(my $locker, '|-', 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $undeclared) or die "psql: $!";
$locker->autoflush(1);
print $locker qq{BEGIN; LOCK TABLE "Add ""me""" IN SHARE MODE;\n};
FkTest::wait_until($undeclared, FkTest::lock_held_sql('"Add ""me"""', 'ShareLock'));
($rc, $out, $err) = FkTest::fkscan('validate', '--add', '--apply', '--relation', $addme, '--lock-timeout', '300ms',
                                   '--lock-retries', '0', $undeclared);
is($rc, 2, 'validate --add, lock held: exit 2');
like($err, qr/could not lock table public\."Add ""me""" within --lock-timeout 300 ms/, 'validate --add: the lock bound, named')
    or diag($err);
print $locker "ROLLBACK;\n";
close $locker;
is(FkTest::psql($undeclared, "SELECT count(*) FROM pg_constraint WHERE conname = $addname"), 0,
   'nothing added after the lock timeout');

($rc, $out, $err) = FkTest::fkscan('validate', '--add', '--apply', '--relation', $addme, $undeclared);
is($rc, 0, 'validate --add --apply: exit 0') or diag("$out$err");
like($out, qr/clean; added and validated in/, 'validate --add --apply: says so');
is(FkTest::psql($undeclared, "SELECT convalidated FROM pg_constraint WHERE conname = $addname AND contype = 'f'"),
   't', 'the FK exists and is valid');
ok(!eval { FkTest::psql($undeclared, 'INSERT INTO "Add ""me""" VALUES (11, 99)'); 1 }, 'and it rejects a new orphan');
($rc, $out, $err) = FkTest::fkscan('validate', '--add', '--apply', '--relation', 'c_enum(k) -> p_enum(k)', $undeclared);
is($rc, 1, 'validate --add on a dirty relationship: exit 1');
like($out, qr/c_enum_k_fkey on public.c_enum: not added: 2 orphan rows/, 'a dirty relationship is not added');
($rc, $out, $err) = FkTest::fkscan('validate', '--add', '--apply', '--relation', 'f_nouniq(k) -> nouniq(k)', $undeclared);
is($rc, 1, 'validate --add without a unique index on the parent key: exit 1');
like($out, qr/the referenced columns have no unique index: ADD FOREIGN KEY would fail; not added/,
     'without a unique index on the parent key: not added');
is(FkTest::psql($undeclared, "SELECT count(*) FROM pg_constraint WHERE conname IN ('c_enum_k_fkey', 'f_nouniq_k_fkey')"), 0,
   'nothing added for them');

# Every way a relationship can be wrong: one line naming it, exit 2.
FkTest::psql($undeclared, 'CREATE VIEW v AS SELECT 1 AS id; CREATE SCHEMA s2; CREATE TABLE s2.fp (id int);');
my @bad = (
    ['c_int(pid) -> nope(id)', qr/relationship "c_int_pid_fkey": table nope does not exist/],
    ['c_int(nope) -> p_int(id)', qr/column "nope" of table "c_int" does not exist/],
    ['c_int(pid) -> p_int(nope)', qr/column "nope" of table "p_int" does not exist/],
    ['c_int(pid, pcode) -> p_int(id)', qr/invalid relationship .*: 2 referencing and 1 referenced columns/],
    ['c_int(pid) -> p_uuid(k)', qr/no equality operator between "pid" \(integer\) and "k" \(uuid\)/],
    ['c_int(pid) -> v(id)', qr/table v is not a table/],
    ['f_del(pid) -> fp(id)', qr/table fp is ambiguous/],
    ['pg_catalog.pg_class(relnamespace) -> pg_catalog.pg_namespace(oid)', qr/is a system table/],
    ['c_int(pid) => p_int(id)', qr/expected "->" and the referenced table at "=> p_int\(id\)"/],
    ['c_int(pid) -> p_int(id) MATCH PARTIAL', qr/expected FULL or SIMPLE after MATCH/],
    ['c_int("pid) -> p_int(id)', qr/expected a closing double quote/],
    ['c_int(pid, pid) -> p_int(id, code)', qr/expected each column once/],
    ['""(pid) -> p_int(id)', qr/zero-length name/],
    ['c_int(pid) -> p_int(id) extra', qr/expected the end/],
);
for my $case (@bad) {
    my ($rel, $re) = @$case;
    ($rc, $out, $err) = FkTest::fkscan('scan', '--relation', $rel, $undeclared);
    is($rc, 2, "bad relationship '$rel': exit 2");
    like($err, $re, "bad relationship '$rel': named");
    is(scalar(() = $err =~ /error:/g), 1, "bad relationship '$rel': one error");
}
($rc, $out, $err) = FkTest::fkscan('scan', '--relation', 'x=c_int(pid) -> p_int(id)', '--relation',
                                   'x=c_uuid(k) -> p_uuid(k)', $undeclared);
like($err, qr/relationship name "x" given twice/, 'a name given twice');
($rc, $out, $err) = FkTest::fkscan('scan', '--relations', "$tmp/missing.txt", $undeclared);
is($rc, 2, 'a missing relations file: exit 2');
like($err, qr/could not open relations file .*missing.txt/, 'a missing relations file: named');
open($fh, '>', "$tmp/bad.txt") or die;
print {$fh} "# ok\nc_int(pid) -> p_int(id)\n\nc_int(pid -> p_int(id)\n";
close $fh;
($rc, $out, $err) = FkTest::fkscan('scan', '--relations', "$tmp/bad.txt", $undeclared);
like($err, qr/line 4 of the relations file/, 'a bad line: its number');
like($err, qr/bad\.txt/, 'a bad line: the file');

done_testing();
