# Work shared across the layers of a sweep (scanner/share.c, issue 11).
bsw_unit_test(test_share SOURCES ${BSW_TEST_DIR}/unit/test_share.c)
