# Fuzz targets: every tests/fuzz/fuzz_<name>.c defines LLVMFuzzerTestOneInput.
# With BSW_FUZZ and clang they become libFuzzer binaries; otherwise they link
# the replay driver (replay.c), which runs each seed and a fixed number of
# deterministic mutants of it, so the seeds run under ctest with gcc too.
# Seeds: tests/fuzz/seeds/<name>/ (files we made) and tests/fuzz/<name>.seeds
# (one path per line, relative to ../shared/corpus; uncompressed files only).
#
# With BSW_FUZZ every project library is compiled with coverage
# instrumentation (-fsanitize=fuzzer-no-link) and ASan/UBSan, so libFuzzer
# sees the edges of the parsers and not only of the harness; the targets
# themselves get -fsanitize=fuzzer (libFuzzer's main).  The libraries carry
# the sanitizer link flags as INTERFACE options, so everything linking them
# (bootsweep, unit tests, mkfleet) links the ASan/UBSan runtimes.
# Replay (ctest) also runs the minimised campaign corpus in
# tests/fuzz/corpus/<name>/ (tests/fuzz/campaign.sh writes it).
set(BSW_FUZZ_SAN -fsanitize=address,undefined -fno-omit-frame-pointer
    -fno-sanitize-recover=undefined)
if(BSW_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "BSW_FUZZ needs clang (-DCMAKE_C_COMPILER=clang)")
  endif()
  # CRC loops: coverage there only slows every target down (each byte was
  # a traced comparison: 28% of a VHDX run in perf) and cannot guide the
  # fuzzer past a checksum.  ASan/UBSan stay on.
  set_source_files_properties(${CMAKE_SOURCE_DIR}/formats/common/crc.c
    DIRECTORY ${CMAKE_SOURCE_DIR}
    PROPERTIES COMPILE_OPTIONS "-fno-sanitize=fuzzer-no-link")
  foreach(lib bsw_formats bsw_core)
    target_compile_options(${lib} PRIVATE -fsanitize=fuzzer-no-link ${BSW_FUZZ_SAN})
    target_link_options(${lib} INTERFACE -fsanitize=address,undefined)
  endforeach()
endif()
file(GLOB BSW_FUZZ_SRC CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_*.c)
foreach(src ${BSW_FUZZ_SRC})
  get_filename_component(tname ${src} NAME_WE)
  string(REGEX REPLACE "^fuzz_" "" short ${tname})
  if(BSW_FUZZ)
    add_executable(${tname} ${src})
    target_compile_options(${tname} PRIVATE -fsanitize=fuzzer ${BSW_FUZZ_SAN})
    target_link_options(${tname} PRIVATE -fsanitize=fuzzer,address,undefined)
  else()
    add_executable(${tname} ${src} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/replay.c)
  endif()
  target_link_libraries(${tname} PRIVATE bsw_core)
  # (replay skips a missing directory, so a target without a corpus yet is fine)
  set(seed_args ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/seeds/${short}
      ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/${short})
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
