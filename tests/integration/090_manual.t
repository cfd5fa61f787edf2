# The manual, fkscan(1) (src/man/fkscan.1): every option of "fkscan --help"
# and of each "fkscan COMMAND --help" is in it, every option it describes
# exists, it renders without warnings, and "make install" (cmake --install)
# puts it in share/man/man1.
use strict;
use warnings;
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use Test::More;
use FkTest;

my $man = FkTest::source_dir() . '/src/man/fkscan.1';
my $src = FkTest::slurp($man);

# Options as --help shows them: "  -j, --jobs=NUM  ...", "      --fetch=..."
# and "  -P, --progress, --no-progress  ...".
my %help;
for my $cmd ([], ['audit'], ['scan'], ['fix'], ['validate']) {
    my ($rc, $out) = FkTest::fkscan(@$cmd, '--help');
    is($rc, 0, "fkscan @$cmd --help: exit 0");
    for my $line (split /\n/, $out) {
        next unless $line =~ /^\s+(-[^\s,=]+)(?:, (--[\w-]+))?(?:, (--[\w-]+))?/;
        $help{$_} = 1 for grep { defined } $1, $2, $3;
    }
}
cmp_ok(scalar keys %help, '>', 50, 'options found in --help');

# Options the manual describes: the tags of its .TP paragraphs.
my %manual;
my @lines = split /\n/, $src;
for my $i (0 .. $#lines - 1) {
    next unless $lines[$i] eq '.TP';
    my $tag = $lines[$i + 1];
    $tag =~ s/\\-/-/g;
    $tag =~ s/\\f[BIRP]//g;
    $tag =~ s/^\.\w+\s*//;
    $tag =~ s/"//g;
    $manual{$1} = 1 while $tag =~ /(?:^|[\s,])(--?[a-zA-Z?][\w-]*)/g;
}
for my $opt (sort keys %help) {
    ok($manual{$opt}, "the manual describes $opt");
}
for my $opt (sort keys %manual) {
    ok($help{$opt}, "$opt of the manual is in some --help");
}
# every command of the main --help has its section
my ($rc, $main) = FkTest::fkscan('--help');
for my $cmd ($main =~ /^  (\w+)\s{2,}/mg) {
    like($src, qr/^\.B fkscan $cmd$/m, "the manual's synopsis has fkscan $cmd");
}
# the exit codes, and what the manual must cover
like($src, qr/^\.SH EXIT STATUS$/m, 'an EXIT STATUS section');
for my $code (0, 1, 2) {
    like($src, qr/^\.TP\n\.B $code\n/m, "exit status $code");
}
for my $section ('CONSISTENCY', 'PRIVILEGES', 'JSON REPORT', 'LONG SWEEPS') {
    like($src, qr/^\.SH $section$/m, "a $section section");
}
# the JSON fields the DESIGN contract names are in it
for my $field (qw(status child_rows null_rows partial_null_rows orphan_rows orphan_keys sample
                  elapsed_s totals incomplete rows_per_s bytes_per_s resumed snapshot)) {
    like($src, qr/\.BR? $field\b/, "JSON field $field");
}

# It renders without a warning, where groff is installed.
SKIP: {
    my $groff = (grep { -x "$_/groff" } split /:/, $ENV{PATH})[0];
    skip('groff is not installed', 2) unless $groff;
    my ($grc, $gout, $gerr) = FkTest::run_command(['groff', '-man', '-Tutf8', '-ww', '-z', $man]);
    is($grc, 0, 'groff -man: exit 0');
    is($gerr, '', 'groff -man -ww: no warnings');
}

# cmake --install (what "make install" runs) installs it.
SKIP: {
    my $build = dirname($ENV{FKSCAN});
    skip('no CMake build directory', 2) unless -e "$build/cmake_install.cmake";
    my $prefix = tempdir(CLEANUP => 1);
    my ($irc, $iout, $ierr) = FkTest::run_command(['cmake', '--install', $build, '--prefix', $prefix]);
    is($irc, 0, 'cmake --install: exit 0') or diag($ierr);
    ok(-f "$prefix/share/man/man1/fkscan.1", 'installed as share/man/man1/fkscan.1');
}

done_testing();
