# Registry hives (formats/regf, scanner/cmd_hive.c).
bsw_unit_test(test_regf SOURCES ${BSW_TEST_DIR}/unit/test_regf.c)
bsw_script_test(regf_corpus ${BSW_TEST_DIR}/regf/corpus.sh LABELS images)
bsw_script_test(regf_cli ${BSW_TEST_DIR}/regf/cli.sh LABELS images)
