# Triage: FAT, BCD, SxS parsers, servicing/boot checks, classifier, scan.
#
# Until formats/regf/ has sources, link a stand-in so that the scanner
# (which calls the hive API) still links; it disappears when regf lands.
file(GLOB BSW_TRIAGE_REGF_SRC CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/formats/regf/*.c)
if(NOT BSW_TRIAGE_REGF_SRC)
  target_sources(bsw_core PRIVATE ${BSW_TEST_DIR}/triage/regf_stub.c)
endif()
bsw_unit_test(test_fat SOURCES ${BSW_TEST_DIR}/unit/test_fat.c LIBS bsw_formats bsw_core)
bsw_unit_test(test_sxs SOURCES ${BSW_TEST_DIR}/unit/test_sxs.c LIBS bsw_formats bsw_core)
