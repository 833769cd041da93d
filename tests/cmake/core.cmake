# Core: the read engine, the finding table, headers that compile alone.
bsw_unit_test(test_ring SOURCES ${BSW_TEST_DIR}/unit/test_ring.c)
bsw_unit_test(test_problem_table SOURCES ${BSW_TEST_DIR}/unit/test_problem_table.c)
bsw_unit_test(test_vec SOURCES ${BSW_TEST_DIR}/unit/test_vec.c)

# Every public header compiles on its own (hivex lib/test-just-header.c).
file(GLOB_RECURSE BSW_PUBLIC_HEADERS CONFIGURE_DEPENDS
     ${CMAKE_SOURCE_DIR}/scanner/*.h ${CMAKE_SOURCE_DIR}/formats/*.h)
list(FILTER BSW_PUBLIC_HEADERS EXCLUDE REGEX "_internal\\.h$|_disk\\.h$")
set(hdr_srcs)
foreach(h ${BSW_PUBLIC_HEADERS})
  file(RELATIVE_PATH rel ${CMAKE_SOURCE_DIR} ${h})
  string(MAKE_C_IDENTIFIER ${rel} id)
  set(c ${CMAKE_CURRENT_BINARY_DIR}/check_headers/${id}.c)
  file(CONFIGURE OUTPUT ${c} CONTENT "#include \"${rel}\"\n#include \"${rel}\"\nint bsw_hdr_${id};\n")
  list(APPEND hdr_srcs ${c})
endforeach()
add_library(check_headers OBJECT ${hdr_srcs})
target_link_libraries(check_headers PRIVATE PkgConfig::NTFS3G PkgConfig::HIVEX PkgConfig::URING PkgConfig::EXPAT PkgConfig::XXHASH)
# The results file: JSON string escaping round trip, whole lines only.
bsw_unit_test(test_out SOURCES ${BSW_TEST_DIR}/unit/test_out.c)
