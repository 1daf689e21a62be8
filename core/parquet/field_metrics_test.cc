#include "core/parquet/field_metrics.h"
