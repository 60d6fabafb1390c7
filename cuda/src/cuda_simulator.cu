// SPDX-License-Identifier: Apache-2.0
#include "simkit/devices.hpp"

namespace simkit {

std::unique_ptr<Simulator> make_cuda_simulator(const SimConfig&) {
  if (!cuda_status().usable) throw ConfigError("device 'cuda' is not available: " + cuda_status().reason);
  throw ConfigError("device 'cuda': the CUDA simulator is not implemented in this build yet");
}

}  // namespace simkit
