# PE/COFF headers and the version resource (formats/pe).
bsw_unit_test(test_pe SOURCES ${BSW_TEST_DIR}/unit/test_pe.c LABELS unit)
