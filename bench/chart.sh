#!/usr/bin/env bash
# chart.sh: an SVG bar chart from a run.sh CSV, written by hand (perl, no
# plotting library).
#
#   bench/chart.sh RESULTS.csv > RESULTS.svg
#
# One group per shape, one bar per method / -j / fetch: child rows per second
# of wall time (median of the timed runs; the parent's time is included), with
# a thin line from the slowest to the fastest run and the median seconds
# written at the end of the bar.
set -euo pipefail
[ $# = 1 ] || { echo "usage: chart.sh RESULTS.csv > RESULTS.svg" >&2; exit 2; }
exec perl - "$1" <<'PERL'
use strict;
use warnings;

my $file = shift;
open(my $fh, '<', $file) or die "chart.sh: $file: $!\n";
my $hdr = <$fh>;
chomp $hdr;
my @cols = split /,/, $hdr;
my (%g, @order, %seen, @shapes, $scale);
while (my $line = <$fh>) {
    chomp $line;
    my %r;
    @r{@cols} = split /,/, $line, -1;
    next if $r{run} <= 0 || $r{seconds} eq '' || $r{seconds} <= 0;
    $scale //= $r{scale};
    my $k = join '|', @r{qw(shape method jobs fetch)};
    push @order, $k unless $g{$k};
    push @{ $g{$k} }, \%r;
    push @shapes, $r{shape} unless $seen{ $r{shape} }++;
}
die "chart.sh: no timed runs in $file\n" unless @order;

sub median {
    my @v = sort { $a <=> $b } @_;
    return @v % 2 ? $v[$#v / 2] : ($v[@v / 2 - 1] + $v[@v / 2]) / 2;
}
sub esc { my $s = shift; $s =~ s/&/&amp;/g; $s =~ s/</&lt;/g; $s =~ s/>/&gt;/g; return $s; }

my %rank = (fkscan => 0, copy => 1, notexists => 2, leftjoin => 3, validate => 4, add_fk => 4);
my %frank = (binary => 0, text => 1, cursor => 2);
my %color = (
    'fkscan binary' => '#1f5fa8', 'fkscan text' => '#4f8fd0', 'fkscan cursor' => '#9cc3ea',
    copy => '#7f7f7f', notexists => '#e08a1e', leftjoin => '#f2bb6b',
    validate => '#c0392b', add_fk => '#c0392b');
my %label = (copy => 'raw COPY (bench_copy)', notexists => 'server NOT EXISTS',
    leftjoin => 'server LEFT JOIN', validate => 'VALIDATE CONSTRAINT', add_fk => 'ADD FOREIGN KEY');

my (@bars, $max);
for my $shape (@shapes) {
    my @keys = sort {
        my @a = split /\|/, $a, -1; my @b = split /\|/, $b, -1;
        ($rank{ $a[1] } // 9) <=> ($rank{ $b[1] } // 9)
            || ($a[2] || 0) <=> ($b[2] || 0)
            || ($frank{ $a[3] } // 9) <=> ($frank{ $b[3] } // 9)
    } grep { (split /\|/)[0] eq $shape } @order;
    push @bars, { title => $shape };
    for my $k (@keys) {
        my (undef, $m, $j, $f) = split /\|/, $k, -1;
        my @s = map { $_->{seconds} } @{ $g{$k} };
        my $rows = median(map { $_->{rows} || 0 } @{ $g{$k} });
        next unless $rows > 0;
        my ($med, $lo, $hi) = (median(@s), (sort { $a <=> $b } @s)[0, -1]);
        my $name = $m eq 'fkscan' ? "fkscan -j$j --fetch $f"
                 : $m eq 'copy' ? "$label{copy} -j$j" : ($label{$m} // $m);
        my $b = { name => $name, rate => $rows / $med, fast => $rows / $lo,
                  slow => $rows / $hi, secs => $med, n => scalar @s,
                  color => $color{ $m eq 'fkscan' ? "fkscan $f" : $m } // '#555' };
        $max = $b->{fast} if !defined $max || $b->{fast} > $max;
        push @bars, $b;
    }
}
$max ||= 1;
# a round axis end: 1, 2 or 5 times a power of ten, in M rows/s
my $mmax = $max / 1e6;
my $p = 10 ** int(log($mmax) / log(10) - ($mmax < 1 ? 1 : 0));
my ($axis) = grep { $_ >= $mmax } map { $_ * $p } (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10, 15, 20, 50);
my ($left, $width, $bh, $gap, $top) = (230, 520, 16, 6, 50);
my $y = $top;
my @out;
for my $b (@bars) {
    if ($b->{title}) {
        $y += 8;
        push @out, sprintf('<text x="10" y="%d" class="h">%s</text>', $y + 12, esc("shape $b->{title}"));
        $y += 20;
        next;
    }
    my $w = $b->{rate} / 1e6 / $axis * $width;
    my ($x0, $x1) = map { $left + $_ / 1e6 / $axis * $width } ($b->{slow}, $b->{fast});
    push @out, sprintf('<text x="%d" y="%d" class="l">%s</text>', $left - 6, $y + 12, esc($b->{name}));
    push @out, sprintf('<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>', $left, $y, $w, $bh, $b->{color});
    push @out, sprintf('<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" class="r"/>', $x0, $x1, $y + $bh / 2, $y + $bh / 2);
    push @out, sprintf('<text x="%.1f" y="%d" class="v">%.2f M/s  (%.3f s, n=%d)</text>',
        $left + ($w > $x1 - $left ? $w : $x1 - $left) + 6, $y + 12, $b->{rate} / 1e6, $b->{secs}, $b->{n});
    $y += $bh + $gap;
}
my $height = $y + 40;
my $total = $left + $width + 190;
print qq{<svg xmlns="http://www.w3.org/2000/svg" width="$total" height="$height" viewBox="0 0 $total $height" font-family="sans-serif" font-size="12">\n};
print qq{<style>.h{font-weight:bold;font-size:13px}.l{text-anchor:end}.v{fill:#222;font-size:11px}.r{stroke:#000;stroke-width:1}.g{stroke:#ddd}.t{font-size:11px;fill:#555;text-anchor:middle}</style>\n};
print qq{<rect width="100%" height="100%" fill="white"/>\n};
printf qq{<text x="10" y="20" font-size="15" font-weight="bold">fkscan vs server-side checks: child rows per second (median, scale %s)</text>\n}, esc($scale // '?');
print qq{<text x="10" y="38" fill="#555">bar: median of the timed runs; black line: slowest to fastest run; wall clock of the whole client (VALIDATE: the statement only)</text>\n};
for my $i (0 .. 5) {
    my $x = $left + $i / 5 * $width;
    printf qq{<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" class="g"/>\n}, $x, $x, $top, $y;
    printf qq{<text x="%.1f" y="%d" class="t">%s</text>\n}, $x, $y + 14, $axis * $i / 5;
}
printf qq{<text x="%.1f" y="%d" class="t">million child rows per second</text>\n}, $left + $width / 2, $y + 30;
print "$_\n" for @out;
print "</svg>\n";
PERL
