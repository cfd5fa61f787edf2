# fkscan validate: clean NOT VALID FKs get VALIDATE CONSTRAINT, clean FKs
# with disabled RI triggers get them enabled, dirty FKs are never touched
# (and a "VALID" one the scan found dirty is called out); the plan without
# --apply changes nothing; a lock held by another session makes validate
# wait at most --lock-timeout per attempt and exit 2 naming the table.
# Names are hostile.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time usleep);
use FkTest;

my $S = FkTest::quote_ident('V "s.$ch');
my $P = "$S." . FkTest::quote_ident("Par ent\xc3\xa9");
my $C1 = "$S." . FkTest::quote_ident('Not.Valid');
my $C2 = "$S." . FkTest::quote_ident('Trig Off');
my $C3 = "$S." . FkTest::quote_ident('Dirty');
my $C4 = "$S." . FkTest::quote_ident('Dirty NV');

my $db = FkTest::new_db('validate');
FkTest::psql($db, <<SQL);
CREATE SCHEMA $S;
CREATE TABLE $P ("I d" int PRIMARY KEY);
INSERT INTO $P SELECT g FROM generate_series(1, 100) g;
CREATE TABLE $C2 (id int, "p""id" int REFERENCES $P);
INSERT INTO $C2 SELECT g, g FROM generate_series(1, 50) g;
-- both sides of this FK stop firing (the parent's too: nothing else references it yet)
ALTER TABLE $C2 DISABLE TRIGGER ALL;
ALTER TABLE $P DISABLE TRIGGER ALL;
CREATE TABLE $C1 (id int, "p""id" int);
CREATE TABLE $C3 (id int, "p""id" int REFERENCES $P);
CREATE TABLE $C4 (id int, "p""id" int);
INSERT INTO $C1 SELECT g, g FROM generate_series(1, 100) g;
ALTER TABLE $C1 ADD CONSTRAINT "nv ""fk""" FOREIGN KEY ("p""id") REFERENCES $P NOT VALID;
INSERT INTO $C4 SELECT g, g + 90 FROM generate_series(1, 20) g;
ALTER TABLE $C4 ADD CONSTRAINT "dirty nv" FOREIGN KEY ("p""id") REFERENCES $P NOT VALID;
SET session_replication_role = replica;
INSERT INTO $C3 SELECT g, g + 95 FROM generate_series(1, 10) g;
SQL

sub catalog_state {
    return FkTest::psql($db, "SELECT k.conname, k.convalidated,
        (SELECT string_agg(t.tgenabled::text, '' ORDER BY t.tgname, t.tgrelid) FROM pg_trigger t WHERE t.tgconstraint = k.oid)
        FROM pg_constraint k WHERE k.contype = 'f' ORDER BY 1");
}
my $before = catalog_state();

# the plan: nothing changes
my ($rc, $out, $err) = FkTest::fkscan('validate', '-j', '2', $db);
is($rc, 1, 'plan: exit 1 (things to do, orphans remain)') or diag($err);
like($out, qr/^"nv ""fk""" on "V ""s\.\$ch"\."Not\.Valid": clean; would run:\n  LOCK TABLE "V ""s\.\$ch"\."Not\.Valid" IN SHARE UPDATE EXCLUSIVE MODE;\n  ALTER TABLE "V ""s\.\$ch"\."Not\.Valid" VALIDATE CONSTRAINT "nv ""fk""";$/m,
     'plan: the lock, then VALIDATE CONSTRAINT, every name quoted');
like($out, qr/ALTER TABLE "V ""s\.\$ch"\."Trig Off" ENABLE TRIGGER "RI_ConstraintTrigger_c_\d+";/,
     'plan: ENABLE TRIGGER on the child');
like($out, qr/ALTER TABLE "V ""s\.\$ch"\."Par ent\xc3\xa9" ENABLE TRIGGER "RI_ConstraintTrigger_a_\d+";/,
     'plan: ENABLE TRIGGER on the parent');
my $dirty = FkTest::psql($db, "SELECT count(*) FROM $C3 c WHERE NOT EXISTS (SELECT 1 FROM $P p WHERE p.\"I d\" = c.\"p\"\"id\")");
ok($dirty > 0, "the VALID FK has $dirty orphans");
like($out, qr/^"Dirty_p""id_fkey" on "V ""s\.\$ch"\."Dirty": the catalog claims VALID, but the data is not: $dirty orphan rows; not validated$/m,
     'a dirty VALID FK is called out, not claimed valid');
my $dirty_nv = FkTest::psql($db, "SELECT count(*) FROM $C4 c WHERE NOT EXISTS (SELECT 1 FROM $P p WHERE p.\"I d\" = c.\"p\"\"id\")");
like($out, qr/^"dirty nv" on "V ""s\.\$ch"\."Dirty NV": not validated: $dirty_nv orphan rows$/m,
     'a dirty NOT VALID FK is left alone');
is(catalog_state(), $before, 'the plan changed nothing');

# a lock held by another session: VALIDATE waits at most the timeout, twice
open(my $locker, '|-', 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $db) or die "psql: $!";
$locker->autoflush(1);
# SHARE lets the scan read (ACCESS SHARE) but blocks SHARE UPDATE EXCLUSIVE
print $locker "BEGIN; LOCK TABLE $C1 IN SHARE MODE;\n";
my $t0 = time;
until (FkTest::psql($db, FkTest::lock_held_sql($C1, 'ShareLock')) > 0) {
    die 'no lock' if time - $t0 > 30;
    usleep(50_000);
}
$t0 = time;
($rc, $out, $err) = FkTest::fkscan('validate', '--apply', '-c', '"nv ""fk"""', '--lock-timeout', '500ms',
                                   '--lock-retries', '1', $db);
my $took = time - $t0;
is($rc, 2, 'lock held: exit 2');
like($err, qr/could not lock table "V ""s\.\$ch"\."Not\.Valid" within --lock-timeout 500 ms \(2 attempts\)/,
     'the message names the table and the timeout');
like($err, qr/retrying in 250 ms \(attempt 2 of 2\)/, 'it retried once, with back-off');
ok($took < 10, sprintf('bounded: %.1f s', $took));
print $locker "ROLLBACK;\n";
close $locker;
is(catalog_state(), $before, 'nothing changed');

# apply, while another session holds a conflicting lock for 2 s more: the
# wait is reported apart
open($locker, '|-', 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $db) or die "psql: $!";
$locker->autoflush(1);
print $locker "BEGIN; LOCK TABLE $C1 IN SHARE MODE; SELECT pg_sleep(2); ROLLBACK;\n";
$t0 = time;
until (FkTest::psql($db, FkTest::lock_held_sql($C1, 'ShareLock')) > 0) {
    die 'no lock' if time - $t0 > 30;
    usleep(50_000);
}
($rc, $out, $err) = FkTest::fkscan('validate', '--apply', '-j', '2', '--lock-timeout', '20s', $db);
close $locker;
is($rc, 1, 'apply: exit 1 (the dirty FKs remain)') or diag($err);
like($out, qr/^"nv ""fk""" on "V ""s\.\$ch"\."Not\.Valid": clean; validated in [\d.]+ s \(lock wait [\d.]+ s\)$/m,
     'validated, timed, with its lock wait');
my ($total, $wait) = $out =~ /^"nv ""fk""" on .*: clean; validated in ([\d.]+) s \(lock wait ([\d.]+) s\)$/m;
ok(defined $wait && $wait > 0.5 && $wait <= $total, "the lock wait is the other session's: $wait s of $total s");
like($out, qr/^"Trig Off_p""id_fkey" on .*: clean; RI triggers enabled in [\d.]+ s/m, 'triggers enabled, timed');
my %state = map { my ($n, $v, $t) = split /\|/; ($n => [$v, $t]) } split /\n/, catalog_state();
is($state{'nv "fk"'}[0], 't', 'the NOT VALID FK is now validated');
is($state{'Trig Off_p"id_fkey'}[1], 'OOOO', 'every RI trigger of the FK fires again');
is($state{'Dirty_p"id_fkey'}[0], 't', 'the dirty VALID FK: catalog unchanged');
is($state{'dirty nv'}[0], 'f', 'the dirty NOT VALID FK stays NOT VALID');

# the enabled FK is enforced now
my ($prc) = FkTest::run_command(['psql', '-X', '-q', '-d', $db, '-c', "INSERT INTO $C2 VALUES (0, 999)"], '');
isnt($prc, 0, 'an orphan insert is now refused');

# once the dirty ones are repaired, validate has nothing left but to succeed
($rc, $out, $err) = FkTest::fkscan('fix', '--strategy', 'delete', '--apply', '--backup-dir',
                                   File::Temp::tempdir(CLEANUP => 1), $db);
is($rc, 0, 'fix --apply') or diag($err);
($rc, $out, $err) = FkTest::fkscan('validate', '--apply', $db);
is($rc, 0, 'validate after the repair: exit 0') or diag($out, $err);
like($out, qr/^"dirty nv" on .*: clean; validated/m, 'the repaired NOT VALID FK is validated');

done_testing();
