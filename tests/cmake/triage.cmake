# Triage: FAT, BCD, SxS parsers, servicing/boot checks, classifier, scan.
bsw_unit_test(test_fat SOURCES ${BSW_TEST_DIR}/unit/test_fat.c LIBS bsw_formats bsw_core)
bsw_unit_test(test_sxs SOURCES ${BSW_TEST_DIR}/unit/test_sxs.c LIBS bsw_formats bsw_core)
bsw_unit_test(test_sha SOURCES ${BSW_TEST_DIR}/unit/test_sha.c)
# The scenario disks of tests/triage/mkdisk.py are made once, by the fixture
# triage_disks, in triage-disks/; its readers write only in folders of their
# own (triage-accuracy/, triage-bad/), so ctest -j may run them together.
bsw_script_test(triage_disks ${BSW_TEST_DIR}/triage/disks.sh LABELS images)
set_tests_properties(triage_disks PROPERTIES TIMEOUT 600 FIXTURES_SETUP triage_disks)
bsw_script_test(triage_accuracy ${BSW_TEST_DIR}/triage/accuracy.sh LABELS images)
set_tests_properties(triage_accuracy PROPERTIES TIMEOUT 600 FIXTURES_REQUIRED triage_disks)
bsw_script_test(triage_badinput ${BSW_TEST_DIR}/triage/badinput.sh LABELS images)
set_tests_properties(triage_badinput PROPERTIES TIMEOUT 300 FIXTURES_REQUIRED triage_disks)
bsw_script_test(triage_findings_doc ${BSW_TEST_DIR}/triage/findings_doc.sh LABELS unit)
bsw_unit_test(test_classify SOURCES ${BSW_TEST_DIR}/unit/test_classify.c LIBS bsw_formats bsw_core)
bsw_unit_test(test_bcd SOURCES ${BSW_TEST_DIR}/unit/test_bcd.c LIBS bsw_formats bsw_core)
bsw_script_test(triage_fleet ${BSW_TEST_DIR}/triage/fleet.sh LABELS images)
set_tests_properties(triage_fleet PROPERTIES TIMEOUT 900)
# The threaded paths (scan over disks, the parallel $MFT parse, the shard
# plan): the TSan tier's main case, and a determinism check.
bsw_script_test(triage_threads ${BSW_TEST_DIR}/triage/threads.sh LABELS images slow threads)
set_tests_properties(triage_threads PROPERTIES TIMEOUT 900)
