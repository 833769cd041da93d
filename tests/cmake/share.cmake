# Work shared across the layers of a sweep (scanner/share.c, issue 11).
bsw_unit_test(test_share SOURCES ${BSW_TEST_DIR}/unit/test_share.c)
# scan with and without sharing: the same answers on families (depth 3,
# own changes in hives/MFT/WinSxS, damaged parents), and fewer bytes read
bsw_script_test(share_same_answers ${BSW_TEST_DIR}/share/same_answers.sh LABELS images)
set_tests_properties(share_same_answers PROPERTIES TIMEOUT 600)
# results kept across sweeps (scan --cache, scanner/pcache.c): the file
# format against cut and forged files, --verify-cache through share.c
bsw_unit_test(test_pcache SOURCES ${BSW_TEST_DIR}/unit/test_pcache.c)
# scan --cache end to end: same answers, cut/damaged/stale/forged files,
# --verify-cache (uses test_pcache as the forging tool)
bsw_script_test(share_cache ${BSW_TEST_DIR}/share/cache.sh LABELS images)
set_tests_properties(share_cache PROPERTIES TIMEOUT 600)
# the same against children made by qemu-img/qemu-io (stacked up to depth
# 4) and by mkimage --diff (VHD, VHDX: sector-exact): seeded writes over
# MFT records, index blocks, hive bins, manifests and PE files, and under
# a 1 MiB cache cap (tests/share/random_writes.sh; BSW_SEED replays a plan)
bsw_script_test(share_random_writes ${BSW_TEST_DIR}/share/random_writes.sh LABELS images)
set_tests_properties(share_random_writes PROPERTIES TIMEOUT 600)
