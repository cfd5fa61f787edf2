# Security: names from the catalog and patterns from the command line can
# never change fkscan's SQL; passwords are never printed; every session is
# read-only.
#
# 1. Schemas, tables, columns, constraints (and partitions, and key values)
#    with ' " ; \ $$ -- /* newlines, unicode and reserved words, on both
#    sides of every kind of FK (integer, hashed text, composite MATCH FULL,
#    the server's anti-join, partitioned on both sides, self-reference):
#    every scan is checked against the server's own answer (FkOracle), and a
#    canary table named in the "payloads" is still there at the end.
# 2. -n/-t/-c patterns with the same characters select exactly what they
#    name, and never run.
# 3. A role that cannot read a table whose name holds a newline and a forged
#    "fkscan: error:" line gets one error entry, not two.
# 4. Wrong and right passwords (conninfo, URI, PGPASSWORD, -W on stdin), with
#    -v -v (debug output prints the SQL): the password appears nowhere.
# 5. log_statement = all for fkscan's sessions only (PGOPTIONS): every
#    transaction it begins is READ ONLY, and every statement it sends is one
#    a read-only scan needs; with default_transaction_read_only = on the scan
#    still works.
use strict;
use warnings;
use Test::More;
use FkTest;
use FkOracle;

my $db = FkTest::new_db('security');
my $qi = \&FkTest::quote_ident;
my $ql = \&FkTest::quote_literal;
my $payload = "'; DROP TABLE canary; --";

# Names (bytes: this file has no "use utf8").
my $S1 = "s'q\"d;--/*x*/\$\$\\";                       # s'q"d;--/*x*/$$\
my $S2 = "sel\nect";
my $S3 = 'select';
my %fk = (
    int    => "fk'int\"; DROP TABLE canary; --",
    text   => "fk\n$payload",
    comp   => '$$; SELECT pg_sleep(10); $$',
    server => 'ALL',
    part   => 'fk/*part*/',
    self   => 'table',
);
my $int_parent = "Pa'rent\"; DROP TABLE canary; --";
my $int_child = "ch\$\$ild/*\n*/";
my $evil = "evil\nfkscan: error: forged";
my $uni = "\xc3\xbcn\xc3\xaf\xe2\x82\xac\xf0\x9f\x98\x80 \"k\"";   # ünï€😀 "k"

sub rel { return $qi->($_[0]) . '.' . $qi->($_[1]); }

my $sql = <<SQL;
CREATE TABLE canary (id int);
INSERT INTO canary VALUES (1);
CREATE SCHEMA @{[$qi->($S1)]};
CREATE SCHEMA @{[$qi->($S2)]};
CREATE SCHEMA @{[$qi->($S3)]};

-- integer key, across schemas
CREATE TABLE @{[rel($S1, $int_parent)]} ("i;d" bigint PRIMARY KEY);
CREATE TABLE @{[rel($S2, $int_child)]} ("pid""'" int,
    CONSTRAINT @{[$qi->($fk{int})]} FOREIGN KEY ("pid""'") REFERENCES @{[rel($S1, $int_parent)]});

-- text key with unicode and quotes in the column names, reserved words as tables
CREATE TABLE @{[rel($S3, 'user')]} (@{[$qi->($uni)]} text PRIMARY KEY);
CREATE TABLE @{[rel($S3, 'order')]} (@{[$qi->("from$payload")]} text,
    CONSTRAINT @{[$qi->($fk{text})]} FOREIGN KEY (@{[$qi->("from$payload")]})
        REFERENCES @{[rel($S3, 'user')]});

-- composite key, MATCH FULL
CREATE TABLE @{[rel($S1, "tb\\l")]} ("a'1" int, "b""2" text, PRIMARY KEY ("a'1", "b""2"));
CREATE TABLE @{[rel($S1, 'c$$1')]} ("x--" int, "y/*" text,
    CONSTRAINT @{[$qi->($fk{comp})]} FOREIGN KEY ("x--", "y/*")
        REFERENCES @{[rel($S1, "tb\\l")]} MATCH FULL);

-- int -> numeric: checked by the server's own anti-join
CREATE TABLE @{[rel($S3, 'num$1')]} (k numeric PRIMARY KEY);
CREATE TABLE @{[rel($S3, 'select')]} (k int,
    CONSTRAINT @{[$qi->($fk{server})]} FOREIGN KEY (k) REFERENCES @{[rel($S3, 'num$1')]});

-- partitioned on both sides, hostile partition names
CREATE TABLE @{[rel('public', "pp'\"")]} (id bigint PRIMARY KEY) PARTITION BY RANGE (id);
CREATE TABLE @{[rel('public', "pp\n1")]} PARTITION OF @{[rel('public', "pp'\"")]}
    FOR VALUES FROM (MINVALUE) TO (500);
CREATE TABLE @{[rel('public', 'pp;2')]} PARTITION OF @{[rel('public', "pp'\"")]}
    FOR VALUES FROM (500) TO (MAXVALUE);
CREATE TABLE @{[rel('public', "pc\\")]} (id serial, "p'id" bigint,
    CONSTRAINT @{[$qi->($fk{part})]} FOREIGN KEY ("p'id") REFERENCES @{[rel('public', "pp'\"")]})
    PARTITION BY HASH (id);
CREATE TABLE @{[rel('public', "pc'1")]} PARTITION OF @{[rel('public', "pc\\")]}
    FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE @{[rel('public', "pc\"2")]} PARTITION OF @{[rel('public', "pc\\")]}
    FOR VALUES WITH (MODULUS 2, REMAINDER 1);

-- self-reference, reserved words everywhere
CREATE TABLE @{[rel($S3, 'table')]} ("id" int PRIMARY KEY, "parent id" int,
    CONSTRAINT @{[$qi->($fk{self})]} FOREIGN KEY ("parent id") REFERENCES @{[rel($S3, 'table')]});

-- a table whose name forges a log line (section 3)
CREATE TABLE @{[rel($S3, $evil)]} (v text REFERENCES @{[rel($S3, 'user')]});

-- data, and orphans behind every FK (triggers off, as a bulk load would)
INSERT INTO @{[rel($S1, $int_parent)]} SELECT g FROM generate_series(1, 300) g;
INSERT INTO @{[rel($S3, 'user')]}
    SELECT 'u' || g FROM generate_series(1, 200) g
    UNION ALL VALUES (E'quote''s'), (E'back\\\\slash'), (E'new\\nline'), (@{[$ql->('dollar$$')]}), (@{[$ql->($payload)]});
INSERT INTO @{[rel($S1, "tb\\l")]} SELECT g, E'v''' || g FROM generate_series(1, 100) g;
INSERT INTO @{[rel($S3, 'num$1')]} SELECT g FROM generate_series(1, 100) g;
INSERT INTO @{[rel('public', "pp'\"")]} SELECT g FROM generate_series(1, 1000) g;
SET session_replication_role = replica;
INSERT INTO @{[rel($S2, $int_child)]} SELECT g % 310 FROM generate_series(1, 2000) g;
INSERT INTO @{[rel($S2, $int_child)]} VALUES (NULL);
INSERT INTO @{[rel($S3, 'order')]}
    SELECT 'u' || (g % 210) FROM generate_series(1, 1000) g
    UNION ALL VALUES (E'quote''s'), (E'quote''s '), (E'back\\\\slash'), (E'back\\\\\\\\slash'),
                     (E'new\\nline'), (E'new\\n line'), (@{[$ql->('dollar$$')]}), (@{[$ql->('dollar')]}),
                     (@{[$ql->($payload)]}), (@{[$ql->("$payload ")]}), (NULL);
INSERT INTO @{[rel($S1, 'c$$1')]}
    SELECT g % 105, E'v''' || (g % 103) FROM generate_series(1, 500) g
    UNION ALL VALUES (1, NULL), (NULL, NULL), (NULL, E'v''1');
INSERT INTO @{[rel($S3, 'select')]} SELECT g % 110 FROM generate_series(1, 400) g;
INSERT INTO @{[rel('public', "pc\\")]} ("p'id") SELECT g % 1010 FROM generate_series(1, 3000) g;
INSERT INTO @{[rel($S3, 'table')]} SELECT g, CASE WHEN g % 50 = 0 THEN g + 1000 ELSE g / 2 END
    FROM generate_series(1, 400) g;
INSERT INTO @{[rel($S3, $evil)]} VALUES ('u1'), ('nope');
RESET session_replication_role;
ANALYZE;
SQL
FkTest::psql($db, $sql);

my $canary = sub { FkTest::psql($db, 'SELECT count(*) FROM canary') };
my @all_fks = sort(values(%fk), "${evil}_v_fkey");
my $nfks = FkTest::psql($db, "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conparentid = 0");
is($nfks, scalar @all_fks, 'the catalog has every hostile FK');

sub scan_ok {
    my ($label, @args) = @_;
    my ($rc, $json, $err) = FkTest::fkscan_json('scan', @args, $db);
    is($rc, 1, "$label: exit 1 (orphans found)") or diag($err);
    is(scalar(grep { /^fkscan: error: / } split /\n/, $err), 0, "$label: no error") or diag($err);
    ok($json, "$label: a JSON report") or return;
    is($json->{totals}{errors}, 0, "$label: no FK in error");
    FkOracle::check($db, $json, $label);
    return $json;
}

# ---- 1. hostile names, every method ----
{
    my $json = scan_ok('hostile names', '-j', '2');
    is_deeply([sort map { $_->{constraint} } @{ $json->{constraints} }], \@all_fks,
              'hostile names: every FK reported, its name byte for byte');
    my %by = map { $_->{constraint} => $_ } @{ $json->{constraints} };
    is($by{$fk{int}}{schema}, $S2, 'hostile names: a schema with a newline, exactly');
    is($by{$fk{int}}{table}, $int_child, 'hostile names: a table with $$ /* and a newline, exactly');
    is_deeply($by{$fk{int}}{columns}, ["pid\"'"], 'hostile names: a column with quotes, exactly');
    is_deeply($by{$fk{text}}{ref_columns}, [$uni], 'hostile names: a unicode column, exactly');
    is($by{$fk{text}}{method}, 'hash', 'hostile names: the text FK is hashed');
    is($by{$fk{comp}}{method}, 'hash', 'hostile names: the composite FK is hashed');
    is($by{$fk{server}}{method}, 'server', 'hostile names: int -> numeric is the server\'s anti-join');
    like($by{$fk{int}}{method}, qr/^(bitmap|roaring)$/, 'hostile names: the integer FK is a bitmap');
    cmp_ok($by{$fk{$_}}{orphan_rows}, '>', 0, "hostile names: $_ FK has orphans") for sort keys %fk;
}
scan_ok('hostile names, -j 1, 8kB chunks', '-j', '1', '--chunk-size', '8kB');
scan_ok('hostile names, --fetch text', '-j', '2', '--fetch', 'text', '--chunk-size', '8kB');
scan_ok('hostile names, --fetch cursor', '-j', '2', '--fetch', 'cursor');
scan_ok('hostile names, --compare server', '-j', '2', '--compare', 'server');
scan_ok('hostile names, -v -v (SQL in the debug log)', '-j', '2', '-v', '-v');
{
    my ($rc, $out, $err) = FkTest::fkscan('scan', '-j', '2', $db);
    is($rc, 1, 'hostile names, text report: exit 1') or diag($err);
    like($out, qr/\Q$payload\E/, 'hostile names, text report: the names are shown');
}
is($canary->(), 1, 'hostile names: the canary table is untouched');

# ---- 2. patterns with the same characters ----
sub quoted_pattern { my ($n) = @_; $n =~ s/"/""/g; return qq{"$n"}; }

my @pattern_cases = (
    [['-n', quoted_pattern($S1)], [$fk{comp}]],
    [['-n', quoted_pattern($S2)], [$fk{int}]],
    [['-n', 'SELECT'], [$fk{text}, $fk{server}, $fk{self}, "${evil}_v_fkey"]],
    [['-n', "*'*"], [$fk{comp}]],
    [['-n', '*\\*'], [$fk{comp}]],
    [['-n', "*\n*"], [$fk{int}]],
    [['-t', quoted_pattern($S2) . '.' . quoted_pattern($int_child)], [$fk{int}]],
    [['-t', '*$$*'], [$fk{int}, $fk{comp}]],
    [['-t', "*\n*"], [$fk{int}, "${evil}_v_fkey"]],
    [['-t', "*\n*.*"], [$fk{int}]],
    [['-t', 'public."pc\\"'], [$fk{part}]],
    [['-t', '"pc\'1"'], []],                            # a partition is not a table of its own
    [['-t', '"order"', '-t', '"table"'], [$fk{text}, $fk{self}]],
    [['-c', '*"DROP TABLE canary"*'], [$fk{int}, $fk{text}]],
    [['-c', '*DROP TABLE canary*'], []],                # unquoted: folds to lower case
    [['-c', quoted_pattern($fk{comp})], [$fk{comp}]],
    [['-c', quoted_pattern($fk{text})], [$fk{text}]],
    [['-c', '"ALL"'], [$fk{server}]],
    [['-c', 'ALL'], []],
    [['-c', 'TABLE'], [$fk{self}]],
    [['-c', 'fk/*part*/'], [$fk{part}]],                # unquoted * is a wildcard, and matches *
    [['-c', 'fk/?part?/'], [$fk{part}]],
    [['-T', '*$$*', '-n', quoted_pattern($S1)], []],
    [['-N', '"select"', '-N', 'public'], [$fk{int}, $fk{comp}]],
    # patterns that are SQL or regexes are neither
    [['-t', '.*'], []],
    [['-c', '(a|b)'], []],
    [['-c', '[a-z]*'], []],
    [['-c', "x'); DROP TABLE canary; --"], []],
    [['-n', "public' OR '1'='1"], []],
    [['-c', '$1'], []],
);
for my $case (@pattern_cases) {
    my ($args, $want) = @$case;
    (my $label = "pattern @$args") =~ s/\n/\\n/g;
    my ($rc, $json, $err) = FkTest::fkscan_json('scan', '-j', '2', @$args, $db);
    is($rc, @$want ? 1 : 0, "$label: exit " . (@$want ? 1 : 0)) or diag($err);
    is_deeply([sort map { $_->{constraint} } @{ $json ? $json->{constraints} : [] }], [sort @$want],
              "$label: exactly the FKs it names");
    FkOracle::check($db, $json, $label) if $json && @$want;
}
{
    my ($rc, $out, $err) = FkTest::fkscan('scan', '--strict-names', '-c', "no\nsuch; DROP TABLE canary", $db);
    is($rc, 2, 'an unmatched hostile pattern with --strict-names: exit 2');
    is($err, "fkscan: error: no matching foreign keys found for pattern \"no\n\tsuch; DROP TABLE canary\"\n",
       'an unmatched hostile pattern: one error entry naming it, its newline continued');
}
is($canary->(), 1, 'patterns: the canary table is untouched');

# ---- 3. an error about a table whose name forges a log line ----
my $reader = 'fkscan_security_reader';
FkTest::psql('postgres', "DROP ROLE IF EXISTS $reader; CREATE ROLE $reader LOGIN");
FkTest::psql($db, "GRANT USAGE ON SCHEMA @{[$qi->($S3)]} TO $reader; "
             . "GRANT SELECT ON @{[rel($S3, 'user')]} TO $reader");
{
    my ($rc, $out, $err) = FkTest::as_role($reader, sub {
        FkTest::fkscan('scan', '-n', 'select', '-t', '*evil*', $db) });
    is($rc, 2, 'unreadable hostile table: exit 2');
    my @errors = grep { /^fkscan: error: / } split /\n/, $err;
    is(scalar @errors, 1, 'unreadable hostile table: one error entry') or diag($err);
    like($errors[0] // '', qr/permission denied for table evil$/, 'unreadable hostile table: it names the table');
    unlike($err, qr/^fkscan: error: forged/m, 'the table name cannot forge an error line');
    my @stray = grep { !/^(fkscan: |DETAIL:  |HINT:  |\t)/ } split /\n/, $err;
    is(scalar @stray, 0, 'unreadable hostile table: no stray lines') or diag($err);
}
FkTest::psql($db, "REVOKE ALL ON @{[rel($S3, 'user')]} FROM $reader; "
             . "REVOKE ALL ON SCHEMA @{[$qi->($S3)]} FROM $reader");
FkTest::psql('postgres', "DROP ROLE $reader");

# ---- 4. passwords are never printed ----
# -W reads the password from the terminal, or from stdin when there is none:
# run in a new session, without a controlling terminal, so that it is stdin.

{
    my $role = 'fkscan_security_pw';
    my $right = 'Rt-Pw-9q7z';
    my $wrong = 'Wr-Pw-3k8x';
    FkTest::psql('postgres', "DROP ROLE IF EXISTS $role; CREATE ROLE $role LOGIN PASSWORD '$right'");
    FkTest::psql($db, "GRANT USAGE ON SCHEMA public TO $role; GRANT SELECT ON ALL TABLES IN SCHEMA public TO $role");
    local $ENV{PGPASSFILE} = '/nonexistent/pgpass';
    delete local $ENV{PGPASSWORD};
    my $tcp = "host=127.0.0.1 port=$ENV{PGPORT} user=$role dbname=$db";
    my @runs = (
        ['conninfo, wrong', $wrong, 2, {}, ['scan', '-v', '-v', '-t', '"pc\"', "$tcp password=$wrong"]],
        ['conninfo, right', $right, 1, {}, ['scan', '-v', '-v', '-t', '"pc\"', "$tcp password=$right"]],
        ['URI, wrong', $wrong, 2, {},
         ['scan', '-v', '-v', "postgresql://$role:$wrong\@127.0.0.1:$ENV{PGPORT}/$db"]],
        ['URI, right', $right, 1, {},
         ['scan', '-v', '-v', '-t', '"pc\"', "postgresql://$role:$right\@127.0.0.1:$ENV{PGPORT}/$db"]],
        ['PGPASSWORD, wrong', $wrong, 2, { PGPASSWORD => $wrong }, ['audit', '-v', '-v', $tcp]],
        ['PGPASSWORD, right', $right, 1, { PGPASSWORD => $right }, ['scan', '-v', '-v', '-t', '"pc\"', $tcp]],
        ['-W, wrong', $wrong, 2, {}, ['scan', '-v', '-v', '-W', $tcp], "$wrong\n"],
        ['-W, right', $right, 1, {}, ['scan', '-v', '-v', '-W', '-t', '"pc\"', $tcp], "$right\n"],
    );
    for my $run (@runs) {
        my ($label, $pw, $want_rc, $env, $args, $stdin) = @$run;
        local @ENV{ keys %$env } = values %$env;
        my ($rc, $out, $err) = FkTest::run_command([$ENV{FKSCAN}, @$args], $stdin, setsid => 1);
        is($rc, $want_rc, "password, $label: exit $want_rc") or diag($err);
        like($err, qr/password authentication failed for user "$role"/, "password, $label: says so")
            if $want_rc == 2;
        like($err, qr/^fkscan: debug: /m, "password, $label: debug output is on") if $want_rc == 1;
        unlike($out, qr/\Q$pw\E/, "password, $label: not on stdout");
        unlike($err, qr/\Q$pw\E/, "password, $label: not on stderr");
        unlike($err . $out, qr/password=/, "password, $label: no conninfo echoed");
    }
    FkTest::psql($db, "REVOKE ALL ON ALL TABLES IN SCHEMA public FROM $role; REVOKE ALL ON SCHEMA public FROM $role");
    FkTest::psql('postgres', "DROP ROLE $role");
}

# ---- 5. read-only sessions ----
my $log = "$ENV{FKSCAN_PG_DIR}/server.log";
# Every statement fkscan's sessions logged (log_statement = all through
# PGOPTIONS: theirs only) while it ran, from the server log.  Each backend
# writes its log line before it runs the statement, so once fkscan has
# exited everything it sent is in the log.
sub logged_statements {
    my (@args) = @_;
    my $start = -s $log;
    my ($rc, $json, $err);
    {
        local $ENV{PGOPTIONS} = '-c log_statement=all';
        ($rc, $json, $err) = FkTest::fkscan_json('scan', @args, $db);
    }
    open(my $fh, '<:raw', $log) or die "$log: $!";
    seek($fh, $start, 0);
    my $text = do { local $/; <$fh> } // '';
    close $fh;
    # a record starts with the log_line_prefix ('%m [%p] %q%u@%d '); the
    # lines that follow until the next one are its continuation
    my @records;
    for my $line (split /\n/, $text) {
        if ($line =~ /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \S+ \[(\d+)\] (.*)$/) {
            my ($pid, $rest) = ($1, $2);
            my ($user, $dbname, $level, $msg) = $rest =~ /^(\S*)@(\S*) (\w+):  (.*)$/;
            push @records, { pid => $pid, db => $dbname // '', level => $level // '', msg => $msg // $rest };
        }
        elsif (@records) {
            $records[-1]{msg} .= "\n$line";
        }
    }
    my @mine = grep { $_->{db} eq $db } @records;
    my @stmts = map { $_->{msg} =~ /^(?:statement|execute [^:]*): (.*)\z/s ? [$_->{pid}, $1] : () }
        grep { $_->{level} eq 'LOG' } @mine;
    my @errors = grep { $_->{level} =~ /^(ERROR|FATAL|PANIC)$/ } @mine;
    return ($rc, $json, $err, \@stmts, \@errors);
}

SKIP: {
    skip('no server log to read (FKSCAN_PG_DIR)', 1) unless $ENV{FKSCAN_PG_DIR} && -r $log;

    # What a read-only scan may send, after its comments are stripped.
    my @allowed = (
        qr/^BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY$/,
        qr/^(COMMIT|ROLLBACK)$/,
        qr/^(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT) fkscan_fk$/,
        qr/^SET TRANSACTION SNAPSHOT '[0-9A-F-]+'$/,
        qr/^(SELECT|WITH)\b/,
        qr/^COPY \(SELECT .*\) TO STDOUT( \(FORMAT binary\))?$/s,
        qr/^LOCK TABLE .* IN ACCESS SHARE MODE$/s,
        qr/^DECLARE \w+ NO SCROLL CURSOR FOR SELECT /,
        qr/^(FETCH FORWARD \d+ FROM|CLOSE) \w+$/,
    );
    my $writes = qr/^(INSERT|UPDATE|DELETE|MERGE|CREATE|ALTER|DROP|TRUNCATE|GRANT|REVOKE|COMMENT|
                      SECURITY|VACUUM|ANALYZE|CLUSTER|REINDEX|REFRESH|CALL|DO|IMPORT|COPY\s+\S+\s+FROM|
                      SET\s+(SESSION\s+)?ROLE|SET\s+SESSION\s+AUTHORIZATION|START|PREPARE|EXECUTE)\b/xi;

    for my $args (['-j', '2', '--compare', 'server'], ['-j', '2', '--fetch', 'cursor', '--chunk-size', '8kB'],
                  ['-j', '1', '--fetch', 'text']) {
        my $label = "read-only (scan @$args)";
        my ($rc, $json, $err, $stmts, $errors) = logged_statements(@$args);
        is($rc, 1, "$label: exit 1") or diag($err);
        FkOracle::check($db, $json, $label) if $json;
        cmp_ok(scalar @$stmts, '>', 10, "$label: its statements are in the server log");
        my %pids = map { $_->[0] => 1 } @$stmts;
        cmp_ok(scalar keys %pids, '>=', 3, "$label: from its control, coordinator and worker sessions");
        my (@begins, @bad, @write);
        for my $s (@$stmts) {
            (my $text = $s->[1]) =~ s{--[^\n]*\n}{}g;     # the catalog SQL's comments
            $text =~ s/^\s+|\s+$//g;
            push @begins, $text if $text =~ /^(BEGIN|START)/i;
            push @write, $text if $text =~ $writes;
            push @bad, $text unless grep { $text =~ $_ } @allowed;
        }
        cmp_ok(scalar @begins, '>=', 2, "$label: it began transactions (coordinator and workers)");
        is(scalar(grep { !/\bREAD ONLY\b/ } @begins), 0, "$label: every transaction it began was READ ONLY")
            or diag(join("\n", @begins));
        is(scalar @write, 0, "$label: no statement that writes") or diag(join("\n---\n", @write));
        is(scalar @bad, 0, "$label: every statement is one a read-only scan needs")
            or diag(join("\n---\n", @bad));
        is(scalar @$errors, 0, "$label: no statement failed on the server")
            or diag(join("\n", map { $_->{msg} } @$errors));
    }
}

# And the server agrees: with every transaction read-only by default, the
# scan is the same.
{
    local $ENV{PGOPTIONS} = '-c default_transaction_read_only=on';
    scan_ok('default_transaction_read_only = on', '-j', '2', '--compare', 'server');
}
is($canary->(), 1, 'the canary table is untouched at the end');

done_testing();
