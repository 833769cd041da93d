# Container and partition tests (issue 2).
bsw_script_test(containers ${CMAKE_CURRENT_SOURCE_DIR}/scripts/containers.sh LABELS containers)
bsw_script_test(readonly ${CMAKE_CURRENT_SOURCE_DIR}/scripts/readonly.sh LABELS containers)
bsw_unit_test(test_part SOURCES ${BSW_TEST_DIR}/unit/test_part.c LABELS containers unit)
bsw_unit_test(test_vhd SOURCES ${BSW_TEST_DIR}/unit/test_vhd.c LABELS containers unit)
bsw_unit_test(test_disk SOURCES ${BSW_TEST_DIR}/unit/test_disk.c LABELS containers unit)
bsw_unit_test(test_vhdx SOURCES ${BSW_TEST_DIR}/unit/test_vhdx.c LABELS containers unit)
