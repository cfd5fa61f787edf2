# fkscan fix: each strategy on planted orphans, checked against the server
# afterwards (no orphans left in the fixed FKs, nothing else touched, the
# backup restores the exact rows); the printed script run by psql has the
# same effect as --apply; refusals; a count mismatch (rows changed between
# the scan and the apply) rolls back.  Names are hostile throughout: a
# schema with a quote, a dot, a space and a dollar, a table with a space and
# a non-ASCII letter, columns with quotes and mixed case.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir tempfile);
use FkTest;
use FkOracle;

my $S = FkTest::quote_ident('Odd "Sch.$ma');
my $PARENT = "$S." . FkTest::quote_ident("Pa rent \xc3\xbc");
my $CHILD = "$S." . FkTest::quote_ident('Chi.ld');
my $PID = FkTest::quote_ident('p"Id');

my $tpl = FkTest::new_db('fix_tpl');
FkTest::psql($tpl, <<SQL);
CREATE EXTENSION citext;
CREATE SCHEMA $S;
CREATE TABLE $PARENT ("I d" bigint PRIMARY KEY, label text NOT NULL DEFAULT 'stub');
CREATE TABLE public.tags (name text PRIMARY KEY);
CREATE TABLE public.ctags (name citext PRIMARY KEY);
CREATE TABLE $CHILD (id int PRIMARY KEY, $PID bigint REFERENCES $PARENT,
    "Tag" text REFERENCES public.tags, ctag citext REFERENCES public.ctags, note text);
CREATE TABLE public.mp (a text, b int, PRIMARY KEY (a, b));
CREATE TABLE public.mc (id int PRIMARY KEY, a text, b int,
    FOREIGN KEY (a, b) REFERENCES public.mp MATCH FULL);
CREATE TABLE public.bystander (id int PRIMARY KEY, v text);
INSERT INTO $PARENT ("I d") SELECT g FROM generate_series(1, 20) g;
INSERT INTO public.tags VALUES ('a'), ('b'), ('c');
INSERT INTO public.ctags VALUES ('Red'), ('Blue');
INSERT INTO public.mp VALUES ('x', 1), ('y', 2);
INSERT INTO public.bystander SELECT g, 'v' || g FROM generate_series(1, 10) g;
SET session_replication_role = replica;
INSERT INTO $CHILD SELECT g, CASE WHEN g % 9 = 0 THEN NULL ELSE g % 25 END,
    CASE WHEN g % 7 = 0 THEN E'z\\tq"\\\\' WHEN g % 13 = 0 THEN NULL ELSE chr(97 + g % 3) END,
    CASE WHEN g % 11 = 0 THEN 'green' WHEN g % 2 = 0 THEN 'red' ELSE 'BLUE' END,
    'n' || g
  FROM generate_series(1, 60) g;
INSERT INTO public.mc VALUES (1, 'x', 1), (2, 'z', 1), (3, 'x', NULL), (4, NULL, NULL),
    (5, E'q\\n''', 9), (6, 'y', 2), (7, 'z', 1);
SQL

# Independent orphan predicates per FK (plain SQL, alias c), and the tables.
my %orphan = (
    pid => "c.$PID IS NOT NULL AND NOT EXISTS (SELECT 1 FROM $PARENT p WHERE p.\"I d\" = c.$PID)",
    tag => "c.\"Tag\" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM public.tags p WHERE p.name = c.\"Tag\")",
    ctag => "c.ctag IS NOT NULL AND NOT EXISTS (SELECT 1 FROM public.ctags p WHERE p.name = c.ctag)",
    mc => "(c.a IS NOT NULL OR c.b IS NOT NULL) AND NOT EXISTS (SELECT 1 FROM public.mp p WHERE p.a = c.a AND p.b = c.b)",
);
my @tables = ($PARENT, $CHILD, 'public.tags', 'public.ctags', 'public.mp', 'public.mc',
              'public.bystander');

# Every table's rows, sorted, as text.
sub contents {
    my ($db) = @_;
    my %t;
    $t{$_} = FkTest::psql($db, "SELECT t::text FROM $_ t ORDER BY 1") for @tables;
    return \%t;
}

sub clone { return FkTest::copy_db($tpl, $_[0]); }

sub count_sql { my ($db, $sql) = @_; return FkTest::psql($db, $sql) + 0; }

# After a fix: a scan of the fixed FKs finds nothing, as the server counts.
sub no_orphans_left {
    my ($db, $label, @filter) = @_;
    my ($rc, $json, $err) = FkTest::fkscan_json('scan', '-j', '2', @filter, $db);
    is($rc, 0, "$label: a new scan finds no orphans") or diag($err);
    FkOracle::forget();
    FkOracle::check($db, $json, $label) if $json;
}

my $orig = contents($tpl);
my %want_rows = map { $_ => count_sql($tpl, "SELECT count(*) FROM "
    . ($_ eq 'mc' ? 'public.mc' : $CHILD) . " c WHERE $orphan{$_}") } keys %orphan;
ok($want_rows{$_} > 0, "fixture: FK $_ has orphans ($want_rows{$_})") for sort keys %want_rows;

my $work = tempdir(CLEANUP => 1);
my $deleted;    # the tables after delete --apply, for the batched run

# ---- delete ----
{
    my $a = clone('fix_del_script');
    my $b = clone('fix_del_apply');
    my ($rc, $script, $err) = FkTest::fkscan('fix', '--strategy', 'delete', '-j', '2',
                                             '--backup-dir', "$work/del_script", $tpl);
    is($rc, 1, 'delete: a dry run prints a script, exit 1') or diag($err);
    like($script, qr/^COPY pg_temp\.fkscan_keys_\d+ \(k1\) FROM STDIN;$/m, 'keys travel as COPY data');
    unlike($script, qr/NOT IN/, 'never NOT IN');
    is_deeply(contents($tpl), $orig, 'the dry run changed nothing');

    # the same script through psql
    my ($fh, $file) = tempfile(DIR => $work);
    print {$fh} $script;
    close $fh;
    my ($prc, $pout, $perr) = FkTest::run_command(
        ['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $a, '-f', $file], '');
    is($prc, 0, 'delete: the script runs in psql') or diag($perr);

    my $bdir = "$work/del";
    ($rc, my $out, $err) = FkTest::fkscan('fix', '--strategy', 'delete', '--apply', '-j', '2',
                                          '--backup-dir', $bdir, $b);
    is($rc, 0, 'delete --apply: exit 0') or diag($err);
    like($out, qr/restore script: \Q$bdir\E\/restore\.sql/, 'the restore script is named');
    no_orphans_left($b, 'delete');

    # exactly the orphan rows are gone, nothing else changed
    my $after = contents($b);
    my $any = join(' OR ', map { "($orphan{$_})" } qw(pid tag ctag));
    my $kept_child = FkTest::psql($tpl, "SELECT c::text FROM $CHILD c WHERE NOT ($any) ORDER BY 1");
    is($after->{$CHILD}, $kept_child, 'child: exactly the orphan rows of its three FKs deleted');
    my $kept_mc = FkTest::psql($tpl, "SELECT c::text FROM public.mc c WHERE NOT ($orphan{mc}) ORDER BY 1");
    is($after->{'public.mc'}, $kept_mc, 'MATCH FULL: orphans and mixed-NULL rows deleted, the all-NULL row kept');
    is($after->{$_}, $orig->{$_}, "$_ untouched") for grep { $_ ne $CHILD && $_ ne 'public.mc' } @tables;
    is_deeply(contents($a), $after, 'the psql script and --apply have the same effect');
    $deleted = $after;

    # the backup puts back exactly the rows
    ok(-f "$bdir/restore.sql", 'restore.sql written');
    ($prc, $pout, $perr) = FkTest::run_command(
        ['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $b, '-f', "$bdir/restore.sql"], '');
    is($prc, 0, 'the restore script runs') or diag($perr);
    is_deeply(contents($b), $orig, 'delete: after the restore every table is exactly as before');
}

# ---- delete in batches: a transaction per 3 keys, same result ----
{
    my $a = clone('fix_batch_script');
    my $b = clone('fix_batch_apply');
    my ($rc, $script, $err) = FkTest::fkscan('fix', '--strategy', 'delete', '--batch-size', '3',
                                             '--backup-dir', "$work/batch_script", $tpl);
    is($rc, 1, 'batches: dry run, exit 1') or diag($err);
    my $nkeys = () = $script =~ /^COPY pg_temp/mg;
    my $ntx = () = $script =~ /^BEGIN;$/mg;
    ok($ntx > 3, "batches: $ntx transactions in the script");
    is($ntx, $nkeys, 'one transaction per batch of keys');
    my ($fh, $file) = tempfile(DIR => $work);
    print {$fh} $script;
    close $fh;
    my ($prc, undef, $perr) = FkTest::run_command(
        ['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $a, '-f', $file], '');
    is($prc, 0, 'batches: the script runs in psql') or diag($perr);
    my $bdir = "$work/batch";
    ($rc, my $out, $err) = FkTest::fkscan('fix', '--strategy', 'delete', '--batch-size', '3', '--apply',
                                          '-j', '2', '--backup-dir', $bdir, $b);
    is($rc, 0, 'batches --apply: exit 0') or diag($err);
    my $nb = () = $out =~ /^  backup: /mg;
    is($nb, $ntx, 'a backup file per batch');
    is_deeply(contents($b), $deleted, 'batches: the same rows deleted as in one transaction');
    is_deeply(contents($a), $deleted, 'batches: the psql script too');
    my ($rrc, undef, $rerr) = FkTest::run_command(
        ['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $b, '-f', "$bdir/restore.sql"], '');
    is($rrc, 0, 'batches: the restore script runs') or diag($rerr);
    is_deeply(contents($b), $orig, 'batches: after the restore every table is exactly as before');
}

# ---- nullify ----
{
    my $a = clone('fix_null_script');
    my $b = clone('fix_null_apply');
    my $exp = clone('fix_null_expected');
    # the expectation, computed independently: each FK's orphans nulled in turn
    FkTest::psql($exp, "SET session_replication_role = replica;
        UPDATE $CHILD c SET $PID = NULL WHERE $orphan{pid};
        UPDATE $CHILD c SET \"Tag\" = NULL WHERE $orphan{tag};
        UPDATE $CHILD c SET ctag = NULL WHERE $orphan{ctag};
        UPDATE public.mc c SET a = NULL, b = NULL WHERE $orphan{mc};");
    my ($rc, $script, $err) = FkTest::fkscan('fix', '--strategy', 'nullify', '-j', '2',
                                             '--backup-dir', "$work/null_script", $tpl);
    is($rc, 1, 'nullify: dry run, exit 1') or diag($err);
    my ($fh, $file) = tempfile(DIR => $work);
    print {$fh} $script;
    close $fh;
    my ($prc, undef, $perr) = FkTest::run_command(
        ['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $a, '-f', $file], '');
    is($prc, 0, 'nullify: the script runs in psql') or diag($perr);

    my $bdir = "$work/null";
    ($rc, undef, $err) = FkTest::fkscan('fix', '--strategy', 'nullify', '--apply', '-j', '2',
                                        '--backup-dir', $bdir, $b);
    is($rc, 0, 'nullify --apply: exit 0') or diag($err);
    no_orphans_left($b, 'nullify');
    is_deeply(contents($b), contents($exp), 'nullify: exactly the orphans\' key columns set to NULL');
    is_deeply(contents($a), contents($b), 'the psql script and --apply have the same effect');
    my ($rrc, undef, $rerr) = FkTest::run_command(
        ['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $b, '-f', "$bdir/restore.sql"], '');
    is($rrc, 0, 'the restore script runs') or diag($rerr);
    is_deeply(contents($b), $orig, 'nullify: after the restore every table is exactly as before');
}

# ---- backfill ----
{
    my $b = clone('fix_backfill');
    my ($rc, $out, $err) = FkTest::fkscan('fix', '--strategy', 'backfill', '--apply', $b);
    is($rc, 2, 'backfill: refused when MATCH FULL rows mix NULLs');
    like($err, qr/mc_a_b_fkey on public\.mc: 1 rows mix NULLs and values under MATCH FULL/,
         'the refusal names the FK and the reason');
    is_deeply(contents($b), $orig, 'a refusal changes nothing');

    my $keys = count_sql($tpl, "SELECT count(DISTINCT $PID) FROM $CHILD c WHERE $orphan{pid}")
        + count_sql($tpl, "SELECT count(DISTINCT \"Tag\") FROM $CHILD c WHERE $orphan{tag}")
        + count_sql($tpl, "SELECT count(DISTINCT ctag) FROM $CHILD c WHERE $orphan{ctag}");
    ($rc, $out, $err) = FkTest::fkscan('fix', '--strategy', 'backfill', '--apply', '-j', '2',
                                       '-t', "$S.\"Chi.ld\"", $b);
    is($rc, 0, 'backfill -t child --apply: exit 0') or diag($err);
    no_orphans_left($b, 'backfill', '-t', "$S.\"Chi.ld\"");
    my $after = contents($b);
    my $added = 0;
    for my $t ($PARENT, 'public.tags', 'public.ctags') {
        my @before = split /\n/, $orig->{$t};
        my @now = split /\n/, $after->{$t};
        my %old = map { $_ => 1 } @before;
        is(scalar(grep { $old{$_} } @now), scalar @before, "$t: every old row still there");
        $added += @now - @before;
    }
    is($added, $keys, "one stub parent per distinct orphan key ($keys)");
    like($after->{$PARENT}, qr/\(0,stub\)/, 'stubs take the column default');
    is($after->{$_}, $orig->{$_}, "$_ untouched") for ($CHILD, 'public.mc', 'public.mp', 'public.bystander');

    # NOT NULL without a default: refused, naming the column; --set supplies it
    my $n = clone('fix_backfill_notnull');
    FkTest::psql($n, "ALTER TABLE public.tags ADD COLUMN \"Owner\" text NOT NULL DEFAULT 'x';
                      ALTER TABLE public.tags ALTER COLUMN \"Owner\" DROP DEFAULT;");
    ($rc, $out, $err) = FkTest::fkscan('fix', '--strategy', 'backfill', '-c', '"Chi.ld_Tag_fkey"', $n);
    is($rc, 2, 'backfill: a NOT NULL column without a default is refused');
    like($err, qr/cannot insert stub rows into public\.tags: column Owner is NOT NULL without a default/,
         'the refusal names the column');
    like($err, qr/--set Owner=VALUE/, 'and says how to supply it');
    ($rc, $out, $err) = FkTest::fkscan('fix', '--strategy', 'backfill', '-c', '"Chi.ld_Tag_fkey"',
                                       '--set', "Owner=it's me", '--apply', $n);
    is($rc, 0, '--set Owner=... backfills') or diag($err);
    is(FkTest::psql($n, "SELECT DISTINCT \"Owner\" FROM public.tags WHERE \"Owner\" <> 'x'"), "it's me",
       'the value arrives as a literal, quote and all');

    # two such columns: both named at once, so one rerun is enough
    my $n2 = clone('fix_backfill_notnull2');
    FkTest::psql($n2, "ALTER TABLE public.tags ADD COLUMN \"Owner\" text NOT NULL DEFAULT 'x',
                                            ADD COLUMN since int NOT NULL DEFAULT 0;
                       ALTER TABLE public.tags ALTER COLUMN \"Owner\" DROP DEFAULT,
                                            ALTER COLUMN since DROP DEFAULT;");
    ($rc, $out, $err) = FkTest::fkscan('fix', '--strategy', 'backfill', '-c', '"Chi.ld_Tag_fkey"', $n2);
    is($rc, 2, 'backfill: two NOT NULL columns without a default are refused');
    like($err, qr/columns Owner, since are NOT NULL without a default/, 'the refusal names both');
    like($err, qr/--set Owner=VALUE --set since=VALUE/, 'and says how to supply both');
}

# ---- refusals ----
{
    my $r = FkTest::new_db('fix_refuse');
    FkTest::psql($r, <<'SQL');
CREATE TABLE p (id int PRIMARY KEY);
CREATE TABLE c (id int PRIMARY KEY, pid int NOT NULL REFERENCES p);
CREATE TABLE d (id int PRIMARY KEY, c_id int REFERENCES c);
CREATE TABLE e (id int PRIMARY KEY, c_id int REFERENCES c ON DELETE CASCADE);
INSERT INTO p VALUES (1);
SET session_replication_role = replica;
INSERT INTO c VALUES (1, 1), (2, 5), (3, 6);
INSERT INTO d VALUES (1, 2);
INSERT INTO e VALUES (1, 3);
SQL
    my ($rc, $out, $err) = FkTest::fkscan('fix', '--strategy', 'nullify', '-t', 'c', $r);
    is($rc, 2, 'nullify of a NOT NULL column: exit 2');
    like($err, qr/c_pid_fkey on public\.c: cannot set column pid to NULL: it is NOT NULL/,
         'the refusal names the column');
    ($rc, $out, $err) = FkTest::fkscan('fix', '--strategy', 'delete', '-t', 'c', '--apply', $r);
    is($rc, 2, 'delete blocked by a NO ACTION dependent: exit 2');
    like($err, qr/cannot delete: 1 row of public\.d \(d_c_id_fkey, ON DELETE NO ACTION\) references the orphan rows/,
         'the blocking dependent is named');
    like($err, qr/would also delete 1 row of public\.e \(e_c_id_fkey, ON DELETE CASCADE\)/,
         'a cascade needs --cascade');
    is(FkTest::psql($r, 'SELECT count(*) FROM c'), 3, 'nothing deleted');
}

# ---- rows change between the scan and the apply: rolled back ----
{
    my $m = clone('fix_mismatch');
    my $before_child = FkTest::psql($m, "SELECT c::text FROM $CHILD c ORDER BY 1");
    # the scan has its snapshot and waits for the lock: now one orphan goes away
    my $victim = FkTest::psql($tpl, "SELECT min(id) FROM $CHILD c WHERE $orphan{pid}");
    my ($rc, $out, $err) = FkTest::run_behind_lock($m, $CHILD, "DELETE FROM $CHILD WHERE id = $victim",
        'fix', '--strategy', 'delete', '--apply', '-j', '2', '--lock-timeout', '60s',
        '-c', '"Chi.ld_p""Id_fkey"', '--backup-dir', "$work/mismatch", $m);
    is($rc, 2, 'count mismatch: exit 2');
    like($err, qr/rows changed since the scan/, 'the message says the rows changed');
    like($err, qr/nothing was changed/, 'and that nothing was changed');
    my $now = FkTest::psql($m, "SELECT c::text FROM $CHILD c ORDER BY 1");
    my $want = join("\n", grep { !/^\($victim,/ } split /\n/, $before_child);
    is($now, $want, 'rolled back: only the other session\'s delete happened');
    ok(!-e "$work/mismatch/restore.sql", 'no restore script for a rolled-back repair');
}

done_testing();
