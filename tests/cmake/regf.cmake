# Registry hives (formats/regf, scanner/cmd_hive.c).
#
# formats/ report findings through bsw_report() (scanner/problem.c, in
# bsw_core), so a program that reaches a parser without pulling problem.o
# first (the fuzz targets) needs bsw_core again after bsw_formats: declare
# the cycle so that CMake repeats the archives on the link line.
target_link_libraries(bsw_formats INTERFACE bsw_core)

bsw_unit_test(test_regf SOURCES ${BSW_TEST_DIR}/unit/test_regf.c)
bsw_script_test(regf_corpus ${BSW_TEST_DIR}/regf/corpus.sh LABELS images)
bsw_script_test(regf_cli ${BSW_TEST_DIR}/regf/cli.sh LABELS images)
