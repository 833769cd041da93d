# tests/hostile/<case>.sh: one file per class of abuse (docs/hostile.md), each
# asserting the exact outcome expected.  Every case runs from its own work
# folder t-hostile-<case> under the build directory; 77 means "skipped".
file(GLOB BSW_HOSTILE CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/hostile/*.sh)
foreach(f ${BSW_HOSTILE})
  get_filename_component(n ${f} NAME_WE)
  if(NOT n STREQUAL "lib")
    bsw_script_test(hostile_${n} ${f} LABELS hostile)
    set_tests_properties(hostile_${n} PROPERTIES TIMEOUT 600)
  endif()
endforeach()
# all_at_once sweeps what the other cases leave behind, in one run.
if(TEST hostile_all_at_once)
  set_tests_properties(hostile_vhd_huge_bat hostile_vhdx_huge_bat hostile_walk hostile_names
                       PROPERTIES FIXTURES_SETUP hostile_inputs)
  set_tests_properties(hostile_all_at_once PROPERTIES FIXTURES_REQUIRED hostile_inputs)
endif()
