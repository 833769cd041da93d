# datasets/mkfleet judged by independent tools (issue 3).
if(TARGET mkfleet)
  bsw_script_test(datasets ${CMAKE_CURRENT_SOURCE_DIR}/datasets/datasets.sh LABELS images)
  set_tests_properties(datasets PROPERTIES TIMEOUT 600)
endif()
