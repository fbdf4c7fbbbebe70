#define G_LOG_DOMAIN "pp-store"

#include "config.h"

#include "pp-store.h"
