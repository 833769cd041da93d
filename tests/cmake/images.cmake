# Golden image tests (tests/images/<fmt>_<case>/, STYLE.md section 8): one
# CTest test per case folder holding a `name`, run by tests/images/run.sh,
# which makes the image with the project's writers and compares bootsweep's
# normalised output with the case's `expect`.  Label images; the cases
# together take well under a minute (images are cached in t-images/).
if(TARGET mkfleet AND TARGET mkimage)
  file(GLOB BSW_IMAGE_CASES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/images/*/name)
  foreach(n ${BSW_IMAGE_CASES})
    get_filename_component(d ${n} DIRECTORY)
    get_filename_component(c ${d} NAME)
    bsw_script_test(images_${c} ${CMAKE_CURRENT_SOURCE_DIR}/images/run.sh LABELS images
                    ARGS ${d})
    # TIMEOUT: a hang guard; a case takes seconds (minutes under TSan)
    set_tests_properties(images_${c} PROPERTIES TIMEOUT 600)
  endforeach()
endif()
