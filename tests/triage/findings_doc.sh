#!/bin/bash
# docs/findings.md must equal what gen_findings_doc.sh prints from the
# current finding table.  Regenerate with:
#   bash tests/triage/gen_findings_doc.sh > docs/findings.md
set -u
SRC=${BSW_SRCDIR:?}
if ! diff -u "$SRC/docs/findings.md" <(bash "$SRC/tests/triage/gen_findings_doc.sh" "$SRC"); then
	echo "docs/findings.md is out of date: bash tests/triage/gen_findings_doc.sh > docs/findings.md"
	exit 1
fi
echo "docs/findings.md is up to date"
