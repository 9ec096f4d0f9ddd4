# SPDX-License-Identifier: MIT
# Shared by the command-line tests (source it): the binary and source tree from
# the environment, a temporary directory removed on exit, and the assertions.
# Each assertion counts; cli_done prints "N passed, N failed" and sets the status.
bin=${SEGPLAN_BIN:?}
src=${SEGPLAN_SRC:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 passes=0
expect() { # expect CODE DESCRIPTION -- command...: the exit code; output in $tmp/out, $tmp/err
	local want=$1 what=$2
	shift 3
	"$@" >"$tmp/out" 2>"$tmp/err"
	local got=$?
	if [[ $got -eq $want ]]; then
		passes=$((passes + 1))
	else
		fails=$((fails + 1))
		echo "FAIL: $what: exit $got, want $want"
		sed 's/^/  stderr: /' "$tmp/err" | head -5
	fi
}
grep_in() { # grep_in FILE PATTERN DESCRIPTION: a fixed string in a file
	if grep -qF -- "$2" "$1"; then
		passes=$((passes + 1))
	else
		fails=$((fails + 1))
		echo "FAIL: $3: '$2' not in $1:"
		head -5 "$1" | sed 's/^/  /'
	fi
}
ok() { # ok DESCRIPTION -- command...: the command succeeds
	local what=$1
	shift 2
	if "$@"; then
		passes=$((passes + 1))
	else
		fails=$((fails + 1))
		echo "FAIL: $what"
	fi
}
same() { # same DESCRIPTION A B
	if [[ "$2" == "$3" ]]; then
		passes=$((passes + 1))
	else
		fails=$((fails + 1))
		echo "FAIL: $1: '$2' != '$3'"
	fi
}
cli_done() {
	echo "$passes passed, $fails failed"
	[[ $fails -eq 0 ]]
}
