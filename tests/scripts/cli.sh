#!/bin/bash
# The command line as fsck, qemu-img and GNU tools taught people: every
# command answers --help and -h on stdout with exit 0, `bootsweep help CMD`
# likewise, --version, --opt=value and --, numbers validated, an empty
# folder is an error; and every option a command's --help names is in
# docs/cli.md (the docs match the program).
set -u
B=${BSW_BIN:?}
SRC=${BSW_SRCDIR:?}
W=${BSW_BINDIR:?}/t-cli
rm -rf "$W"; mkdir -p "$W"; cd "$W" || exit 1
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
cmds="scan report diff merge info cat ls check hive"
for c in $cmds; do
	for h in --help -h; do
		out=$("$B" $c $h 2>/dev/null); rc=$?
		[ "$rc" = 0 ] && printf '%s' "$out" | grep -q "^usage: bootsweep $c" || bad "$c $h: exit $rc"
	done
	out=$("$B" help $c 2>/dev/null); rc=$?
	[ "$rc" = 0 ] && printf '%s' "$out" | grep -q "^usage: bootsweep $c" || bad "help $c: exit $rc"
	# every --option named in the help is documented
	for opt in $("$B" $c --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
		grep -q -- "$opt" "$SRC/docs/cli.md" || bad "$c: $opt is not in docs/cli.md"
	done
done
[ "$fail" = 0 ] && ok "--help, -h and help CMD on stdout with exit 0 for: $cmds; every option documented"
# the README's command table and docs/cli.md's scan synopsis name every
# scan option, and the table every command `bootsweep help` lists
drift=
for opt in $("$B" scan --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
	[ "$opt" = --help ] && continue
	grep -q -- "^| \`bootsweep scan.*$opt\b" "$SRC/README.md" || drift="$drift README:$opt"
	sed -n '/^bootsweep scan PATH/,/^```/p' "$SRC/docs/cli.md" | grep -q -- "$opt\b" ||
		drift="$drift cli.md-synopsis:$opt"
done
for c in $("$B" help | sed -n 's/^  \([a-z0-9-]*\) .*/\1/p'); do
	[ "$c" = ntfs3g-verdict ] && continue	# internal: scan runs it as a child
	grep -q -- "^|.*\`bootsweep $c\b" "$SRC/README.md" || drift="$drift README:$c"
done
[ -z "$drift" ] && ok "README and the cli.md scan synopsis name every scan option and command" ||
	bad "not named:$drift"
"$B" --version | grep -q '^bootsweep [0-9]' && ok "--version: $("$B" --version)" || bad "--version"
"$B" --help | grep -q "^usage: bootsweep COMMAND" && ok "bootsweep --help" || bad "bootsweep --help"
"$B" frobnicate >/dev/null 2>&1; [ $? = 16 ] && ok "unknown command: 16" || bad "unknown command"

truncate -s 1M a.img
for args in "-j abc" "-j -1" "-j 0" "--disk-timeout abc" "--mem-cap 0" "--mem-cap 2Q" "--max-bytes -5" \
	    "--max-depth x" "--only clean"; do
	# shellcheck disable=SC2086
	"$B" scan a.img $args -o out.jsonl --quiet 2> err.txt; rc=$?
	[ "$rc" = 16 ] && [ -s err.txt ] && ok "scan $args: usage error with a reason" || bad "scan $args: exit $rc"
done
"$B" scan --mem-cap=2G --jobs=1 --output=eq.jsonl --quiet -- a.img; rc=$?
[ "$rc" = 1 ] && [ "$(wc -l < eq.jsonl)" = 1 ] && ok "--opt=value and -- work (--mem-cap=2G)" || bad "--opt=value: exit $rc"
"$B" scan a.img -o - --quiet | grep -q '"image"' && ok "-o - is standard output" || bad "-o -"
mkdir empty
"$B" scan empty --quiet > /dev/null 2> err.txt; rc=$?
[ $((rc & 8)) = 8 ] && grep -q "no disk image" err.txt && ok "an empty folder is an error (exit $rc)" || bad "empty folder: exit $rc"
mkdir d && cp a.img d/ && ln -s d link
"$B" scan d/ ./d link d/a.img "$W/d/a.img" -o twice.jsonl --quiet
[ "$(wc -l < twice.jsonl)" = 1 ] && grep -q "\"image\":\"$W/d/a.img\"" twice.jsonl &&
	ok "one disk named five ways is swept once, under its canonical path" || bad "$(cut -c1-80 twice.jsonl)"
"$B" scan ./d/a.img -o twice.jsonl --resume --quiet
[ "$(wc -l < twice.jsonl)" = 1 ] && ok "--resume recognises it under another spelling" || bad "resume spelling"

# after --resume, the summary and the exit status cover the whole file
cp a.img b.img
"$B" scan a.img -o whole.jsonl --quiet
"$B" scan a.img b.img -o whole.jsonl --resume 2> sum.txt; rc=$?
[ "$rc" = 1 ] && grep -q "the whole output file" sum.txt && grep -Eq "unassessable +2$" sum.txt &&
	ok "resumed sweep: summary and exit status cover the whole file" || bad "resume summary: exit $rc, $(cat sum.txt)"

# cmake --install: the program, bootsweep(1) and the bash completion
if command -v go-md2man >/dev/null && [ -f "$BSW_BINDIR/CMakeCache.txt" ]; then
	cmake --install "$BSW_BINDIR" --prefix "$W/prefix" > /dev/null 2>&1
	[ -x prefix/bin/bootsweep ] && ok "installed: bin/bootsweep" || bad "no bin/bootsweep"
	if [ -f prefix/share/man/man1/bootsweep.1 ] &&
	   MANWIDTH=100 man -l prefix/share/man/man1/bootsweep.1 2>/dev/null | grep -q -- "--max-depth"; then
		ok "installed: bootsweep(1), and it documents --max-depth"
	else
		bad "man page missing or incomplete"
	fi
	comp=prefix/share/bash-completion/completions/bootsweep
	if [ -f "$comp" ]; then
		got=$(bash -c '
. "$1"
COMP_WORDS=(prefix/bin/bootsweep sc); COMP_CWORD=1; _bootsweep; echo "${COMPREPLY[*]}"
COMP_WORDS=(prefix/bin/bootsweep scan --max-d); COMP_CWORD=2; _bootsweep; echo "${COMPREPLY[*]}"
COMP_WORDS=(prefix/bin/bootsweep report --format c); COMP_CWORD=3; _bootsweep; echo "${COMPREPLY[*]}"' _ "$comp")
		[ "$got" = "$(printf 'scan\n--max-depth\ncsv')" ] && ok "bash completion: commands, options from --help, values" ||
			bad "bash completion gave: $got"
	else
		bad "no bash completion installed"
	fi
else
	echo "note: go-md2man or the build tree missing; install not tried"
fi
exit $fail
