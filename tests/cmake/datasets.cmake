# datasets/mkfleet judged by independent tools (issue 3).
if(TARGET mkfleet)
  bsw_script_test(datasets ${CMAKE_CURRENT_SOURCE_DIR}/datasets/datasets.sh LABELS images)
  set_tests_properties(datasets PROPERTIES TIMEOUT 600)
endif()

# mkfleet --churn light|boot|patch: children that differ where each change
# profile says, and scan as their ground truth (issue 11).
if(TARGET mkfleet)
  bsw_script_test(datasets_churn ${CMAKE_CURRENT_SOURCE_DIR}/datasets/churn.sh LABELS images)
  set_tests_properties(datasets_churn PROPERTIES TIMEOUT 600)
endif()
