#!/usr/bin/env perl
# summary.pl: the summary table of a run.sh CSV (medians over runs >= 1).
#
#   perl bench/summary.pl RESULTS.csv
#
# One line per shape, method, -j and fetch:
#   n          timed runs (warm-up runs, run 0, and discarded noisy runs,
#              run < 0, are left out)
#   median_s   median wall seconds; min_s the fastest run
#   Mrows/s    child rows per second of the median (parent time included)
#   orphans    orphan rows the method reported ("-": it does not count them)
#   cli_cpu    user+sys CPU seconds of the client process (median)
#   rss_MB     its peak RSS (median)
#   srv_cpu    CPU seconds of every server process (backends, parallel
#              workers) during the run; oth_cpu: everything else on the
#              machine meanwhile (noise: other people's work)
#   /notex     median / the server's NOT EXISTS count median (<1: faster)
#   /copy      fkscan only: median / bench_copy's with the same connections
#   pair       fkscan only: the median of run r / bench_copy's run r (run.sh
#              times them one after the other: the same moment of the host)
#   best       fkscan only: fastest run / bench_copy's fastest
#   val/x      fkscan only: VALIDATE (or ADD FK) median / this median
use strict;
use warnings;

my $file = shift or die "usage: summary.pl RESULTS.csv\n";
open(my $fh, '<', $file) or die "summary.pl: $file: $!\n";
my $hdr = <$fh>;
chomp $hdr;
my @cols = split /,/, $hdr;
my (%groups, @order, %shape_seen, @shapes);
while (my $line = <$fh>) {
    chomp $line;
    my %r;
    @r{@cols} = split /,/, $line, -1;
    next if $r{run} <= 0;    # warm-up (0) and discarded noisy runs (< 0)
    my $key = join '|', @r{qw(shape method jobs fetch)};
    push @order, $key unless $groups{$key};
    push @{ $groups{$key} }, \%r;
    push @shapes, $r{shape} unless $shape_seen{ $r{shape} }++;
}
close $fh;

sub median {
    my @v = sort { $a <=> $b } grep { defined && $_ ne '' } @_;
    return undef unless @v;
    return @v % 2 ? $v[$#v / 2] : ($v[@v / 2 - 1] + $v[@v / 2]) / 2;
}
sub col { my ($key, $c) = @_; return map { $_->{$c} } @{ $groups{$key} }; }
sub med { my ($key, $c) = @_; return $groups{$key} ? median(col($key, $c)) : undef; }
sub by_run { my ($key) = @_; return map { $_->{run} => $_->{seconds} } @{ $groups{$key} || [] }; }
sub fmt { my ($f, $v) = @_; return defined $v ? sprintf($f, $v) : '-'; }

my %rank = (fkscan => 0, copy => 1, notexists => 2, leftjoin => 3, validate => 4, add_fk => 4);
my %frank = (binary => 0, text => 1, cursor => 2);
my $line = "%-9s %-9s %2s %-6s %2s %9s %9s %8s %8s %8s %7s %8s %8s %7s %6s %5s %5s %6s\n";
printf $line, qw(shape method -j fetch n median_s min_s Mrows/s orphans cli_cpu rss_MB srv_cpu
    oth_cpu /notex /copy pair best val/x);
for my $shape (@shapes) {
    my @keys = sort {
        my @a = split /\|/, $a, -1; my @b = split /\|/, $b, -1;
        ($rank{ $a[1] } // 9) <=> ($rank{ $b[1] } // 9)
            || ($a[2] || 0) <=> ($b[2] || 0)
            || ($frank{ $a[3] } // 9) <=> ($frank{ $b[3] } // 9)
    } grep { (split /\|/)[0] eq $shape } @order;
    my ($notex) = grep { (split /\|/)[1] eq 'notexists' } @keys;
    my ($valid) = grep { (split /\|/)[1] =~ /^(validate|add_fk)$/ } @keys;
    my $notex_s = $notex ? med($notex, 'seconds') : undef;
    my $valid_s = $valid ? med($valid, 'seconds') : undef;
    for my $key (@keys) {
        my (undef, $method, $jobs, $fetch) = split /\|/, $key, -1;
        my $s = med($key, 'seconds');
        my @secs = sort { $a <=> $b } col($key, 'seconds');
        my $rows = med($key, 'rows');
        my %o = map { $_ => 1 } grep { $_ ne '' } col($key, 'orphans');
        my $orph = %o ? join('|', sort keys %o) : '-';
        my $rss = med($key, 'client_rss_kb');
        my ($r_notex, $r_copy, $r_pair, $r_best, $r_val);
        $r_notex = $s / $notex_s if defined $notex_s && $notex_s > 0 && $key ne $notex;
        if ($method eq 'fkscan') {
            my $copy = "$shape|copy|$jobs|";
            my $copy_s = med($copy, 'seconds');
            $r_copy = $s / $copy_s if defined $copy_s && $copy_s > 0;
            my %f = by_run($key);
            my %c = by_run($copy);
            $r_pair = median(map { $f{$_} / $c{$_} } grep { $c{$_} } keys %f);
            my ($copy_min) = sort { $a <=> $b } values %c;
            $r_best = $secs[0] / $copy_min if $copy_min;
            $r_val = $valid_s / $s if defined $valid_s && $s > 0;
        }
        printf $line, $shape, $method, $jobs eq '' ? '-' : $jobs, $fetch eq '' ? '-' : $fetch,
            scalar @secs, $s, $secs[0],
            fmt('%.2f', ($rows && $s > 0) ? $rows / $s / 1e6 : undef), $orph,
            fmt('%.2f', med($key, 'client_cpu_s')),
            fmt('%.1f', defined $rss ? $rss / 1024 : undef),
            fmt('%.2f', med($key, 'server_cpu_s')), fmt('%.2f', med($key, 'other_cpu_s')),
            fmt('%.2f', $r_notex), fmt('%.2f', $r_copy), fmt('%.2f', $r_pair),
            fmt('%.2f', $r_best), fmt('%.2f', $r_val);
    }
}
