#define G_LOG_DOMAIN "pp-monitor"

#include "config.h"

#include "pp-monitor.h"
