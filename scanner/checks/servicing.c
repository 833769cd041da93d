/* Servicing checks (placeholder while being written). */
#include "scanner/checks/triage.h"
void bsw_check_servicing(struct bsw_tctx *t) {}
