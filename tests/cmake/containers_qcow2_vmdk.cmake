# qcow2 and VMDK containers (issue 14).
bsw_script_test(containers_qcow2_vmdk ${CMAKE_CURRENT_SOURCE_DIR}/scripts/containers_qcow2_vmdk.sh LABELS containers)
set_tests_properties(containers_qcow2_vmdk PROPERTIES TIMEOUT 900)
bsw_unit_test(test_qcow2 SOURCES ${BSW_TEST_DIR}/unit/test_qcow2.c LABELS containers unit)
bsw_unit_test(test_vmdk SOURCES ${BSW_TEST_DIR}/unit/test_vmdk.c LABELS containers unit)
bsw_unit_test(test_contshare SOURCES ${BSW_TEST_DIR}/unit/test_contshare.c LABELS containers unit)
# WOF chunks through wimlib (issue 14 item 5; formats/ntfs/ntfs_wof.c)
bsw_unit_test(test_ntfs_wof SOURCES ${BSW_TEST_DIR}/unit/test_ntfs_wof.c LABELS ntfs unit)
