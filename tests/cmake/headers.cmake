# tests/headers/: every public header under formats/ and scanner/ compiles
# on its own and twice (hivex lib/test-just-header.c), warnings as errors;
# *_internal.h and *_disk.h are private to their module and left out.  The
# translation units are made from tests/headers/just_header.c.in into the
# build dir and built with everything else (a broken header breaks the
# build); the ctest headers_alone builds them again so the suite reports
# it, and headers_layering checks that formats/ includes nothing from
# scanner/ or datasets/.
file(GLOB_RECURSE BSW_PUBLIC_HEADERS CONFIGURE_DEPENDS
     ${CMAKE_SOURCE_DIR}/scanner/*.h ${CMAKE_SOURCE_DIR}/formats/*.h)
list(FILTER BSW_PUBLIC_HEADERS EXCLUDE REGEX "_internal\\.h$|_disk\\.h$")
set(hdr_srcs)
foreach(h ${BSW_PUBLIC_HEADERS})
  file(RELATIVE_PATH BSW_HDR ${CMAKE_SOURCE_DIR} ${h})
  string(MAKE_C_IDENTIFIER ${BSW_HDR} BSW_HDR_ID)
  set(c ${CMAKE_CURRENT_BINARY_DIR}/headers/${BSW_HDR_ID}.c)
  configure_file(${CMAKE_CURRENT_SOURCE_DIR}/headers/just_header.c.in ${c} @ONLY)
  list(APPEND hdr_srcs ${c})
endforeach()
add_library(check_headers OBJECT ${hdr_srcs})
target_compile_options(check_headers PRIVATE -Werror -Wmissing-prototypes -Wstrict-prototypes)
target_link_libraries(check_headers PRIVATE PkgConfig::NTFS3G PkgConfig::HIVEX PkgConfig::URING
                      PkgConfig::EXPAT PkgConfig::XXHASH PkgConfig::YAML)
add_test(NAME headers_alone
         COMMAND ${CMAKE_COMMAND} --build ${CMAKE_BINARY_DIR} --target check_headers)
set_tests_properties(headers_alone PROPERTIES LABELS unit)
bsw_script_test(headers_layering ${CMAKE_CURRENT_SOURCE_DIR}/headers/layering.sh LABELS unit)
