# Formatting: every C file under formats/ scanner/ datasets/ bench/ tests/
# equals clang-format's output with .clang-format (tests/scripts/
# format_check.sh; skips, 77, without clang-format).  Label style.
bsw_script_test(format_check ${CMAKE_CURRENT_SOURCE_DIR}/scripts/format_check.sh LABELS style)
set_tests_properties(format_check PROPERTIES TIMEOUT 300)
