# Triage: FAT, BCD, SxS parsers, servicing/boot checks, classifier, scan.
bsw_unit_test(test_fat SOURCES ${BSW_TEST_DIR}/unit/test_fat.c LIBS bsw_formats bsw_core)
bsw_unit_test(test_sxs SOURCES ${BSW_TEST_DIR}/unit/test_sxs.c LIBS bsw_formats bsw_core)
bsw_unit_test(test_sha SOURCES ${BSW_TEST_DIR}/unit/test_sha.c)
bsw_script_test(triage_accuracy ${BSW_TEST_DIR}/triage/accuracy.sh LABELS images)
set_tests_properties(triage_accuracy PROPERTIES TIMEOUT 600)
bsw_script_test(triage_badinput ${BSW_TEST_DIR}/triage/badinput.sh LABELS images)
set_tests_properties(triage_badinput PROPERTIES TIMEOUT 300)
bsw_script_test(triage_findings_doc ${BSW_TEST_DIR}/triage/findings_doc.sh LABELS unit)
bsw_unit_test(test_classify SOURCES ${BSW_TEST_DIR}/unit/test_classify.c LIBS bsw_formats bsw_core)
bsw_unit_test(test_bcd SOURCES ${BSW_TEST_DIR}/unit/test_bcd.c LIBS bsw_formats bsw_core)
bsw_script_test(triage_fleet ${BSW_TEST_DIR}/triage/fleet.sh LABELS images)
set_tests_properties(triage_fleet PROPERTIES TIMEOUT 900)
# triage_badinput (and anything else reading triage-accuracy/) uses the
# fleet triage_accuracy generates: a CTest fixture orders them under -j,
# and runs triage_accuracy first when only the reader is selected.
set_tests_properties(triage_accuracy PROPERTIES FIXTURES_SETUP triage_fleet_raw)
set_tests_properties(triage_badinput PROPERTIES FIXTURES_REQUIRED triage_fleet_raw)
