# Rules, inventory and query (issue 16, docs/rules.md).
bsw_unit_test(test_rules SOURCES ${BSW_TEST_DIR}/unit/test_rules.c LIBS bsw_formats bsw_core)
bsw_script_test(rules_pack ${BSW_TEST_DIR}/rules/pack.sh LABELS images)
set_tests_properties(rules_pack PROPERTIES TIMEOUT 600)
bsw_script_test(rules_hostile ${BSW_TEST_DIR}/rules/hostile.sh LABELS unit)
set_tests_properties(rules_hostile PROPERTIES TIMEOUT 300)
