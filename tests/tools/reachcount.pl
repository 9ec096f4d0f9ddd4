#!/usr/bin/perl
# SPDX-License-Identifier: MIT
# Helper of tests/cli/stage2_closes.sh: the reachable address pairs of a policy
# counted another way than report/reach.c counts them (docs/demo.md). From the
# inventory's CSV files and the prefixes written in the policy file, without
# the policy's terms, it cuts the city's IPv4 addresses (segments and VPN
# pools, the gateways' own left out) into cells: each host of hosts.csv
# grouped by zone, site type and labels (district label aside), the rest of a
# segment by zone and site type (and the site, where the policy has site
# exceptions), VPN pools at every prefix the policy file writes. For each pair
# of cells and each relation of the ends (same site in two segments, same
# district at two sites, elsewhere) it weighs the ordered address pairs
# exactly and asks `segplan policy query --batch` about one random pair of
# addresses drawn for it. Where the cells are finer than what the policy can
# tell apart, the sum is exact; report/reach.c must give the same numbers.
#
#   reachcount.pl SEGPLAN INVENTORY POLICY TIME SEED MGMT PROBES INTERNET
#
# MGMT: the management zones, comma-separated (their sources are left out);
# PROBES: name:proto:port,...; INTERNET: the address standing for the
# internet. Prints JSON: {"pairs": N, "cells": N, "strata": N, "probes":
# {name: {"inside": N, "to_internet": N}}}.
use strict;
use warnings;
use JSON::PP;
use IPC::Open2;

my ($segplan, $inv, $policy, $time, $seed, $mgmt, $probes, $inet) = @ARGV;
die "usage: reachcount.pl SEGPLAN INVENTORY POLICY TIME SEED MGMT PROBES INTERNET\n"
    unless defined $inet;
srand($seed);
my %mgmt = map { $_ => 1 } split /,/, $mgmt;
my @probes = map { [split /:/] } split /,/, $probes;

sub ip2n { my @o = split /\./, shift; return (($o[0] * 256 + $o[1]) * 256 + $o[2]) * 256 + $o[3]; }
sub n2ip { my $n = shift; return join '.', ($n >> 24) & 255, ($n >> 16) & 255, ($n >> 8) & 255, $n & 255; }

# RFC 4180 fields of one line (quoted fields may hold commas and doubled quotes).
sub csv_split {
	my ($line) = @_;
	my @f;
	while (length $line) {
		if ($line =~ s/^"((?:[^"]|"")*)"(,|$)//) {
			(my $v = $1) =~ s/""/"/g;
			push @f, $v;
		} else {
			$line =~ s/^([^,]*)(,|$)//;
			push @f, $1;
		}
	}
	return @f;
}

sub csv_rows {
	my ($file) = @_;
	open my $fh, '<', $file or die "$file: $!\n";
	my $head = <$fh>;
	$head =~ s/\r?\n$//;
	my @cols = csv_split($head);
	my @rows;
	while (my $line = <$fh>) {
		$line =~ s/\r?\n$//;
		my @f = csv_split($line);
		my %r;
		@r{@cols} = @f;
		push @rows, \%r;
	}
	return @rows;
}

my (%site_type, %site_district);
for my $r (csv_rows("$inv/sites.csv")) {
	$site_type{$r->{id}} = $r->{type};
	$site_district{$r->{id}} = $r->{district};
}
my %gw;
if (-f "$inv/interfaces.csv") {
	for my $r (csv_rows("$inv/interfaces.csv")) {
		next unless $r->{ipv4};
		my ($a) = split m{/}, $r->{ipv4};
		$gw{ip2n($a)} = 1;
	}
}
my %host;    # address -> its cell key part
if (-f "$inv/hosts.csv") {
	for my $r (csv_rows("$inv/hosts.csv")) {
		next unless $r->{site};
		my $labels = join ' ', sort grep { !/^district=/ } split / /, $r->{labels};
		for my $a (grep { /\./ } split / /, $r->{addresses}) {
			$a =~ s{/32$}{};
			$host{ip2n($a)} = $labels;
		}
	}
}
# What the policy file writes itself: its IPv4 prefixes and its sites with exceptions.
open my $pf, '<', $policy or die "$policy: $!\n";
my ($text, @cuts, %exc) = (do { local $/; <$pf> });
while ($text =~ m{(\d+\.\d+\.\d+\.\d+)(?:/(\d+))?}g) {
	my $lo = ip2n($1);
	my $len = $2 // 32;
	push @cuts, [$lo, $lo + 2**(32 - $len) - 1];
}
$exc{$1} = 1 while $text =~ /^  (S\d+|DC\d+):\s*$/mg;

# The cells: per cell, its addresses by unit, and its counts per site and district.
my (%cell, @units);
sub add {
	my ($key, $unit, $site, $lo, $hi, $skip) = @_;
	my $c = $cell{$key} //= {key => $key, n => 0, pool => 0, unit => {}, site => {}, dist => {}};
	my $n = $hi - $lo + 1 - scalar grep { $_ >= $lo && $_ <= $hi } @$skip;
	return if $n <= 0;
	push @{$c->{ranges}{$unit}}, [$lo, $hi, $skip];
	push @{$c->{units_at}{$site}}, $unit unless $c->{unit}{$unit};
	$c->{n} += $n;
	$c->{unit}{$unit} += $n;
	if ($site eq '') {
		$c->{pool} += $n;
	} else {
		$c->{site}{$site} += $n;
		$c->{dist}{$site_district{$site}} += $n;
	}
}
my @special = sort { $a <=> $b } keys %{{%gw, %host}};
# The gateways' and hosts' addresses in [lo, hi] (binary search in @special).
sub special_in {
	my ($lo, $hi) = @_;
	my ($i, $j) = (0, scalar @special);
	while ($i < $j) {
		my $m = int(($i + $j) / 2);
		if ($special[$m] < $lo) { $i = $m + 1 } else { $j = $m }
	}
	my @in;
	push @in, $special[$i++] while $i < @special && $special[$i] <= $hi;
	return @in;
}
for my $r (csv_rows("$inv/segments.csv")) {
	next unless $r->{ipv4};
	my ($net, $len) = split m{/}, $r->{ipv4};
	my ($lo, $hi) = (ip2n($net), ip2n($net) + 2**(32 - $len) - 1);
	my $site = $r->{site};
	my $unit = scalar @units;
	push @units, {site => $site, zone => $r->{zone}};
	my $where = "$r->{zone}:$site_type{$site}" . ($exc{$site} ? ":$site" : '');
	my @in = special_in($lo, $hi);
	for my $h (grep { $host{$_} && !$gw{$_} } @in) {
		add("host:$where:$host{$h}", $unit, $site, $h, $h, []);
	}
	add("zone:$where", $unit, $site, $lo, $hi, \@in);
}
for my $r (csv_rows("$inv/addressplan.csv")) {
	next unless $r->{zone} =~ /^vpn-/ && $r->{prefix} =~ /\./;
	my ($net, $len) = split m{/}, $r->{prefix};
	my ($lo, $hi) = (ip2n($net), ip2n($net) + 2**(32 - $len) - 1);
	my $unit = scalar @units;
	push @units, {site => '', zone => $r->{zone}};
	# cut at every boundary of a prefix of the policy file
	my %b = ($lo => 1);
	for my $c (@cuts) {
		$b{$c->[0]} = 1 if $c->[0] > $lo && $c->[0] <= $hi;
		$b{$c->[1] + 1} = 1 if $c->[1] + 1 > $lo && $c->[1] + 1 <= $hi;
	}
	my @b = sort { $a <=> $b } keys %b;
	for my $i (0 .. $#b) {
		my ($s, $e) = ($b[$i], $i < $#b ? $b[$i + 1] - 1 : $hi);
		my $in = join ',', map { "$_->[0]-$_->[1]" } grep { $_->[0] <= $s && $e <= $_->[1] } @cuts;
		add("pool:$r->{zone}:$in", $unit, '', $s, $e, [grep { $gw{$_} } special_in($s, $e)]);
	}
}
my @cells = map { $cell{$_} } sort keys %cell;
sub zone_of { my ($c) = @_; return (split /:/, $c->{key})[1]; }

# A random address of cell c in unit u.
sub draw {
	my ($c, $u) = @_;
	my @r = @{$c->{ranges}{$u}};
	for (;;) {
		my $r = $r[int rand @r];
		my $a = $r->[0] + int(rand($r->[1] - $r->[0] + 1));
		return $a unless grep { $_ == $a } @{$r->[2]};
	}
}
sub units_at { my ($c, $site) = @_; return @{$c->{units_at}{$site} // []}; }

# The strata: weight and one random pair of addresses.
my (@strata, $pairs);
for my $x (@cells) {
	next if $mgmt{zone_of($x)};
	for my $y (@cells) {
		next if $x->{pool} == $x->{n} && $y->{pool} == $y->{n};
		my ($ss, $su, $sd, $dd) = (0, 0, 0, 0);
		$ss += $x->{site}{$_} * ($y->{site}{$_} // 0) for keys %{$x->{site}};
		$su += $x->{unit}{$_} * ($y->{unit}{$_} // 0) for keys %{$x->{unit}};
		$dd += $x->{dist}{$_} * ($y->{dist}{$_} // 0) for keys %{$x->{dist}};
		my %w = (site => $ss - $su, district => $dd - $ss,
			elsewhere => $x->{n} * $y->{n} - $dd - $x->{pool} * $y->{pool});
		for my $rel (grep { $w{$_} > 0 } sort keys %w) {
			my @cand;
			if ($rel eq 'site') {
				for my $s (keys %{$x->{site}}) {
					next unless $y->{site}{$s};
					for my $u (units_at($x, $s)) {
						push @cand, [$u, $_] for grep { $_ != $u } units_at($y, $s);
					}
				}
			} else {
				# random units first; every pair of units only when those miss
				my @xu = keys %{$x->{unit}};
				my @yu = keys %{$y->{unit}};
				my $fits = sub {
					my ($u, $v) = @_;
					my ($su, $sv) = ($units[$u]{site}, $units[$v]{site});
					return 0 if $su eq '' && $sv eq '';
					my $same = $su ne '' && $sv ne '' && $site_district{$su} eq $site_district{$sv};
					return $rel eq 'district' ? $same && $su ne $sv : !$same;
				};
				for (1 .. 200) {
					my ($u, $v) = ($xu[int rand @xu], $yu[int rand @yu]);
					if ($fits->($u, $v)) { @cand = ([$u, $v]); last }
				}
				if (!@cand) {
					for my $u (@xu) {
						$fits->($u, $_) and push @cand, [$u, $_] for @yu;
					}
				}
			}
			die "no pair for $x->{key} -> $y->{key} ($rel)\n" unless @cand;
			my ($u, $v) = @{$cand[int rand @cand]};
			push @strata, [$w{$rel}, n2ip(draw($x, $u)), n2ip(draw($y, $v))];
			$pairs += $w{$rel};
		}
	}
}
# To the internet: every cell at a site, outside the management networks.
my @out = map { [$_->{n} - $_->{pool}, n2ip(draw($_, (grep { $units[$_]{site} ne '' } keys %{$_->{unit}})[0])), $inet] }
    grep { !$mgmt{zone_of($_)} && $_->{n} > $_->{pool} } @cells;

my @cmd = ($segplan, 'policy', 'query', $inv, '--batch', '--time', $time);
push @cmd, '--policy', $policy;
my $pid = open2(my $out, my $in, @cmd);
my @all = (@strata, @out);
my @answers;
if (my $kid = fork) {
	close $in;
	# the connection's own "passes" comes before the gateways' (docs/policy.md, --json)
	while (my $l = <$out>) {
		$l =~ /"passes":(true|false)/ or die "no verdict in: $l";
		push @answers, $1 eq 'true' ? 1 : 0;
	}
	waitpid $kid, 0;
} else {
	close $out;
	for my $p (@probes) {
		my $proto = $p->[1] == 6 ? 'tcp' : 'udp';
		print $in "$_->[1] $_->[2] $proto $p->[2]\n" for @all;
	}
	close $in;
	exit 0;
}
waitpid $pid, 0;
die "segplan policy query --batch failed\n" if $? != 0 || @answers != @all * @probes;

my %res;
for my $k (0 .. $#probes) {
	my ($inside, $inet_n) = (0, 0);
	for my $i (0 .. $#all) {
		next unless $answers[$k * @all + $i];
		if ($i < @strata) { $inside += $all[$i][0] } else { $inet_n += $all[$i][0] }
	}
	$res{$probes[$k][0]} = {inside => $inside, to_internet => $inet_n};
}
print JSON::PP->new->canonical->encode(
	{pairs => $pairs, cells => scalar @cells, strata => scalar @strata, probes => \%res}), "\n";
