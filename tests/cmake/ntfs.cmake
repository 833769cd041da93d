# NTFS reader (formats/ntfs): pure parser tests, volume tests on a made
# Windows-shaped volume with injected corruption, and a comparison with The
# Sleuth Kit on the corpus volumes.
bsw_unit_test(test_ntfs_parse SOURCES ${BSW_TEST_DIR}/unit/test_ntfs_parse.c)
# The names pass and lookups: hash-indexed and searched directories agree.
bsw_unit_test(test_ntfs_names SOURCES ${BSW_TEST_DIR}/unit/test_ntfs_names.c)
bsw_unit_test(test_ntfs_vol SOURCES ${BSW_TEST_DIR}/unit/test_ntfs_vol.c
  LABELS images)
bsw_script_test(test_ntfs_tsk ${BSW_TEST_DIR}/images/ntfs/compare_tsk.sh)
# Parsed records shared between volumes that read the same layer bytes.
bsw_unit_test(test_ntfs_share SOURCES ${BSW_TEST_DIR}/unit/test_ntfs_share.c
  LABELS images)
