/* Boot-path checks (placeholder while being written). */
#include "scanner/checks/triage.h"
void bsw_check_boot(struct bsw_tctx *t) {}
