// The figures of the admin console's SHOW DATABASES, STATS_TOTALS, POOLS, LISTS and CONFIG in
// Prometheus' text format, under the metric names the community PgBouncer exporter uses, so
// dashboards built for that exporter read sabakan's built-in endpoint unchanged.
#pragma once

#include <sabakan/session/pooler.hpp>

#include <string>

namespace sabakan::admin {

/// Every figure, as one text exposition (format 0.0.4). Reads all workers: call it with
/// the other workers stopped, as console commands are.
std::string prometheus_metrics(session::pooler& p);

}  // namespace sabakan::admin
