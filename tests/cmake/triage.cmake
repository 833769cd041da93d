# Triage: FAT, BCD, SxS parsers, servicing/boot checks, classifier, scan.
bsw_unit_test(test_fat SOURCES ${BSW_TEST_DIR}/unit/test_fat.c LIBS bsw_formats bsw_core)
bsw_unit_test(test_sxs SOURCES ${BSW_TEST_DIR}/unit/test_sxs.c LIBS bsw_formats bsw_core)
