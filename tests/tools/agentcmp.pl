#!/usr/bin/perl
# SPDX-License-Identifier: MIT
# Helper of the kernel tests (docs/testing.md): the third opinion. The gateway
# namespace's inbound packets were captured while the tuples were sent, and
# segplan-agent read that capture with the gateway's policy table
# (--flows-out). For every tuple this finds the agent's flow (initiator,
# responder, protocol, destination port or ICMP type) and compares its
# verdict and deciding rule with what `segplan policy query` said for the
# gateway (polprobe.pl query).
#
#   agentcmp.pl TUPLES VERDICTS FLOWS.jsonl
#
# Prints "AGENT-MISMATCH ..." per disagreement, "AGENT-MISSING ..." per tuple
# the agent has no flow for although a packet of it reached the gateway
# (every tuple does: the sender's first packet arrives whatever the verdict),
# then "AGENT passed failed missing". Exits 0 when every tuple was compared.
use strict;
use warnings;
use JSON::PP;
use Socket qw(inet_pton inet_ntop AF_INET6);

my ($tuples_path, $verdicts_path, $flows_path) = @ARGV;
die "usage: agentcmp.pl TUPLES VERDICTS FLOWS.jsonl\n" if !$flows_path;

my %PROTO = (tcp => 6, udp => 17, icmp => 1, icmpv6 => 58);

# One spelling per address: IPv6 in RFC 5952 form, as the agent writes it.
sub canon {
	my ($a) = @_;
	return $a if $a !~ /:/;
	return inet_ntop(AF_INET6, inet_pton(AF_INET6, $a));
}

sub rows {
	my ($path, @cols) = @_;
	open(my $fh, '<', $path) or die "$path: $!\n";
	my @out;
	while (my $line = <$fh>) {
		chomp $line;
		next if $line eq '';
		my %r;
		@r{@cols} = split /\t/, $line, -1;
		push @out, \%r;
	}
	return @out;
}

my @tuples = rows($tuples_path, qw(id fam proto arg src dst srcns dstns target side));
my %verdict = map { $_->{id} => $_ } rows($verdicts_path, qw(id verdict passes rule by overall at));

# The code polprobe.pl send gives an ICMP error it makes up (host or address
# unreachable): the kernel's own errors between the same two hosts (port or
# protocol unreachable, answering other tuples) have other codes.
my %ERROR_CODE = (1 => {3 => 1, 11 => 0, 12 => 0}, 58 => {1 => 3, 2 => 0, 3 => 0, 4 => 0});

my %flow;
open(my $ff, '<', $flows_path) or die "$flows_path: $!\n";
while (my $line = <$ff>) {
	my $f = decode_json($line);
	my $arg = defined $f->{dst_port} ? $f->{dst_port} : defined $f->{icmp_type} ? $f->{icmp_type} : '-';
	my $code = $ERROR_CODE{$f->{proto}} && defined $f->{icmp_type}
	    ? $ERROR_CODE{$f->{proto}}{$f->{icmp_type}} : undef;
	next if defined $code && $f->{icmp_code} != $code;
	my $k = join '|', canon($f->{src}), canon($f->{dst}), $f->{proto}, $arg;
	push @{$flow{$k}}, $f;
}

# An ICMP reply opens a flow keyed as its request's, from the other end
# (agent/flow.c), marked reply_first.
my %REQUEST_OF = (1 => {0 => 8, 14 => 13, 16 => 15, 18 => 17}, 58 => {129 => 128});

my ($pass, $fail, $missing) = (0, 0, 0);
for my $t (@tuples) {
	my $v = $verdict{$t->{id}} or die "no verdict for tuple $t->{id}\n";
	my $proto = $PROTO{$t->{proto}} // $t->{proto};
	my $req = $REQUEST_OF{$proto} && $REQUEST_OF{$proto}{$t->{arg}};
	my $k = defined $req ? join('|', canon($t->{dst}), canon($t->{src}), $proto, $req)
	    : join('|', canon($t->{src}), canon($t->{dst}), $proto, $t->{arg});
	my $fs = $flow{$k};
	if (!$fs) {
		$missing++;
		print "AGENT-MISSING tuple $t->{id}: $t->{proto} $t->{arg} $t->{src} -> $t->{dst}\n";
		next;
	}
	my $want = "$v->{verdict}/" . ($v->{rule} eq '-' ? $v->{by} : $v->{rule});
	my $bad = 0;
	for my $f (@$fs) {
		my $got = ($f->{verdict} // 'none') . '/' . ($f->{rule} // $f->{by} // 'none');
		next if $got eq $want;
		$bad = 1;
		print "AGENT-MISMATCH tuple $t->{id}: $t->{proto} $t->{arg} $t->{src} -> $t->{dst}:"
		    . " query says $want, the agent $got\n";
	}
	$bad ? $fail++ : $pass++;
}
print "AGENT $pass $fail $missing\n";
