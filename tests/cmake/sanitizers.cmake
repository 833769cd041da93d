# BSW_TSAN (option in the top CMakeLists.txt): ThreadSanitizer on the
# scanner's libraries and, through their PUBLIC options, on everything that
# links them (bootsweep, unit tests, fuzz replays).  The image writers
# (mkfleet, mkimage: single-threaded, and making a medium disk took over
# 15 minutes instrumented) stay uninstrumented.  .ci/test --tier tsan.
if(BSW_TSAN)
  foreach(lib bsw_formats bsw_core)
    target_compile_options(${lib} PUBLIC -fsanitize=thread -fno-omit-frame-pointer)
    target_link_options(${lib} PUBLIC -fsanitize=thread)
  endforeach()
endif()
