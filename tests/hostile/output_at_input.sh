#!/bin/bash
# -o aimed at an input never destroys it: the output is refused when it is
# (or links to) an image of the sweep, a block device, a folder, or any
# existing file that is not a bootsweep JSONL; --resume reads only the
# first line before deciding and rewrites nothing.  Every image's bytes and
# mtime are unchanged afterwards.
. "$(dirname "$0")/lib.sh"
command -v sfdisk >/dev/null || skip "sfdisk missing"
mkdir -p dir
truncate -s 16M dir/a.img && printf 'label: gpt\n,,L\n' | sfdisk -q dir/a.img
cp dir/a.img dir/b.vhd		# named like an image, raw inside
head -c 100000 /dev/urandom > victim.img
ln dir/a.img hard.jsonl		# a hard link to an input
ln -s dir/b.vhd soft.jsonl	# a symlink to an input
echo "my notes" > notes.txt
snap() { stat -c '%n %s %Y' dir/a.img dir/b.vhd victim.img notes.txt; sha256sum dir/a.img dir/b.vhd victim.img notes.txt; }
snap > before.txt

expect_rc 16 "$B" scan dir -o dir/b.vhd --quiet
expect_rc 16 "$B" scan dir/a.img -o victim.img --resume --quiet
expect_rc 16 "$B" scan dir/a.img -o victim.img --quiet
expect_rc 16 "$B" scan dir -o hard.jsonl --quiet
expect_rc 16 "$B" scan dir -o soft.jsonl --quiet
expect_rc 16 "$B" scan dir/a.img -o notes.txt --quiet
expect_rc 16 "$B" scan dir/a.img -o dir --quiet
"$B" scan dir -o dir/b.vhd --quiet 2> msg.txt
grep -q "is one of the images to sweep" msg.txt && ok "the refusal says why" || fail "message: $(cat msg.txt)"
# a redirection onto an image: the shell opened it (appending, so nothing
# was cut yet); bootsweep refuses to write there
"$B" scan dir --quiet >> dir/b.vhd
rc=$?
[ "$rc" -eq 16 ] && ok "stdout appended onto an input refused" || fail "stdout onto an input: exit $rc"

snap > after.txt
if diff before.txt after.txt >/dev/null; then ok "no image or foreign file changed"; else fail "a file changed"; diff before.txt after.txt; fi
[ ! -e dir/.resume-tmp ] && ! ls -a | grep -q resume-tmp && ok "no temporary file left" || fail "a temporary file was left"

# what must still work: a new output, an earlier bootsweep JSONL replaced
# or resumed, an empty file, standard output
expect_rc 1 "$B" scan dir/a.img -o new.jsonl --quiet
cp new.jsonl old.jsonl
expect_rc 1 "$B" scan dir/a.img dir/b.vhd -o old.jsonl --quiet
[ "$(wc -l < old.jsonl)" = 2 ] && ok "an earlier result file is replaced" || fail "old.jsonl has $(wc -l < old.jsonl) lines"
expect_rc 1 "$B" scan dir/a.img dir/b.vhd -o new.jsonl --resume --quiet
[ "$(wc -l < new.jsonl)" = 2 ] && ok "resume appends the missing disk" || fail "new.jsonl has $(wc -l < new.jsonl) lines"
: > empty.jsonl
expect_rc 1 "$B" scan dir/a.img -o empty.jsonl --quiet
expect_rc 1 "$B" scan dir/a.img -o - --quiet
finish
