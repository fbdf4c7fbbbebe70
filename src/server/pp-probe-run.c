#define G_LOG_DOMAIN "pp-probe-run"

#include "config.h"

#include "pp-probe-run.h"
