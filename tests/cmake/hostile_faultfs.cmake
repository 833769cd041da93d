# tests/hostile/faultfs.c: a read-only FUSE passthrough that injects EIO and
# short reads for the tests/hostile/eio_*.sh cases (built into
# ${CMAKE_BINARY_DIR}/tests/faultfs when libfuse3 is there; the cases skip
# without it).
pkg_check_modules(FUSE3 IMPORTED_TARGET fuse3)
if(FUSE3_FOUND)
  add_executable(faultfs ${CMAKE_CURRENT_SOURCE_DIR}/hostile/faultfs.c)
  target_link_libraries(faultfs PRIVATE PkgConfig::FUSE3)
  set_target_properties(faultfs PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
endif()
