# Fleet report (HTML, CSV, table) and sweep diffs; the page is loaded in
# headless Chromium when it is installed (.ci/setup installs it).
bsw_script_test(report_diff ${BSW_TEST_DIR}/report/report.sh LABELS images)
set_tests_properties(report_diff PROPERTIES TIMEOUT 600)
bsw_unit_test(test_json SOURCES ${BSW_TEST_DIR}/unit/test_json.c)
# The command line's conventions and docs/cli.md against every --help.
bsw_script_test(cli ${BSW_TEST_DIR}/scripts/cli.sh LABELS unit)
bsw_unit_test(test_codes SOURCES ${BSW_TEST_DIR}/unit/test_codes.c)
# Every command's JSON against docs/schema/ (python3-jsonschema), and one
# text line and one JSON object per finding whichever command prints it.
bsw_script_test(report_schema ${BSW_TEST_DIR}/report/schema.sh LABELS images)
set_tests_properties(report_schema PROPERTIES TIMEOUT 600)
