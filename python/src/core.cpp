// SPDX-License-Identifier: Apache-2.0
// simkit._core: a thin binding. numpy buffers owned by the Python side are passed to the engine as raw
// pointers (no copies); the GIL is released while the engine works; ConfigError becomes ValueError.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstring>

#include "simkit/devices.hpp"
#include "simkit/planner.hpp"
#include "simkit/qlearning.hpp"
#include "simkit/shard.hpp"
#include "simkit/system_info.hpp"
#include "simkit/throughput.hpp"

namespace py = pybind11;
using namespace simkit;

namespace {

py::dict env_info_dict(const EnvInfo& i) {
  py::dict d;
  d["id"] = i.id;
  d["precision"] = to_string(i.precision);
  d["obs_dim"] = i.obs_dim;
  d["obs_shape"] = i.obs_shape;
  d["obs_dtype"] = i.obs_dtype;
  d["obs_low"] = i.obs_low;
  d["obs_high"] = i.obs_high;
  d["discrete"] = i.discrete;
  d["num_actions"] = i.num_actions;
  d["action_low"] = i.action_low;
  d["action_high"] = i.action_high;
  d["max_episode_steps"] = i.max_episode_steps;
  d["state_fields"] = i.state_fields;
  d["param_names"] = i.param_names;
  d["param_defaults"] = i.param_defaults;
  d["info_fields"] = i.info_fields;
  d["info_dtypes"] = i.info_dtypes;
  d["env_bytes"] = i.env_bytes;
  d["num_agents"] = i.num_agents;
  d["max_agents"] = i.max_agents;
  return d;
}

py::dict stats_dict(const RolloutStats& s) {
  py::dict d;
  d["steps"] = s.steps;
  d["episodes"] = s.episodes.episodes;
  d["mean_episode_length"] = s.mean_episode_length();
  d["mean_episode_return"] = s.mean_episode_return();
  // What simkit.distributed.reduce_stats needs to merge ranks exactly: the integer sums and the return
  // sum as exact non-overlapping partials (math.fsum of every rank's partials is the exact total,
  // rounded once) plus the sum of any inf/NaN returns.
  d["length_sum"] = s.episodes.length_sum;
  d["return_sum"] = s.episodes.return_sum;
  d["return_partials"] = s.returns().partials();
  d["return_special"] = s.returns().special();
  d["mean_agents_alive"] = s.mean_agents_alive();
  return d;
}

// Whether Ctrl-C (or another signal handler) raised in Python; called with the GIL released, between
// the pieces of a long engine call, which then stops and lets the exception through.
bool python_signal_pending() {
  py::gil_scoped_acquire gil;
  return PyErr_CheckSignals() != 0;
}

// Batch steps per piece of a long rollout or training call: about 2^24 env steps and at most 2^14
// batch steps (tens of milliseconds for fast envs). A count rather than a time, so that the results
// do not depend on how fast the machine is.
uint64_t piece_steps(int64_t num_envs) {
  return std::clamp<uint64_t>((uint64_t{1} << 24) / static_cast<uint64_t>(num_envs), 1, uint64_t{1} << 14);
}

// The caller (python/simkit/vector.py) allocates every buffer with the right shape and dtype; these
// checks only guard the C++ side against a misuse of the private module.
template <class T>
T* data_of(py::array& a, size_t expected_bytes, const char* name) {
  if (!(a.flags() & py::array::c_style) || static_cast<size_t>(a.nbytes()) != expected_bytes) {
    throw std::invalid_argument(std::string(name) + ": expected a C-contiguous array of " +
                                std::to_string(expected_bytes) + " bytes, got " + std::to_string(a.nbytes()));
  }
  return static_cast<T*>(a.mutable_data());
}


// ---- DLPack (https://dmlc.github.io/dlpack/latest/c_api.html), the v0.x and v1.x ABIs, declared here
// because no Debian or PyPI package ships dlpack.h for C++ builds.
constexpr int32_t kDLCPU = 1;
constexpr int32_t kDLCUDA = 2;
struct DLDevice {
  int32_t device_type;  // kDLCPU, kDLCUDA
  int32_t device_id;
};
struct DLDataType {
  uint8_t code;  // 0 int, 1 uint, 2 float, 6 bool
  uint8_t bits;
  uint16_t lanes;
};
struct DLTensor {
  void* data;
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t* shape;
  int64_t* strides;
  uint64_t byte_offset;
};
struct DLManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(DLManagedTensor*);
};
struct DLPackVersion {
  uint32_t major;
  uint32_t minor;
};
struct DLManagedTensorVersioned {
  DLPackVersion version;
  void* manager_ctx;
  void (*deleter)(DLManagedTensorVersioned*);
  uint64_t flags;
  DLTensor dl_tensor;
};

[[noreturn]] void throw_buffer_error(const std::string& message) {
  PyErr_SetString(PyExc_BufferError, message.c_str());
  throw py::error_already_set();
}

// A buffer exported through the array API's __dlpack__: consumers (torch.from_dlpack,
// jax.dlpack.from_dlpack, cupy, numpy.from_dlpack for host buffers) read it in place. It keeps its
// owner (the env, or a host array) alive while any export lives; a simulator's device buffers are
// overwritten by its next step.
class DeviceArray {
 public:
  DeviceArray(py::object owner, const Simulator* sim, void* data, DLDevice device, DLDataType dtype,
              std::vector<int64_t> shape)
      : owner_(std::move(owner)), sim_(sim), data_(data), device_(device), dtype_(dtype), shape_(std::move(shape)) {}

  // The same export over a C-contiguous host array: the protocol's checks without a GPU.
  static DeviceArray over_host(const py::array& a) {
    if (!(a.flags() & py::array::c_style)) throw ConfigError("array: expected a C-contiguous array");
    const char kind = a.dtype().kind();
    const uint8_t code = kind == 'f' ? 2 : kind == 'i' ? 0 : kind == 'u' ? 1 : kind == 'b' ? 6 : 255;
    if (code == 255) throw ConfigError("array: dtype kind '" + std::string(1, kind) + "' has no DLPack code here");
    std::vector<int64_t> shape(a.shape(), a.shape() + a.ndim());
    return DeviceArray(a, nullptr, const_cast<void*>(a.data()), {kDLCPU, 0},
                       {code, static_cast<uint8_t>(a.itemsize() * 8), 1}, std::move(shape));
  }

  py::tuple dlpack_device() const { return py::make_tuple(device_.device_type, device_.device_id); }

  // __dlpack__(stream=None, max_version=None, dl_device=None, copy=None), as the array API standard
  // (2023.12) specifies it for a producer that exports in place and never copies.
  py::capsule dlpack(const py::object& stream, const py::object& max_version, const py::object& dl_device,
                     const py::object& copy) const {
    if (!dl_device.is_none()) {
      const py::tuple want = dl_device.cast<py::tuple>();
      if (want.size() != 2 || want[0].cast<int32_t>() != device_.device_type ||
          want[1].cast<int32_t>() != device_.device_id) {
        throw_buffer_error("dl_device: this array lives on (" + std::to_string(device_.device_type) + ", " +
                           std::to_string(device_.device_id) + ") and simkit does not copy it to another device");
      }
    }
    if (!copy.is_none() && copy.cast<bool>()) {
      throw_buffer_error("copy=True: simkit exports its buffers in place only (pass copy=None or False)");
    }
    synchronize_consumer(stream);
    const bool versioned = !max_version.is_none() && max_version.cast<py::tuple>()[0].cast<int>() >= 1;
    auto* ctx = new Context{owner_, shape_};
    const DLTensor tensor{data_, device_, static_cast<int32_t>(ctx->shape.size()), dtype_, ctx->shape.data(),
                          nullptr, 0};
    if (versioned) {
      auto* t = new DLManagedTensorVersioned{{1, 0}, ctx, nullptr, 0, tensor};
      t->deleter = [](DLManagedTensorVersioned* self) { release<DLManagedTensorVersioned>(self); };
      return py::capsule(t, "dltensor_versioned", [](PyObject* capsule) {
        if (PyCapsule_IsValid(capsule, "dltensor_versioned")) {
          auto* self = static_cast<DLManagedTensorVersioned*>(PyCapsule_GetPointer(capsule, "dltensor_versioned"));
          self->deleter(self);
        }
      });
    }
    auto* t = new DLManagedTensor{tensor, ctx, nullptr};
    t->deleter = [](DLManagedTensor* self) { release<DLManagedTensor>(self); };
    // A capsule the consumer renames to "used_dltensor"; if nobody consumed it, free it here.
    return py::capsule(t, "dltensor", [](PyObject* capsule) {
      if (PyCapsule_IsValid(capsule, "dltensor")) {
        auto* self = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule, "dltensor"));
        self->deleter(self);
      }
    });
  }

 private:
  struct Context {
    py::object owner;
    std::vector<int64_t> shape;
  };
  template <class T>
  static void release(T* self) {
    py::gil_scoped_acquire gil;
    delete static_cast<Context*>(self->manager_ctx);
    delete self;
  }

  // stream: host arrays take None only. CUDA: None is the legacy default stream (1), 2 the per-thread
  // default stream, another integer a cudaStream_t; -1 asks for no synchronization; 0 is ambiguous
  // and refused. The consumer's stream then waits for the kernel that wrote this buffer.
  void synchronize_consumer(const py::object& stream) const {
    if (device_.device_type == kDLCPU) {
      if (!stream.is_none()) {
        throw ConfigError("stream: must be None for a host array (got " + py::str(stream).cast<std::string>() + ")");
      }
      return;
    }
    const int64_t s = stream.is_none() ? 1 : stream.cast<int64_t>();
    if (s == 0) {
      throw ConfigError("stream: 0 is ambiguous for CUDA; pass None or 1 (legacy default), 2 (per-thread default) "
                        "or a stream handle");
    }
    if (s < -1) throw ConfigError("stream: expected -1, None or a CUDA stream handle (got " + std::to_string(s) + ")");
    if (s != -1) sim_->make_stream_wait(static_cast<uintptr_t>(s));
  }

  py::object owner_;
  const Simulator* sim_;  // kept alive by owner_; null for host arrays
  void* data_;
  DLDevice device_;
  DLDataType dtype_;
  std::vector<int64_t> shape_;
};

class PySimulator {
 public:
  PySimulator(const std::string& env_id, int64_t num_envs, const std::string& device, const std::string& precision,
              uint64_t seed, int threads, int64_t max_episode_steps, const std::map<std::string, double>& params,
              const std::string& autoreset, bool copy, int64_t env_offset, int64_t total_envs)
      : total_envs_(total_envs > 0 ? total_envs : num_envs) {
    if (env_offset < 0 || env_offset + num_envs > total_envs_ || total_envs_ >= kMaxEnvs) {
      throw ConfigError("env_offset: envs [" + std::to_string(env_offset) + ", " + std::to_string(env_offset + num_envs) +
                        ") must lie in [0, total_envs=" + std::to_string(total_envs_) + " < 2^32)");
    }
    SimConfig c;
    c.env_id = env_id;
    c.num_envs = num_envs;
    c.env_offset = env_offset;
    c.precision = parse_precision(precision);
    c.seed = seed;
    c.threads = threads;
    c.max_episode_steps = max_episode_steps;
    c.params = params;
    c.autoreset = parse_autoreset(autoreset);
    check_env_id(env_id);
    if (num_envs <= 0) throw ConfigError("num_envs must be at least 1 (got " + std::to_string(num_envs) + ")");
    const Device d = resolve_device(parse_device(device), cpu::resolve_threads(threads));
    MemoryRequest req;
    req.env = describe_env(env_id, c.precision, params);
    req.num_envs = num_envs;
    req.free_bytes = free_bytes(d);
    // The host bytes of the engine (CPU) and of vector.py's buffers, copies and spaces; on CUDA also
    // the device buffers and their pinned staging twins. One batch: every env stays resident.
    req.mode = OutputMode::kStepApi;
    req.device = d;
    if (d == Device::kCuda) req.host_free_bytes = host_free_bytes();
    req.autoreset = c.autoreset;
    req.step_copies = copy;
    const MemoryPlan plan = plan_memory(req);
    if (!plan.fits()) throw ConfigError("num_envs=" + std::to_string(num_envs) + ": " + describe_shortfall(req, plan));
    sim_ = make_simulator(c, d);
    device_ = d;
  }

  py::dict info() const { return env_info_dict(sim_->info()); }
  std::string device() const { return to_string(device_); }
  std::string device_name() const { return sim_->device_name(); }
  std::string simd_target() const { return sim_->simd_target(); }
  int64_t num_envs() const { return sim_->config().num_envs; }

  void reset(const std::vector<uint64_t>& seeds, std::optional<py::array> mask, py::array obs,
             std::optional<py::array> info) {
    const EnvInfo& i = sim_->info();
    const int64_t n = num_envs();
    void* o = data_of<void>(obs, static_cast<size_t>(n) * static_cast<size_t>(i.num_agents) * i.obs_bytes, "obs");
    const uint8_t* m = mask ? data_of<uint8_t>(*mask, static_cast<size_t>(n), "mask") : nullptr;
    double* in = info ? data_of<double>(*info, static_cast<size_t>(n) * i.info_fields.size() * sizeof(double), "info")
                      : nullptr;
    py::gil_scoped_release release;
    sim_->reset(seeds, m, o, in);
  }

  void step(py::array actions, py::array obs, py::array reward, py::array terminated, py::array truncated,
            std::optional<py::array> final_obs, std::optional<py::array> has_final, std::optional<py::array> info,
            std::optional<py::array> final_info) {
    const EnvInfo& i = sim_->info();
    const size_t n = static_cast<size_t>(num_envs());
    const size_t rows = n * static_cast<size_t>(i.num_agents);  // batch-major: env * num_agents + agent
    StepBuffers b;
    const void* a = data_of<void>(actions, rows * i.action_bytes, "actions");
    b.obs = data_of<void>(obs, rows * i.obs_bytes, "obs");
    b.reward = data_of<void>(reward, rows * i.reward_bytes, "reward");
    b.terminated = data_of<uint8_t>(terminated, rows, "terminated");
    b.truncated = data_of<uint8_t>(truncated, rows, "truncated");
    if (final_obs) b.final_obs = data_of<void>(*final_obs, rows * i.obs_bytes, "final_obs");
    if (has_final) b.has_final = data_of<uint8_t>(*has_final, rows, "has_final");
    if (info) b.info = data_of<double>(*info, n * i.info_fields.size() * sizeof(double), "info");
    if (final_info) b.final_info = data_of<double>(*final_info, n * i.info_fields.size() * sizeof(double), "final_info");
    py::gil_scoped_release release;
    sim_->step(a, b);
  }

  // In pieces of whole chunks, checking for Ctrl-C between them. The pieces follow the envs of every
  // process (total_envs), so a rank's slice is cut where one process would cut it and the statistics
  // agree bit for bit.
  py::dict rollout(uint64_t steps, int chunk) {
    const uint64_t piece = std::max<uint64_t>(1, piece_steps(total_envs_) / chunk) * static_cast<uint64_t>(chunk);
    RolloutStats s;
    {
      py::gil_scoped_release release;
      for (uint64_t done = 0; done < steps; done += piece) {
        s.merge(sim_->rollout(std::min(piece, steps - done), chunk));
        if (python_signal_pending()) break;
      }
    }
    if (PyErr_Occurred()) throw py::error_already_set();
    return stats_dict(s);
  }

  void set_params(const std::map<std::string, double>& params) { sim_->set_params(params); }

  // DeviceArrays over the device outputs a kernel has written (obs after a reset, all four after a
  // step); empty on the CPU backend.
  py::dict device_outputs(py::object self) const {
    const DeviceOutputs d = sim_->device_outputs();
    py::dict out;
    if (!d.obs) return out;
    const EnvInfo& i = sim_->info();
    const int64_t n = num_envs();
    const DLDataType obs_type = i.obs_dtype == "float32" ? DLDataType{2, 32, 1} : DLDataType{0, 8, 1};
    const DLDataType reward_type{2, static_cast<uint8_t>(i.reward_bytes * 8), 1};
    const DLDataType flag_type{6, 8, 1};
    const DLDevice device{kDLCUDA, d.device_id};
    out["obs"] = DeviceArray(self, sim_.get(), d.obs, device, obs_type, {n, i.obs_dim});
    if (d.reward) {
      out["reward"] = DeviceArray(self, sim_.get(), d.reward, device, reward_type, {n});
      out["terminated"] = DeviceArray(self, sim_.get(), d.terminated, device, flag_type, {n});
      out["truncated"] = DeviceArray(self, sim_.get(), d.truncated, device, flag_type, {n});
    }
    return out;
  }

  py::array_t<double> get_state() const {
    const size_t fields = sim_->info().state_fields.size();
    py::array_t<double> out({static_cast<size_t>(num_envs()), fields});
    sim_->get_state(out.mutable_data());
    return out;
  }
  void set_state(const py::array_t<double, py::array::c_style | py::array::forcecast>& in) {
    const size_t fields = sim_->info().state_fields.size();
    if (in.ndim() != 2 || in.shape(0) != num_envs() || static_cast<size_t>(in.shape(1)) != fields) {
      throw ConfigError("state: expected shape (" + std::to_string(num_envs()) + ", " + std::to_string(fields) + ")");
    }
    sim_->set_state(in.data());
  }
  py::array_t<uint32_t> get_elapsed() const {
    py::array_t<uint32_t> out(static_cast<size_t>(num_envs()));
    sim_->get_elapsed(out.mutable_data());
    return out;
  }
  void set_elapsed(const py::array_t<uint32_t, py::array::c_style | py::array::forcecast>& in) {
    if (in.ndim() != 1 || in.shape(0) != num_envs()) {
      throw ConfigError("elapsed: expected shape (" + std::to_string(num_envs()) + ",)");
    }
    sim_->set_elapsed(in.data());
  }

 private:
  int64_t total_envs_;
  std::unique_ptr<Simulator> sim_;
  Device device_ = Device::kCpu;
};

py::dict throughput_py(const std::string& env_id, int64_t num_envs, int chunk, uint64_t steps, double seconds,
                       const std::string& device, const std::string& precision, int threads, uint64_t seed,
                       uint64_t warmup, int repeat) {
  ThroughputSpec spec;
  spec.env_id = env_id;
  spec.num_envs = num_envs;
  spec.chunk = chunk;
  spec.steps = steps;
  spec.seconds = seconds;
  spec.precision = parse_precision(precision);
  spec.threads = threads;
  spec.seed = seed;
  spec.warmup = warmup;
  spec.repeat = repeat;
  spec.device = resolve_device(parse_device(device), cpu::resolve_threads(threads));
  ThroughputResult r;
  try {
    py::gil_scoped_release release;
    r = measure_throughput(spec, [](const ThroughputProgress&) { return !python_signal_pending(); });
  } catch (const Interrupted&) {
    throw py::error_already_set();  // the KeyboardInterrupt that stopped it
  }
  py::dict d;
  const auto columns = throughput_columns();
  const auto row = throughput_row(r);
  for (size_t k = 0; k < columns.size(); ++k) d[py::str(columns[k])] = row[k];
  d["steps_per_s"] = r.steps_per_second;
  d["best_steps_per_s"] = r.best_steps_per_second;
  d["seconds"] = r.seconds;
  d["env_steps"] = r.env_steps;
  d["mean_episode_length"] = r.stats.mean_episode_length();
  d["mean_episode_return"] = r.stats.mean_episode_return();
  return d;
}

py::dict memory_plan_py(const std::string& env_id, int64_t num_envs, int chunk, const std::string& mode,
                        const std::string& device, const std::string& precision, std::optional<uint64_t> free) {
  if (mode != "statistics" && mode != "trajectory" && mode != "step_api") {
    throw ConfigError("mode must be 'statistics', 'trajectory' or 'step_api' (got '" + mode + "')");
  }
  ThroughputSpec spec;
  spec.env_id = env_id;
  spec.precision = parse_precision(precision);
  spec.num_envs = num_envs;
  spec.chunk = chunk;
  spec.device = resolve_device(parse_device(device), cpu::resolve_threads(0));
  MemoryRequest req = memory_request(spec, mode == "trajectory" ? OutputMode::kTrajectory
                                           : mode == "step_api" ? OutputMode::kStepApi
                                                                : OutputMode::kStatistics);
  if (free) req.free_bytes = *free;
  req.python_arrays = true;  // step_api: what make_vec's VectorEnv holds
  const Device d = spec.device;
  const MemoryPlan p = plan_memory(req);
  py::dict out;
  out["device"] = to_string(d);
  out["per_env_bytes"] = p.per_env_bytes;
  out["fixed_bytes"] = p.fixed_bytes;
  out["needed_bytes"] = p.needed_bytes;
  out["free_bytes"] = req.free_bytes;
  out["usable_bytes"] = p.usable_bytes;
  out["host_per_env_bytes"] = p.host_per_env_bytes;
  out["host_needed_bytes"] = p.host_needed_bytes;
  out["host_free_bytes"] = req.host_free_bytes;
  out["host_usable_bytes"] = p.host_usable_bytes;
  out["batch_envs"] = p.batch_envs;
  out["num_batches"] = p.num_batches;
  out["fits"] = p.fits();
  out["message"] = p.fits() ? std::string() : describe_shortfall(req, p);
  return out;
}

py::list devices_py() {
  py::list out;
  py::dict cpu;
  cpu["kind"] = "cpu";
  cpu["name"] = cpu_model();
  cpu["threads"] = cpu::resolve_threads(0);
  cpu["free_bytes"] = host_free_bytes();
  out.append(cpu);
  const CudaStatus& s = cuda_status();
  for (const auto& d : s.devices) {
    py::dict g;
    g["kind"] = "cuda";
    g["index"] = d.index;
    g["name"] = d.name;
    g["compute_capability"] = std::to_string(d.cc_major) + "." + std::to_string(d.cc_minor);
    g["sm_count"] = d.sm_count;
    g["total_bytes"] = d.total_bytes;
    g["free_bytes"] = d.free_bytes;
    g["driver_version"] = s.driver_version;
    g["runtime_version"] = s.runtime_version;
    out.append(g);
  }
  return out;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "simkit engine (private; use the simkit package)";
  m.def("env_ids", &env_ids);
  m.def("describe_env", [](const std::string& id, const std::string& precision,
                           const std::map<std::string, double>& params) {
    return env_info_dict(describe_env(id, parse_precision(precision), params));
  }, py::arg("env_id"), py::arg("precision"), py::arg("params") = std::map<std::string, double>{});
  m.def("check_env_id", &check_env_id);
  m.def("devices", &devices_py);
  m.def("cuda_status", [] {
    const CudaStatus& s = cuda_status();
    py::dict d;
    d["compiled"] = s.compiled;
    d["usable"] = s.usable;
    d["reason"] = s.reason;
    return d;
  });
  m.def("throughput", &throughput_py, py::arg("env_id"), py::arg("num_envs"), py::arg("chunk"), py::arg("steps"),
        py::arg("seconds"), py::arg("device"), py::arg("precision"), py::arg("threads"), py::arg("seed"),
        py::arg("warmup"), py::arg("repeat"));
  m.def("memory_plan", &memory_plan_py, py::arg("env_id"), py::arg("num_envs"), py::arg("chunk"), py::arg("mode"),
        py::arg("device"), py::arg("precision"), py::arg("free_bytes") = py::none());
  m.def("version", &simkit_version);
  m.def("simd_targets", &available_simd_targets);
  m.def("selected_simd_target", &selected_simd_target);
  m.attr("MAX_THREADS") = cpu::kMaxThreads;
  m.attr("MAX_ENVS") = kMaxEnvs - 1;
  m.attr("MAX_CHUNK") = kMaxChunk;
  m.attr("MAX_REPEAT") = kMaxRepeat;
  m.attr("SHARD_ALIGN") = kShardAlign;
  m.def("shard_envs", [](int64_t total, int rank, int ranks) {
    const Shard s = shard_envs(total, rank, ranks);
    return py::make_tuple(s.offset, s.count);
  }, py::arg("total_envs"), py::arg("rank"), py::arg("ranks"));

  namespace ql = simkit::qlearning;
  py::class_<ql::Trainer>(m, "QTrainer")
      .def(py::init([](int64_t num_envs, uint64_t seed, int threads, float gamma, float alpha, float alpha_decay,
                       float alpha_min, float epsilon, float epsilon_decay, float epsilon_min) {
             ql::Config c;
             c.num_envs = num_envs;
             c.seed = seed;
             c.threads = threads;
             c.gamma = gamma;
             c.alpha = alpha;
             c.alpha_decay = alpha_decay;
             c.alpha_min = alpha_min;
             c.epsilon = epsilon;
             c.epsilon_decay = epsilon_decay;
             c.epsilon_min = epsilon_min;
             return ql::Trainer(c);
           }),
           py::arg("num_envs"), py::arg("seed"), py::arg("threads"), py::arg("gamma"), py::arg("alpha"),
           py::arg("alpha_decay"), py::arg("alpha_min"), py::arg("epsilon"), py::arg("epsilon_decay"),
           py::arg("epsilon_min"))
      .def("train", [](ql::Trainer& t, uint64_t rounds) {  // in pieces, checking for Ctrl-C between them
        const uint64_t piece = piece_steps(t.num_envs());
        {
          py::gil_scoped_release release;
          for (uint64_t done = 0; done < rounds; done += piece) {
            t.train(std::min(piece, rounds - done));
            if (python_signal_pending()) break;
          }
        }
        if (PyErr_Occurred()) throw py::error_already_set();
      })
      .def("evaluate", [](const ql::Trainer& t, int64_t games, uint64_t seed) {
        ql::Evaluation e;
        {
          py::gil_scoped_release release;
          e = t.evaluate(games, seed);
        }
        py::dict d;
        d["games"] = e.games;
        d["win_rate"] = e.win_rate();
        d["draw_rate"] = e.draw_rate();
        d["loss_rate"] = e.loss_rate();
        return d;
      })
      .def_property_readonly("rounds", &ql::Trainer::rounds)
      .def_property_readonly("env_steps", &ql::Trainer::env_steps)
      .def_property_readonly("epsilon", &ql::Trainer::epsilon)
      .def_property_readonly("alpha", &ql::Trainer::alpha)
      .def("table", [](const ql::Trainer& t) {
        const auto& q = t.table();
        py::array_t<float> out({static_cast<size_t>(ql::kStates), static_cast<size_t>(ql::kActions)});
        std::copy(q.begin(), q.end(), out.mutable_data());
        return out;
      })
      .def("set_table", [](ql::Trainer& t, const py::array_t<float, py::array::c_style | py::array::forcecast>& q) {
        if (q.ndim() != 2 || q.shape(0) != ql::kStates || q.shape(1) != ql::kActions) {
          throw ConfigError("table must have shape (" + std::to_string(ql::kStates) + ", " +
                            std::to_string(ql::kActions) + ")");
        }
        t.set_table(std::vector<float>(q.data(), q.data() + q.size()));
      });
  m.def("git_commit", &git_commit);
  py::class_<DeviceArray>(m, "DeviceArray")
      .def_static("over_host", &DeviceArray::over_host, py::arg("array"))
      .def("__dlpack__", &DeviceArray::dlpack, py::kw_only(), py::arg("stream") = py::none(),
           py::arg("max_version") = py::none(), py::arg("dl_device") = py::none(), py::arg("copy") = py::none())
      .def("__dlpack_device__", &DeviceArray::dlpack_device);
  py::class_<PySimulator>(m, "Simulator")
      .def(py::init<const std::string&, int64_t, const std::string&, const std::string&, uint64_t, int, int64_t,
                    const std::map<std::string, double>&, const std::string&, bool, int64_t, int64_t>(),
           py::arg("env_id"), py::arg("num_envs"), py::arg("device"), py::arg("precision"), py::arg("seed"),
           py::arg("threads"), py::arg("max_episode_steps"), py::arg("params"), py::arg("autoreset"), py::arg("copy"),
           py::arg("env_offset") = 0, py::arg("total_envs") = 0)
      .def_property_readonly("info", &PySimulator::info)
      .def_property_readonly("device", &PySimulator::device)
      .def_property_readonly("device_name", &PySimulator::device_name)
      .def_property_readonly("simd_target", &PySimulator::simd_target)
      .def_property_readonly("num_envs", &PySimulator::num_envs)
      .def("reset", &PySimulator::reset, py::arg("seeds"), py::arg("mask"), py::arg("obs"), py::arg("info") = py::none())
      .def("step", &PySimulator::step, py::arg("actions"), py::arg("obs"), py::arg("reward"), py::arg("terminated"),
           py::arg("truncated"), py::arg("final_obs"), py::arg("has_final"), py::arg("info"),
           py::arg("final_info") = py::none())
      .def("rollout", &PySimulator::rollout, py::arg("steps"), py::arg("chunk"))
      .def("set_params", &PySimulator::set_params)
      .def("device_outputs", [](py::object self) { return self.cast<const PySimulator&>().device_outputs(self); })
      .def("get_state", &PySimulator::get_state)
      .def("set_state", &PySimulator::set_state)
      .def("get_elapsed", &PySimulator::get_elapsed)
      .def("set_elapsed", &PySimulator::set_elapsed);
}
