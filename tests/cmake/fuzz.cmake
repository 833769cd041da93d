# Fuzz targets: every tests/fuzz/fuzz_<name>.c defines LLVMFuzzerTestOneInput.
# With BSW_FUZZ and clang they become libFuzzer binaries; otherwise they link
# the replay driver (replay.c), which runs each seed and a fixed number of
# deterministic mutants of it, so the seeds run under ctest with gcc too.
# Seeds: tests/fuzz/seeds/<name>/ (files we made) and tests/fuzz/<name>.seeds
# (one path per line, relative to ../shared/corpus; uncompressed files only).
file(GLOB BSW_FUZZ_SRC CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_*.c)
foreach(src ${BSW_FUZZ_SRC})
  get_filename_component(tname ${src} NAME_WE)
  string(REGEX REPLACE "^fuzz_" "" short ${tname})
  if(BSW_FUZZ)
    add_executable(${tname} ${src})
    target_compile_options(${tname} PRIVATE -fsanitize=fuzzer)
    target_link_options(${tname} PRIVATE -fsanitize=fuzzer)
  else()
    add_executable(${tname} ${src} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/replay.c)
  endif()
  target_link_libraries(${tname} PRIVATE bsw_core)
  set(seed_args ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/seeds/${short})
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/${short}.seeds)
    file(STRINGS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/${short}.seeds lines)
    foreach(l ${lines})
      if(NOT l MATCHES "^#" AND NOT l STREQUAL "")
        list(APPEND seed_args ${BSW_CORPUS}/${l})
      endif()
    endforeach()
  endif()
  if(NOT BSW_FUZZ)
    add_test(NAME ${tname} COMMAND ${tname} ${seed_args})
    set_tests_properties(${tname} PROPERTIES LABELS fuzz-regress TIMEOUT 300)
  endif()
endforeach()
