/* libFuzzer target: VHDX headers, region tables, log replay, metadata, BAT. */
#define BSW_FUZZ_OPS bsw_vhdx_ops
#include "cont_open_body.h"
