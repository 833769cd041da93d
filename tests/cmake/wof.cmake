# WOF (CompactOS) files written by mkfleet and read back (issue 14 item 5).
if(TARGET mkfleet)
  bsw_script_test(wof ${CMAKE_CURRENT_SOURCE_DIR}/scripts/wof.sh LABELS images)
  set_tests_properties(wof PROPERTIES TIMEOUT 600)
endif()
