# SPDX-License-Identifier: MIT
# Shipping the agent's spool as docs/evidence.md sets it up: the central side
# pulls over SSH from an unprivileged account on the gateway whose key is
# forced to `rrsync -ro SPOOL`. A gateway namespace runs its own sshd (own host
# key, a generated known_hosts on the central side, no password, no PAM); the
# central namespace pulls with rsync. Checks that the windows arrive byte for
# byte, that a second pull moves only what is new, and that the key can do
# nothing else: no upload, no deleting at the gateway (--remove-source-files),
# no path outside the spool, no shell command, no port forwarding.
. "$(dirname "$0")/lib.sh"
e2e_require_root
for tool in sshd ssh ssh-keygen rsync rrsync useradd userdel; do
	command -v "$tool" >/dev/null || {
		e2e_log "FAIL: $tool is missing (scripts/deps.sh installs openssh-server and rsync)"
		exit 1
	}
done
e2e_tmp
tmp=$E2E_TMP
# The shipping account of this test: removed at exit whatever happens.
user="segship$$"
trap 'rc=$?; userdel "$user" >/dev/null 2>&1; (exit $rc); e2e_cleanup' EXIT
useradd --system --no-create-home --home-dir "$tmp/home" --shell /bin/sh "$user" || exit 1
# No password, but not locked: sshd without PAM refuses a locked account.
usermod -p '*' "$user" || exit 1

e2e_ns_add gw
e2e_ns_add central
gw=$(e2e_ns_name gw)
central=$(e2e_ns_name central)
e2e_veth "$central" 10.99.50.1/24 "$gw" 10.99.50.2/24

# The gateway: its spool (the agent's user owns it; the shipping account only
# reads it through its group), the sshd of the namespace.
spool="$tmp/gw/spool"
mkdir -p "$spool" "$tmp/gw/etc" "$tmp/gw/keys" "$tmp/home" /run/sshd
chmod 0755 "$tmp" "$tmp/gw"
chgrp "$user" "$spool"
chmod 0750 "$spool"
for seq in 1 2 3; do
	f="$spool/S0001.000000000$seq.20261203T1${seq}0000Z.json"
	printf '{"kind":"segplan-agent-summary","seq":%d}\n' "$seq" >"$f"
	chgrp "$user" "$f"
	chmod 0640 "$f"
done
printf 'secret\n' >"$tmp/gw/etc/secret"
chmod 0644 "$tmp/gw/etc/secret"
ssh-keygen -q -t ed25519 -N '' -f "$tmp/gw/etc/host_key" || exit 1
ssh-keygen -q -t ed25519 -N '' -C central -f "$tmp/central_key" || exit 1
printf 'command="/usr/bin/rrsync -ro %s",restrict %s\n' "$spool" "$(cat "$tmp/central_key.pub")" \
	>"$tmp/gw/keys/$user"
cat >"$tmp/gw/etc/sshd_config" <<EOF
Port 2222
ListenAddress 10.99.50.2
HostKey $tmp/gw/etc/host_key
PidFile $tmp/gw/sshd.pid
AuthorizedKeysFile $tmp/gw/keys/%u
AllowUsers $user
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin no
EOF
e2e_bg "$gw" /usr/sbin/sshd -D -e -f "$tmp/gw/etc/sshd_config"
e2e_wait_listen "$gw" 2222 || exit 1

# The central side: a known_hosts made from the gateway's host key, never
# "accept new".
printf '[10.99.50.2]:2222 %s\n' "$(cut -d' ' -f1,2 "$tmp/gw/etc/host_key.pub")" >"$tmp/known_hosts"
ssh_cmd="ssh -p 2222 -i $tmp/central_key -o UserKnownHostsFile=$tmp/known_hosts"
ssh_cmd+=" -o StrictHostKeyChecking=yes -o BatchMode=yes -o IdentitiesOnly=yes"
pull() { # pull DEST [rsync options]: the spool's new windows into DEST
	local dest=$1
	shift
	e2e_in "$central" rsync -a --ignore-existing "$@" -e "$ssh_cmd" "$user@10.99.50.2:" "$dest/"
}
same_files() { # same_files A B: the same names with the same bytes
	[ "$(cd "$1" && ls)" = "$(cd "$2" && ls)" ] && diff -r "$1" "$2" >/dev/null
}

central_dir="$tmp/central/S0001"
mkdir -p "$central_dir"
e2e_check "the central side pulls the spool over SSH" pull "$central_dir"
e2e_check "every window arrives byte for byte" same_files "$spool" "$central_dir"

# A window written after the first pull: the next pull moves only it.
new="$spool/S0001.0000000004.20261203T140000Z.json"
printf '{"kind":"segplan-agent-summary","seq":4}\n' >"$new"
chgrp "$user" "$new"
chmod 0640 "$new"
moved=$(pull "$central_dir" --out-format="%n" 2>/dev/null | grep -v "/$")
e2e_check "a second pull moves only the new window ($moved)" test "$moved" = "$(basename "$new")"
e2e_check "and the copies stay equal" same_files "$spool" "$central_dir"

# What the key must not do.
printf 'x\n' >"$tmp/upload.json"
e2e_check "no upload into the spool" ! e2e_in "$central" rsync -a -e "$ssh_cmd" "$tmp/upload.json" \
	"$user@10.99.50.2:"
e2e_check "nothing was written" test ! -e "$spool/upload.json"
mkdir -p "$tmp/central/rm"
pull "$tmp/central/rm" --remove-source-files >/dev/null 2>&1
e2e_check "no deleting at the gateway (--remove-source-files)" test -e "$spool/S0001.0000000001.20261203T110000Z.json"
e2e_check "four windows still at the gateway" test "$(ls "$spool" | wc -l)" -eq 4
mkdir -p "$tmp/central/escape"
e2e_in "$central" rsync -a -e "$ssh_cmd" "$user@10.99.50.2:../etc/secret" "$tmp/central/escape/" \
	>/dev/null 2>&1
e2e_check "no path outside the spool" test ! -e "$tmp/central/escape/secret"
out=$(e2e_in "$central" $ssh_cmd "$user@10.99.50.2" id 2>&1)
e2e_check "no shell command (the key runs rrsync only)" bash -c '! grep -q "uid=" <<<"$1"' _ "$out"
e2e_check "no port forwarding" ! e2e_in "$central" timeout 10 $ssh_cmd -N -o ExitOnForwardFailure=yes \
	-L 127.0.0.1:2300:127.0.0.1:22 "$user@10.99.50.2"

# The gateway's host key is checked: another key under that address is refused.
ssh-keygen -q -t ed25519 -N '' -f "$tmp/other_key" || exit 1
printf '[10.99.50.2]:2222 %s\n' "$(cut -d' ' -f1,2 "$tmp/other_key.pub")" >"$tmp/known_hosts"
e2e_check "a gateway whose host key changed is refused" ! pull "$tmp/central/x"
e2e_done
