#pragma once
// A variant's speedup over its baseline as measured round by round (timing.hpp: time_interleaved), kept in its
// row's details as {"speedup": {"baseline", "median", "p10", "p90", "rounds"}}. Rows timed alone (engines that time
// themselves, databases from before interleaving) have none, and their speedup is the ratio of the two medians.
#include <optional>
#include <string>

#include "nmscope/measurement.hpp"
#include "nmscope/timing.hpp"

namespace nmscope {

// `details_json` with the ratio against `baseline` added.
std::string with_interleaved_speedup(const std::string& details_json, const std::string& baseline,
                                     const RatioStats& ratio);

// The ratio `row` records against `baseline`; nullopt when it records none, or one against another engine.
std::optional<RatioStats> interleaved_speedup(const Measurement& row, const std::string& baseline);

}  // namespace nmscope
