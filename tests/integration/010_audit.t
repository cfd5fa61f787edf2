# "fkscan audit": every FK state the catalog can show, checked field by
# field against expectations and against the catalog itself; the exit codes;
# the -n/-N/-t/-T/-c filters and --strict-names; the text report; and the
# demo's shop, whose broken states the audit must report exactly.
use strict;
use warnings;
use Test::More;
use FkTest;

my $db = FkTest::new_db('audit');
FkTest::psql($db, <<'SQL');
CREATE TABLE parent (id bigint PRIMARY KEY, note text);
INSERT INTO parent SELECT g FROM generate_series(1, 100) g;

-- a clean FK with an index on its column
CREATE TABLE clean_child (id serial PRIMARY KEY, pid bigint REFERENCES parent);
CREATE INDEX ON clean_child (pid);
INSERT INTO clean_child (pid) SELECT g FROM generate_series(1, 100) g;

-- NOT VALID over a row that violates it
CREATE TABLE nv_child (id serial, pid bigint);
INSERT INTO nv_child (pid) VALUES (1), (999);
ALTER TABLE nv_child ADD CONSTRAINT nv_child_pid_fkey
    FOREIGN KEY (pid) REFERENCES parent NOT VALID;

-- RI triggers disabled on the child
CREATE TABLE dis_child (id serial, pid bigint REFERENCES parent);
ALTER TABLE dis_child DISABLE TRIGGER ALL;

-- the child's RI triggers made replica-only; an int4 FK to an int8 key
CREATE TABLE rep_child (id serial, pid int REFERENCES parent ON DELETE CASCADE);
DO $$
DECLARE t text;
BEGIN
    FOR t IN SELECT tgname FROM pg_trigger
              WHERE tgrelid = 'rep_child'::regclass AND tgisinternal
    LOOP
        EXECUTE format('ALTER TABLE rep_child ENABLE REPLICA TRIGGER %I', t);
    END LOOP;
END $$;

-- composite key, MATCH FULL, actions, deferral; an index on (y, x, z)
-- covers (x, y) whatever the order
CREATE TABLE cparent (a int, b text, c date, PRIMARY KEY (a, b));
CREATE TABLE cchild (x int, y text, z int,
    FOREIGN KEY (x, y) REFERENCES cparent (a, b) MATCH FULL
        ON UPDATE CASCADE ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED);
CREATE INDEX ON cchild (y, x, z);
CREATE TABLE act_child (id int, a int, b text,
    CONSTRAINT act_fk FOREIGN KEY (a, b) REFERENCES cparent
        ON UPDATE RESTRICT ON DELETE SET DEFAULT DEFERRABLE);
CREATE INDEX ON act_child (a);                  -- leads with one column only
CREATE INDEX ON act_child (b, a) WHERE id > 0;  -- partial: does not count

-- partitioned child and partitioned parent; one action trigger on a
-- referenced partition (a clone's) disabled
CREATE TABLE pp (id int PRIMARY KEY) PARTITION BY RANGE (id);
CREATE TABLE pp1 PARTITION OF pp FOR VALUES FROM (0) TO (1000);
CREATE TABLE pp2 PARTITION OF pp FOR VALUES FROM (1000) TO (2000);
CREATE TABLE pc (id int, pid int REFERENCES pp) PARTITION BY RANGE (id);
CREATE TABLE pc1 PARTITION OF pc FOR VALUES FROM (0) TO (1000);
CREATE TABLE pc2 PARTITION OF pc FOR VALUES FROM (1000) TO (2000);
DO $$
DECLARE t text;
BEGIN
    SELECT tg.tgname INTO STRICT t
      FROM pg_trigger tg JOIN pg_proc p ON p.oid = tg.tgfoid
     WHERE tg.tgrelid = 'pp2'::regclass AND p.proname = 'RI_FKey_noaction_del';
    EXECUTE format('ALTER TABLE pp2 DISABLE TRIGGER %I', t);
END $$;

-- an FK to a plain UNIQUE index that is not the PK, in another column order
CREATE TABLE uparent (id serial PRIMARY KEY, a int NOT NULL, b int NOT NULL);
CREATE UNIQUE INDEX uparent_b_a ON uparent (b, a);
CREATE TABLE uchild (x int, y int,
    CONSTRAINT uchild_fk FOREIGN KEY (x, y) REFERENCES uparent (a, b));

-- cross-schema, self-reference, a domain over a domain
CREATE SCHEMA sales;
CREATE TABLE sales.invoices (id int, customer bigint REFERENCES public.parent);
CREATE TABLE emp (id int PRIMARY KEY, boss int REFERENCES emp);
CREATE DOMAIN pid_base AS bigint;
CREATE DOMAIN pid_t AS pid_base;
CREATE TABLE dom_child (pid pid_t REFERENCES parent);

-- hostile names: dots, quotes, semicolons, spaces, unicode, reserved
-- words, a tab and a backslash
CREATE SCHEMA "we.ird; ""s""";
CREATE TABLE "we.ird; ""s"""."Tab le.;""x""" ("ïd" int PRIMARY KEY, "select" int UNIQUE);
CREATE TABLE "we.ird; ""s"""."user" ("col ""1""" int, "Ünï.code" int,
    CONSTRAINT "fk; DROP TABLE parent; --" FOREIGN KEY ("col ""1""")
        REFERENCES "we.ird; ""s"""."Tab le.;""x""" ("ïd"),
    CONSTRAINT "Ünï€ode ""fk""" FOREIGN KEY ("Ünï.code")
        REFERENCES "we.ird; ""s"""."Tab le.;""x""" ("select"),
    CONSTRAINT "tab	and\back" FOREIGN KEY ("col ""1""") REFERENCES public.parent);
ANALYZE;
SQL

my $hostile_schema = 'we.ird; "s"';
my $hostile_parent = 'Tab le.;"x"';

# What each FK must look like.  Fields left out are checked against the
# catalog below, or have their own tests.
# A partitioned FK's RI triggers: one set per clone of the constraint, and
# the clones differ by major (8 on 13 and 14, 12 from 15 on): counted from
# the catalog (the constraint and its clones), not hard-coded.
my $pc_triggers = FkTest::psql($db, <<'SQL');
WITH RECURSIVE clone (oid) AS (
    SELECT oid FROM pg_constraint WHERE conname = 'pc_pid_fkey' AND conrelid = 'pc'::regclass
  UNION ALL
    SELECT c.oid FROM pg_constraint c JOIN clone ON c.conparentid = clone.oid
)
SELECT count(*) FROM pg_trigger t JOIN clone ON t.tgconstraint = clone.oid
SQL
my %want = (
    clean_child_pid_fkey => {
        schema => 'public', table => 'clean_child', columns => ['pid'], column_types => ['bigint'],
        ref_schema => 'public', ref_table => 'parent', ref_columns => ['id'], ref_column_types => ['bigint'],
        match => 'simple', on_update => 'no action', on_delete => 'no action',
        deferrable => 0, deferred => 0, validated => 1, enforced => 1, triggers_enabled => 1,
        triggers => 4, triggers_disabled => 0, triggers_replica_only => 0, trigger_detail => undef,
        index_covered => 1, partitioned => 0, ref_partitioned => 0, est_rows => 100,
        broken => 0, problems => [],
    },
    nv_child_pid_fkey => {
        table => 'nv_child', columns => ['pid'], validated => 0, enforced => 1,
        triggers_enabled => 1, triggers => 4, index_covered => 0, est_rows => 2,
        broken => 1, problems => ['not_valid'],
    },
    dis_child_pid_fkey => {
        table => 'dis_child', validated => 1, triggers_enabled => 0, triggers => 4,
        triggers_disabled => 2, triggers_replica_only => 0,
        trigger_detail => 'public.dis_child.RI_FKey_check_ins=D, public.dis_child.RI_FKey_check_upd=D',
        est_rows => 0, size_bytes => 0, broken => 1, problems => ['triggers_disabled'],
    },
    rep_child_pid_fkey => {
        table => 'rep_child', column_types => ['integer'], ref_column_types => ['bigint'],
        on_delete => 'cascade', on_update => 'no action', triggers_enabled => 0, triggers => 4,
        triggers_disabled => 0, triggers_replica_only => 2,
        trigger_detail => 'public.rep_child.RI_FKey_check_ins=R, public.rep_child.RI_FKey_check_upd=R',
        broken => 1, problems => ['triggers_replica_only'],
    },
    cchild_x_y_fkey => {
        table => 'cchild', columns => ['x', 'y'], column_types => ['integer', 'text'],
        ref_table => 'cparent', ref_columns => ['a', 'b'], ref_column_types => ['integer', 'text'],
        match => 'full', on_update => 'cascade', on_delete => 'set null',
        deferrable => 1, deferred => 1, index_covered => 1, broken => 0, problems => [],
    },
    act_fk => {
        table => 'act_child', columns => ['a', 'b'], ref_columns => ['a', 'b'], match => 'simple',
        on_update => 'restrict', on_delete => 'set default', deferrable => 1, deferred => 0,
        index_covered => 0, broken => 0,
    },
    pc_pid_fkey => {
        table => 'pc', ref_table => 'pp', partitioned => 1, ref_partitioned => 1,
        validated => 1, triggers_enabled => 0, triggers => $pc_triggers, triggers_disabled => 1,
        triggers_replica_only => 0, trigger_detail => 'public.pp2.RI_FKey_noaction_del=D',
        est_rows => 0, size_bytes => 0, broken => 1, problems => ['triggers_disabled'],
    },
    uchild_fk => {
        table => 'uchild', columns => ['x', 'y'], ref_table => 'uparent', ref_columns => ['a', 'b'],
        broken => 0,
    },
    invoices_customer_fkey => {
        schema => 'sales', table => 'invoices', columns => ['customer'],
        ref_schema => 'public', ref_table => 'parent', ref_columns => ['id'], broken => 0,
    },
    emp_boss_fkey => {
        schema => 'public', table => 'emp', columns => ['boss'],
        ref_schema => 'public', ref_table => 'emp', ref_columns => ['id'], broken => 0,
    },
    dom_child_pid_fkey => {
        table => 'dom_child', column_types => ['public.pid_t'], ref_column_types => ['bigint'],
        broken => 0,
    },
    'fk; DROP TABLE parent; --' => {
        schema => $hostile_schema, table => 'user', columns => ['col "1"'],
        ref_schema => $hostile_schema, ref_table => $hostile_parent, ref_columns => ["\xc3\xafd"],
        broken => 0, problems => [],
    },
    "\xc3\x9cn\xc3\xaf\xe2\x82\xacode \"fk\"" => {
        schema => $hostile_schema, table => 'user', columns => ["\xc3\x9cn\xc3\xaf.code"],
        ref_schema => $hostile_schema, ref_table => $hostile_parent, ref_columns => ['select'],
        broken => 0,
    },
    "tab\tand\\back" => {
        schema => $hostile_schema, table => 'user', columns => ['col "1"'],
        ref_schema => 'public', ref_table => 'parent', ref_columns => ['id'], broken => 0,
    },
);
my @broken_names = sort qw(nv_child_pid_fkey dis_child_pid_fkey rep_child_pid_fkey pc_pid_fkey);

# The full audit, as JSON.
my ($rc, $json, $err) = FkTest::fkscan_json('audit', $db);
is($rc, 1, 'audit of every state: exit 1 (some FKs are broken)') or diag($err);
is($err, '', 'audit: nothing on stderr');
is($json->{tool}, 'fkscan', 'json: tool');
like($json->{version}, qr/^\d+\.\d+\.\d+$/, 'json: version');
is($json->{server_version_num}, FkTest::psql($db, 'SHOW server_version_num'), 'json: server_version_num');
is($json->{in_recovery}, JSON::PP::false, 'json: not in recovery');
is($json->{totals}{constraints}, scalar keys %want, 'json: totals.constraints');
is($json->{totals}{broken}, scalar @broken_names, 'json: totals.broken');

my @got = @{ $json->{constraints} };
is_deeply([sort map { $_->{constraint} } @got], [sort keys %want], 'one entry per logical FK, clones folded');
is_deeply([map { [$_->{schema}, $_->{table}, $_->{constraint}] } @got],
          [sort { $a->[0] cmp $b->[0] || $a->[1] cmp $b->[1] || $a->[2] cmp $b->[2] }
               map { [$_->{schema}, $_->{table}, $_->{constraint}] } @got],
          'sorted by schema, table, constraint (byte order)');
ok(!(grep { $_->{table} =~ /^(pc|pp)\d$/ } @got), 'no partition appears as a table of its own');
is_deeply([sort map { $_->{constraint} } grep { $_->{broken} } @got], \@broken_names,
          'broken: exactly the NOT VALID and trigger-state FKs');

my %bool_fields = map { $_ => 1 } qw(deferrable deferred validated enforced triggers_enabled
                                     index_covered partitioned ref_partitioned broken period);
for my $c (@got) {
    my $name = $c->{constraint};
    my $w = $want{$name} or next;
    for my $field (sort keys %$w) {
        my $label = "$name: $field";
        if (ref $w->{$field} eq 'ARRAY') {
            is_deeply($c->{$field}, $w->{$field}, $label);
        } elsif ($bool_fields{$field}) {
            ok(JSON::PP::is_bool($c->{$field}), "$label is a JSON boolean");
            is($c->{$field} ? 1 : 0, $w->{$field}, $label);
        } else {
            is($c->{$field}, $w->{$field}, $label);
        }
    }
    # fields every entry has
    for my $field (qw(schema table constraint columns column_types ref_schema ref_table ref_columns
                      ref_column_types match on_update on_delete deferrable deferred validated
                      enforced triggers_enabled triggers_disabled triggers_replica_only
                      trigger_detail index_covered est_rows size_bytes broken problems)) {
        ok(exists $c->{$field}, "$name: has $field");
    }
    is(scalar @{ $c->{columns} }, scalar @{ $c->{ref_columns} }, "$name: columns pair up");
    is(scalar @{ $c->{column_types} }, scalar @{ $c->{columns} }, "$name: a type per column");
    is($c->{enforced} ? 1 : 0, 1, "$name: enforced (this server has no NOT ENFORCED FKs here)");
    is($c->{triggers_enabled} ? 1 : 0,
       ($c->{triggers_disabled} == 0 && $c->{triggers_replica_only} == 0) ? 1 : 0,
       "$name: triggers_enabled agrees with the counts");
    is($c->{broken} ? 1 : 0, @{ $c->{problems} } ? 1 : 0, "$name: broken iff problems");
}

# The same facts, straight from the catalog.
my $q = \&FkTest::quote_literal;
for my $c (@got) {
    my $name = $c->{constraint};
    my $row = FkTest::psql($db, <<SQL);
SELECT c.convalidated, c.confmatchtype, c.confupdtype, c.confdeltype, c.condeferrable, c.condeferred,
       (SELECT string_agg(a.attname, ',' ORDER BY k.i) FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n),
       (SELECT string_agg(a.attname, ',' ORDER BY k.i) FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
          JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n),
       pn.nspname, pr.relname, pg_relation_size(c.conrelid)
  FROM pg_constraint c
  JOIN pg_class r ON r.oid = c.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace
  JOIN pg_class pr ON pr.oid = c.confrelid JOIN pg_namespace pn ON pn.oid = pr.relnamespace
 WHERE c.contype = 'f' AND c.conparentid = 0 AND c.conname = @{[$q->($name)]}
   AND r.relname = @{[$q->($c->{table})]} AND n.nspname = @{[$q->($c->{schema})]}
SQL
    my ($valid, $match, $upd, $del, $defer, $deferred, $cols, $refcols, $rschema, $rtable, $size)
        = split /\|/, $row, -1;
    my %action = (a => 'no action', r => 'restrict', c => 'cascade', n => 'set null', d => 'set default');
    is($c->{validated} ? 't' : 'f', $valid, "catalog: $name convalidated");
    is($c->{match}, $match eq 'f' ? 'full' : 'simple', "catalog: $name confmatchtype");
    is($c->{on_update}, $action{$upd}, "catalog: $name confupdtype");
    is($c->{on_delete}, $action{$del}, "catalog: $name confdeltype");
    is($c->{deferrable} ? 't' : 'f', $defer, "catalog: $name condeferrable");
    is($c->{deferred} ? 't' : 'f', $deferred, "catalog: $name condeferred");
    is(join(',', @{ $c->{columns} }), $cols, "catalog: $name conkey names in order");
    is(join(',', @{ $c->{ref_columns} }), $refcols, "catalog: $name confkey names in order");
    is($c->{ref_schema}, $rschema, "catalog: $name referenced schema");
    is($c->{ref_table}, $rtable, "catalog: $name referenced table");
    is($c->{size_bytes}, $size, "catalog: $name size_bytes is the child's size")
        unless $c->{partitioned};

    # RI triggers over the FK and its partition clones (pg-internals.md section 2)
    my $trig = FkTest::psql($db, <<SQL);
WITH RECURSIVE fk(con) AS (
    SELECT c.oid FROM pg_constraint c
      JOIN pg_class r ON r.oid = c.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace
     WHERE c.contype = 'f' AND c.conparentid = 0 AND c.conname = @{[$q->($name)]}
       AND r.relname = @{[$q->($c->{table})]} AND n.nspname = @{[$q->($c->{schema})]}
  UNION ALL
    SELECT c.oid FROM pg_constraint c JOIN fk ON c.conparentid = fk.con)
SELECT count(t.oid), count(t.oid) FILTER (WHERE t.tgenabled = 'D'),
       count(t.oid) FILTER (WHERE t.tgenabled = 'R')
  FROM fk LEFT JOIN pg_trigger t ON t.tgconstraint = fk.con
SQL
    my ($n, $d, $r) = split /\|/, $trig;
    is($c->{triggers}, $n, "catalog: $name RI trigger count");
    is($c->{triggers_disabled}, $d, "catalog: $name disabled triggers");
    is($c->{triggers_replica_only}, $r, "catalog: $name replica-only triggers");
}
is(FkTest::psql($db, "SELECT count(*) FROM parent"), 100, 'hostile names did not run as SQL');

# A role without privileges sees the same catalog.
my $reader = 'fkscan_audit_reader';
FkTest::psql('postgres', "DROP ROLE IF EXISTS $reader; CREATE ROLE $reader LOGIN");
my ($rrc, $rjson, $rerr) = FkTest::as_role($reader, sub { FkTest::fkscan_json('audit', $db) });
is($rrc, 1, 'unprivileged role: exit 1 as well') or diag($rerr);
is_deeply([map { [$_->{constraint}, $_->{problems}] } @{ $rjson->{constraints} }],
          [map { [$_->{constraint}, $_->{problems}] } @got],
          'unprivileged role: the same FKs in the same states');
is(FkTest::as_role($reader, sub { FkTest::psql($db, 'SELECT current_user') }), $reader,
   'as_role connects as the role');
FkTest::psql('postgres', "DROP ROLE $reader");

# Another session's temporary FK is none of our business.
open(my $other, '|-', 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $db) or die "psql: $!";
$other->autoflush(1);
print $other "CREATE TEMP TABLE tmp_parent (id int PRIMARY KEY);\n"
    . "CREATE TEMP TABLE tmp_child (pid int REFERENCES tmp_parent);\n"
    . "SELECT pg_sleep(120);\n";
my $seen = 0;
for (1 .. 200) {
    $seen = FkTest::psql($db, "SELECT count(*) FROM pg_class WHERE relname = 'tmp_child'");
    last if $seen;
    select(undef, undef, undef, 0.05);
}
is($seen, 1, 'another session holds a temporary FK');
($rc, my $tjson, $err) = FkTest::fkscan_json('audit', $db);
is(scalar @{ $tjson->{constraints} }, scalar keys %want, 'temporary FKs of other sessions are skipped');
FkTest::psql($db, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
             . "WHERE datname = current_database() AND query LIKE '%pg_sleep(120)%' AND pid <> pg_backend_pid()");
close $other;

# Filters and exit codes.
sub audit_names {
    my (@args) = @_;
    my ($rc, $json, $err) = FkTest::fkscan_json('audit', @args, $db);
    return ($rc, [sort map { $_->{constraint} } @{ $json ? $json->{constraints} : [] }], $err);
}

sub filter_is {
    my ($args, $rc_want, $names_want, $label) = @_;
    my ($rc, $names, $err) = audit_names(@$args);
    is($rc, $rc_want, "$label: exit $rc_want") or diag($err);
    is_deeply($names, [sort @$names_want], "$label: the FKs");
}

my @child_tables = qw(act_fk cchild_x_y_fkey clean_child_pid_fkey dis_child_pid_fkey
                      dom_child_pid_fkey nv_child_pid_fkey rep_child_pid_fkey uchild_fk);
my @hostile = ('fk; DROP TABLE parent; --', "\xc3\x9cn\xc3\xaf\xe2\x82\xacode \"fk\"", "tab\tand\\back");

filter_is(['-t', 'clean_child'], 0, ['clean_child_pid_fkey'], '-t one clean table');
filter_is(['-t', 'nv_child'], 1, ['nv_child_pid_fkey'], '-t one NOT VALID table');
filter_is(['-t', 'CLEAN_CHILD'], 0, ['clean_child_pid_fkey'], '-t folds unquoted case');
filter_is(['-t', '"CLEAN_CHILD"'], 0, [], '-t quoted keeps case');
filter_is(['-n', 'sales'], 0, ['invoices_customer_fkey'], '-n one schema');
filter_is(['--schema=SALES'], 0, ['invoices_customer_fkey'], '--schema folds case');
filter_is(['-N', 'public', '-N', 'sales'], 0, \@hostile, '-N twice');
filter_is(['-t', 'public.*child'], 1, \@child_tables, '-t schema.pattern');
filter_is(['-t', '*.invoices'], 0, ['invoices_customer_fkey'], '-t *.table');
filter_is(['-t', 'sales.emp'], 0, [], '-t with the wrong schema');
filter_is(['-T', '*child*'], 1,
          ['emp_boss_fkey', 'invoices_customer_fkey', 'pc_pid_fkey', @hostile], '-T excludes tables');
filter_is(['-T', 'public.*'], 0, ['invoices_customer_fkey', @hostile], '-T schema.*');
filter_is(['-c', '*_pid_fkey'], 1,
          [qw(clean_child_pid_fkey dis_child_pid_fkey dom_child_pid_fkey nv_child_pid_fkey
              pc_pid_fkey rep_child_pid_fkey)], '-c pattern');
filter_is(['-c', 'act_fk', '--constraint=uchild_fk'], 0, ['act_fk', 'uchild_fk'], '-c twice');
filter_is(['-n', 'public', '-t', 'emp'], 0, ['emp_boss_fkey'], '-n and -t together');
filter_is(['-n', 'public', '-c', 'pc_*'], 1, ['pc_pid_fkey'], '-n and -c together');
filter_is(['-t', 'pc1'], 0, [], 'a partition is not a table with FKs of its own');
filter_is(['-n', '"we.ird; ""s"""'], 0, \@hostile, '-n quoted hostile schema');
filter_is(['-t', '"we.ird; ""s""".USER'], 0, \@hostile, '-t quoted schema, folded table');
filter_is(['-c', '"fk; DROP TABLE parent; --"'], 0, ['fk; DROP TABLE parent; --'], '-c quoted hostile name');
filter_is(['-c', 'fk; drop*'], 0, [], '-c: unquoted letters fold, so DROP does not match drop');
filter_is(['-c', 'fk; DROP*'], 0, [], '-c: ... and folded DROP does not match DROP either');
filter_is(['-c', '"fk; DROP"*'], 0, ['fk; DROP TABLE parent; --'], '-c: quoted prefix and a wildcard');
filter_is(['-c', "\"\xc3\x9cn\xc3\xaf\xe2\x82\xacode \"\"fk\"\"\""], 0, [$hostile[1]], '-c unicode and quotes');
filter_is(['-t', 'nosuch'], 0, [], 'a pattern matching nothing is fine without --strict-names');
is(FkTest::psql($db, "SELECT count(*) FROM parent"), 100, 'hostile patterns did not run as SQL');

# --strict-names: each include pattern must match some FK.
($rc, my $out, $err) = FkTest::fkscan('audit', '--strict-names', '-t', 'nosuch', $db);
is($rc, 2, '--strict-names, unmatched -t: exit 2');
is($out, '', '--strict-names, unmatched -t: nothing on stdout');
is($err, "fkscan: error: no matching foreign keys found for pattern \"nosuch\"\n",
   '--strict-names: one line naming the pattern');
($rc, $out, $err) = FkTest::fkscan('audit', '--strict-names', '-t', 'clean_child', '-n', 'nope',
                                   '-c', 'NoSuch*', $db);
is($rc, 2, '--strict-names, two unmatched patterns: exit 2');
like($err, qr/^fkscan: error: no matching foreign keys found for pattern "nope"$/m, 'names the -n pattern');
like($err, qr/^fkscan: error: no matching foreign keys found for pattern "NoSuch\*"$/m, 'names the -c pattern');
unlike($err, qr/"clean_child"/, 'does not name the pattern that matched');
filter_is(['--strict-names', '-t', 'clean_child', '-n', 'public'], 0, ['clean_child_pid_fkey'],
          '--strict-names, all patterns match');
filter_is(['--strict-names', '-n', 'sales', '-N', 'nosuch'], 0, ['invoices_customer_fkey'],
          '--strict-names does not check exclusions');
filter_is(['--strict-names', '-n', 'sales', '-t', 'emp'], 0, [],
          '--strict-names judges each pattern alone');

# Bad patterns are errors, named.
for my $case (['-t', 'db.public.parent'], ['-T', 'a.b.c'], ['-n', 'public.x'], ['-c', 'x.y']) {
    ($rc, $out, $err) = FkTest::fkscan('audit', @$case, $db);
    is($rc, 2, "bad pattern @$case: exit 2");
    is($out, '', "bad pattern @$case: nothing on stdout");
    is($err, "fkscan: error: improper qualified name (too many dotted names): $case->[1]\n",
       "bad pattern @$case: one line naming the pattern");
}

# The text report.
($rc, $out, $err) = FkTest::fkscan('audit', $db);
is($rc, 1, 'text: exit 1');
my @lines = split /\n/, $out;
like($lines[0], qr/^\s+table\s+\|\s+constraint\s+\|\s+columns\s+\|\s+references\s+\|\s+match\s+\|\s+on update\s+\|\s+on delete\s+\|\s+state$/,
     'text: header');
like($lines[1], qr/^-+(\+-+){7}$/, 'text: rule under the header');
my %display = (
    'fk; DROP TABLE parent; --' => '"fk; DROP TABLE parent; --"',
    $hostile[1] => "\"\xc3\x9cn\xc3\xaf\xe2\x82\xacode \"\"fk\"\"\"",
    "tab\tand\\back" => 'U&"tab\0009and\\\\back"',
);
my %state = (
    nv_child_pid_fkey => 'NOT VALID',
    dis_child_pid_fkey => 'triggers disabled (2 of 4)',
    rep_child_pid_fkey => 'replica-only triggers (2 of 4)',
    pc_pid_fkey => "triggers disabled (1 of $pc_triggers)",
);
for my $name (sort keys %want) {
    my $shown = $display{$name} // $name;
    my @row = grep { index($_, " | $shown ") >= 0 } @lines[2 .. $#lines];
    is(scalar @row, 1, "text: one row for $name") or next;
    my @cells = split / \| /, $row[0];
    is(scalar @cells, 8, "text: $name row has 8 cells");
    is($cells[7], $state{$name} // 'ok', "text: $name state");
}
like($out, qr/^ public\.cchild\s+\| cchild_x_y_fkey\s+\| x, y\s+\| public\.cparent\(a, b\)\s+\| full\s+\| cascade\s+\| set null\s+\| ok$/m,
     'text: a composite FK row in full');
like($out, qr/^ "we\.ird; ""s"""\.user\s+\| "fk; DROP TABLE parent; --"\s+\| "col ""1"""\s+\| "we\.ird; ""s"""\."Tab le\.;""x"""\("\xc3\xafd"\)/m,
     'text: hostile names are shown quoted');
my @data = grep { /\|/ } @lines[2 .. $#lines];
is(scalar @data, scalar keys %want, 'text: one row per FK');
my $pos = index($lines[0], '|');
is(scalar(grep { index($_, '|') == $pos } grep { !/[^\x00-\x7f]/ } @data), scalar(grep { !/[^\x00-\x7f]/ } @data),
   'text: ASCII rows are aligned with the header');
like($out, qr/^14 foreign keys, 4 broken: 1 not valid, 2 with triggers disabled, 1 with replica-only triggers$/m,
     'text: summary line, each class named');
like($out, qr/^Hint: .*"fkscan scan"/m, 'text: hint to run a scan');
is($err, '', 'text: nothing on stderr');

($rc, $out, $err) = FkTest::fkscan('audit', '-t', 'clean_child', $db);
is($rc, 0, 'text, clean: exit 0');
like($out, qr/^1 foreign key, 0 broken$/m, 'text, clean: summary line');
unlike($out, qr/Hint:/, 'text, clean: no hint');

($rc, $out, $err) = FkTest::fkscan('audit', '-t', 'nosuch', $db);
is($out, "0 foreign keys\n", 'text, nothing in scope: just the count');

# The demo's shop: the audit must report exactly the broken states the demo
# created, and nothing else.
my $shop = FkTest::new_db('audit_shop');
my $sql = FkTest::slurp(FkTest::source_dir() . '/tests/demo/shop.sql');
FkTest::psql($shop, $sql);
($rc, $json, $err) = FkTest::fkscan_json('audit', $shop);
is($rc, 1, 'shop: exit 1') or diag($err);
my %shop_want = (
    order_items_order_id_fkey => [],
    order_items_product_id_fkey => [],        # dirty, but only a scan can tell
    shipments_order_id_fkey => [],            # likewise
    reviews_product_id_fkey => [],
    reviews_customer_id_fkey => ['not_valid'],
    payments_order_id_fkey => ['triggers_disabled'],
    orders_customer_id_fkey => ['triggers_replica_only'],
);
is_deeply({ map { $_->{constraint} => $_->{problems} } @{ $json->{constraints} } }, \%shop_want,
          'shop: the broken states are exactly those the demo made');
my %shop = map { $_->{constraint} => $_ } @{ $json->{constraints} };
is($shop{payments_order_id_fkey}{triggers_disabled}, 2, 'shop: payments has its 2 check triggers disabled');
is($shop{orders_customer_id_fkey}{triggers_replica_only}, 2, 'shop: orders has 2 replica-only check triggers');
is($shop{reviews_customer_id_fkey}{validated} ? 1 : 0, 0, 'shop: reviews_customer_id_fkey is NOT VALID');
is($shop{order_items_product_id_fkey}{validated} ? 1 : 0, 1, 'shop: the bulk-loaded FK still says valid');
is($shop{order_items_order_id_fkey}{on_delete}, 'cascade', 'shop: order_items cascades');
is($json->{totals}{broken}, 3, 'shop: totals.broken');
ok($shop{order_items_order_id_fkey}{est_rows} > 50000, 'shop: order_items row estimate after ANALYZE');

done_testing();
