# Core: the read engine, the finding table, the results file (the header
# test is in headers.cmake).
bsw_unit_test(test_ring SOURCES ${BSW_TEST_DIR}/unit/test_ring.c)
bsw_unit_test(test_problem_table SOURCES ${BSW_TEST_DIR}/unit/test_problem_table.c)
bsw_unit_test(test_vec SOURCES ${BSW_TEST_DIR}/unit/test_vec.c)

# The results file: JSON string escaping round trip, whole lines only.
bsw_unit_test(test_out SOURCES ${BSW_TEST_DIR}/unit/test_out.c)
