#pragma once
// Which figures of a stored measurement identify its result and which describe the run that produced it. Two rows of
// one measurement key (same layer, configuration, engine, batch, host class) are the same result when every
// identifying figure agrees: cycles, errors, storage, the median times and the engine's own details (array
// utilization, resources, ISA). How fast a simulation ran or how long a synthesis took depends on the host's load and
// may differ between runs of one result: such fields never make a conflict.
#include <string>

namespace nmscope::store {

// True for a details_json key that describes the run, not the result (simulated_cycles_per_second, *_seconds).
bool is_run_description(const std::string& details_key);

// The first identifying difference between two details_json texts, as "details_json.utilization 0.5 vs 0.75";
// "" when they agree on every key that is not a run description. Text that is not JSON is compared as text.
std::string details_difference(const std::string& first, const std::string& second);

}  // namespace nmscope::store
