/* libFuzzer target: VHD footer, dynamic header, BAT, bitmaps, locators. */
#define BSW_FUZZ_OPS bsw_vhd_ops
#include "cont_open_body.h"
