# Container and partition tests (issue 2).
bsw_script_test(containers ${CMAKE_CURRENT_SOURCE_DIR}/scripts/containers.sh LABELS containers)
bsw_script_test(readonly ${CMAKE_CURRENT_SOURCE_DIR}/scripts/readonly.sh LABELS containers)
