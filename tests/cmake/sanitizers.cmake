# BSW_SANITIZE (ASan + UBSan) and BSW_TSAN (options in the top
# CMakeLists.txt): the sanitizer on the scanner's libraries and, through
# their PUBLIC options, on everything that links them (bootsweep, unit
# tests, fuzz replays).  The image writers (mkfleet, mkimage, bsw_imgwrite)
# stay plain: instrumented, mkfleet took over 15 minutes for
# triage_threads' medium disk under either tier.  .ci/test --tier asan|tsan.
set(BSW_SAN_FLAGS)
if(BSW_SANITIZE)
  set(BSW_SAN_FLAGS -fsanitize=address,undefined -fno-omit-frame-pointer
      -fno-sanitize-recover=undefined)
  set(BSW_SAN_LINK -fsanitize=address,undefined)
elseif(BSW_TSAN)
  set(BSW_SAN_FLAGS -fsanitize=thread -fno-omit-frame-pointer)
  set(BSW_SAN_LINK -fsanitize=thread)
endif()
if(BSW_SAN_FLAGS)
  foreach(lib bsw_formats bsw_core)
    target_compile_options(${lib} PUBLIC ${BSW_SAN_FLAGS})
    target_link_options(${lib} PUBLIC ${BSW_SAN_LINK})
  endforeach()
endif()
