#!/bin/bash
# The layering rule of docs/architecture.md: parsers under formats/ stand
# alone, so no file under formats/ includes a header under scanner/ (or
# datasets/, the writers).  Fails naming each such line.
set -u
SRC=${BSW_SRCDIR:?}
cd "$SRC" || exit 1
hits=$(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"(scanner|datasets)/' formats \
	--include='*.[ch]' --include='*.def')
if [ -n "$hits" ]; then
	echo "FAIL: formats/ includes scanner/ or datasets/ headers:"
	echo "$hits"
	exit 1
fi
n=$(find formats -name '*.[ch]' | wc -l)
[ "$n" -gt 0 ] || { echo "FAIL: no files under formats/"; exit 1; }
echo "ok   $n files under formats/ include nothing from scanner/ or datasets/"
