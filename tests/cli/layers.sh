#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The layer graph of docs/architecture.md (the table between the layers
# markers) held against the tree and the build: includes, each folder's
# CMakeLists.txt, the programs' link lines and the binaries' NEEDED entries.
# Usage: layers.sh [SRC [BUILD]] (defaults: SEGPLAN_SRC, the directory of SEGPLAN_BIN).
set -u
src=${1:-${SEGPLAN_SRC:?}}
build=${2:-$(dirname "${SEGPLAN_BIN:?}")}
doc=$src/docs/architecture.md
fails=0
fail() {
	fails=$((fails + 1))
	echo "layers: $*" >&2
}

declare -A lib uses ext part_of_lib
parts=()
while IFS='|' read -r _ p l u e _; do
	p=$(echo $p) l=$(echo $l)
	[[ -z $p || $p == part || $p == -* ]] && continue
	parts+=("$p")
	lib[$p]=$l
	uses[$p]=$(echo $u)
	ext[$p]=$(echo $e)
	part_of_lib[$l]=$p
done < <(sed -n '/<!-- layers:begin -->/,/<!-- layers:end -->/p' "$doc" | grep '^|')
if [[ ${#parts[@]} -eq 0 ]]; then
	echo "layers: no table between the layers markers in $doc" >&2
	exit 1
fi

# What a part may use: itself and everything reachable through uses (a cycle is an error).
declare -A reach
closure() { # closure PART PATH...
	local p=$1 q
	shift
	for q in "$@"; do
		if [[ $q == "$p" ]]; then
			fail "the graph has a cycle: $* $p"
			return
		fi
	done
	local out=" $p "
	for q in ${uses[$p]-}; do
		if [[ -z ${lib[$q]-} ]]; then
			fail "$p uses '$q', which the table does not name"
			continue
		fi
		[[ -n ${reach[$q]-} ]] || closure "$q" "$@" "$p"
		out+="${reach[$q]-} "
	done
	reach[$p]=$out
}
for p in "${parts[@]}"; do
	[[ -n ${reach[$p]-} ]] || closure "$p"
	[[ -d $src/$p ]] || fail "the table names '$p', which is no folder"
done
may() { [[ ${reach[$1]} == *" $2 "* ]]; }
allowed_ext() { # the external libraries of everything PART may use
	local p=$1 q out=""
	for q in ${reach[$p]}; do out+=" ${ext[$q]-}"; done
	echo "$out "
}
all_ext=" "
for p in "${parts[@]}"; do all_ext+="${ext[$p]} "; done

# 1. Includes: every C file of a part includes only parts it may use.
cd "$src" || exit 1
files() { # the tree's C files: tracked and untracked, not ignored (build directories)
	git ls-files --cached --others --exclude-standard '*.c' '*.h' 2>/dev/null ||
		find . \( -name '*.c' -o -name '*.h' \) -not -path './build*' | sed 's,^\./,,'
}
for dir in $(files | grep / | cut -d/ -f1 | sort -u); do
	[[ $dir == tests || $dir == bench ]] && continue
	if [[ -z ${lib[$dir]-} ]]; then
		fail "folder $dir/ holds C code but has no row in docs/architecture.md"
		continue
	fi
	while IFS=: read -r file line inc; do
		to=$(sed -n 's/^#include "\([^/"]*\)\/.*/\1/p' <<<"$inc")
		[[ -z $to ]] && continue
		if [[ -z ${lib[$to]-} ]]; then
			fail "$file:$line: includes from '$to', which is no part of the graph"
		elif ! may "$dir" "$to"; then
			fail "$file:$line: $dir may not include $to/ (${inc#\#include }): $dir uses only:${reach[$dir]}"
		fi
	done < <(files | grep "^$dir/" | xargs -r grep -Hn '^#include "')
done

# 2. CMake: the seg* libraries each folder links are ones its part may use.
for p in "${parts[@]}"; do
	f=$p/CMakeLists.txt
	if [[ ! -f $f ]]; then
		fail "$f: missing (each part builds in its own CMakeLists.txt)"
		continue
	fi
	grep -q 'GLOB\|REMOVE_ITEM' "$f" && fail "$f: sources are listed explicitly (no GLOB, no REMOVE_ITEM)"
	# The libraries named after target_link_libraries(TARGET ...), not the target.
	for l in $(sed -n '/target_link_libraries/,/)/p' "$f" | sed 's/target_link_libraries([^ ]*//' |
		grep -o '\bseg[a-z_]*' | sort -u); do
		q=${part_of_lib[$l]-}
		if [[ -z $q ]]; then
			fail "$f: links $l, which no part builds"
		elif ! may "$p" "$q"; then
			fail "$f: $p links $l ($q/), which it may not use"
		fi
	done
done

# 3. The programs' link lines and 4. their binaries.
check_program() { # check_program PART LINK_TXT BINARY
	local p=$1 link=$2 bin=$3 tok name q exts
	exts=$(allowed_ext "$p")
	if [[ ! -f $link ]]; then
		fail "$link: missing (build first)"
		return
	fi
	for tok in $(cat "$link"); do
		name=${tok##*/}
		case $name in
		libseg*.a)
			name=${name#lib}
			name=${name%.a}
			q=${part_of_lib[$name]-}
			if [[ -z $q ]]; then
				fail "$p links $name, which no part builds"
			elif ! may "$p" "$q"; then
				fail "$p links $name ($q/), which it may not use"
			fi
			continue
			;;
		-l*) name=${name#-l} ;;
		lib*.so* | lib*.a) name=${name#lib} name=${name%%.so*} name=${name%.a} ;;
		*) continue ;;
		esac
		if [[ $all_ext == *" $name "* && $exts != *" $name "* ]]; then
			fail "$p links the external library $name, which none of its parts brings"
		fi
	done
	if [[ -x $bin ]] && command -v readelf >/dev/null; then
		for name in $(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[lib\(.*\)\.so.*\]/\1/p'); do
			if [[ $all_ext == *" $name "* && $exts != *" $name "* ]]; then
				fail "$bin needs lib$name.so, which none of $p's parts brings"
			fi
		done
	fi
}
check_program agent "$build/agent/CMakeFiles/segplan-agent.dir/link.txt" "$build/agent/segplan-agent"
check_program planner "$build/planner/CMakeFiles/segplan.dir/link.txt" "$build/segplan"

if [[ $fails -gt 0 ]]; then
	echo "layers: $fails violation(s) of docs/architecture.md" >&2
	exit 1
fi
echo "layers: ${#parts[@]} parts, includes, CMake and link lines as docs/architecture.md draws them"
