/* WinSxS checks (placeholder while being written). */
#include "scanner/checks/triage.h"
void bsw_check_sxs(struct bsw_tctx *t) {}
