# libntfs-3g second opinion (formats/ntfs/ntfs_lib.c): the oracle against
# bootsweep's NTFS reader on the corpus and a made volume, the read-only
# proof, and the mount-time verdict on injected faults.
bsw_unit_test(test_ntfs3g_oracle SOURCES ${BSW_TEST_DIR}/unit/test_ntfs3g_oracle.c
  LABELS images)
bsw_unit_test(test_ntfs3g_verdict SOURCES ${BSW_TEST_DIR}/unit/test_ntfs3g_verdict.c
  LABELS images)
# The generated datasets' NTFS volumes, when the generator is in the tree.
if(TARGET mkfleet)
  set_property(TEST test_ntfs3g_oracle APPEND PROPERTY ENVIRONMENT
    "BSW_MKFLEET=$<TARGET_FILE:mkfleet>")
endif()
