# Sweeps in parts (scan --shard, merge; issue 12): plans and merge on one
# machine, the Kubernetes manifests and their index rule, and a real
# one-machine Slurm cluster (munged, slurmctld, slurmd) running the array.
bsw_script_test(shard_plan ${BSW_TEST_DIR}/shard/plan.sh LABELS shard)
bsw_script_test(shard_k8s ${BSW_TEST_DIR}/shard/k8s.sh LABELS shard)
bsw_script_test(shard_slurm ${BSW_TEST_DIR}/shard/slurm.sh LABELS shard)
set_tests_properties(shard_plan shard_k8s shard_slurm PROPERTIES TIMEOUT 240)
