// The hand-written part of the C ABI: errors, handles, data transfer, autograd, generators,
// threads and process set-up. Tensor ops live in ops.def.
#include "shim.h"

#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/function.h>

#include <malloc.h>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace rt {
namespace {
thread_local std::string last_error;
std::atomic<int64_t> live_tensors{0};
}  // namespace

void set_error(const char* message) { last_error = message ? message : "unknown error"; }

at::Tensor* wrap(at::Tensor t) {
  live_tensors.fetch_add(1, std::memory_order_relaxed);
  return new at::Tensor(std::move(t));
}

const at::Tensor& Args::T(int k) const {
  if (k >= n_tensors || tensors[k] == nullptr)
    throw std::invalid_argument("op expects a tensor argument at position " + std::to_string(k));
  return *tensors[k];
}
c10::optional<at::Tensor> Args::OptT(int k) const {
  if (k >= n_tensors || tensors[k] == nullptr) return c10::nullopt;
  return *tensors[k];
}
std::vector<at::Tensor> Args::TensorsFrom(int k) const {
  std::vector<at::Tensor> v;
  for (int i = k; i < n_tensors; ++i) v.push_back(T(i));
  return v;
}
c10::List<c10::optional<at::Tensor>> Args::OptTensorsFrom(int k) const {
  c10::List<c10::optional<at::Tensor>> v;
  for (int i = k; i < n_tensors; ++i) v.push_back(OptT(i));
  return v;
}
int64_t Args::I(int k) const {
  if (k >= n_ints) throw std::invalid_argument("op expects an integer argument at position " + std::to_string(k));
  return ints[k];
}
double Args::R(int k) const {
  if (k >= n_reals) throw std::invalid_argument("op expects a real argument at position " + std::to_string(k));
  return reals[k];
}
c10::optional<at::Scalar> Args::OptS(int k) const {
  double r = R(k);
  if (std::isnan(r)) return c10::nullopt;
  return at::Scalar(r);
}
at::IntArrayRef Args::IntsFrom(int k) const {
  if (k > n_ints) throw std::invalid_argument("op expects integer arguments from position " + std::to_string(k));
  return at::IntArrayRef(ints + k, n_ints - k);
}
at::IntArrayRef Args::Ints(int k, int count) const {
  if (k + count > n_ints) throw std::invalid_argument("op expects " + std::to_string(count) + " integers at position " + std::to_string(k));
  return at::IntArrayRef(ints + k, count);
}
at::Device device_of(int64_t type, int64_t index) {
  // The device types .NET names (Research.Torch.DeviceType); anything else is an error, not the CPU.
  if (type != 0 && type != 1 && type != 14) throw std::invalid_argument("unsupported device type code " + std::to_string(type));
  auto t = static_cast<at::DeviceType>(type);
  return t == at::kCUDA ? at::Device(t, static_cast<c10::DeviceIndex>(index)) : at::Device(t);
}
at::TensorOptions Args::Options(int k) const {
  return at::TensorOptions().dtype(static_cast<at::ScalarType>(I(k))).device(device_of(I(k + 1), I(k + 2)));
}
c10::optional<at::Generator> Args::Gen() const {
  if (generator == nullptr) return c10::nullopt;
  return *generator;
}
}  // namespace rt

using rt::set_error;

RT_EXPORT const char* rt_last_error() { return rt::last_error.c_str(); }
RT_EXPORT int64_t rt_live_tensors() { return rt::live_tensors.load(); }

// ---- process set-up ------------------------------------------------------------------------------
// Called once when .NET loads the library. glibc's defaults return freed tensor buffers to the
// kernel and fault them in again on the next step (about 10 us a page on these VMs, thousands of
// faults per training step); keeping freed memory in the heap avoids that (DESIGN.md).
RT_EXPORT int rt_init(int num_threads, int keep_freed_memory) {
  GUARD(-1, {
    if (keep_freed_memory) {
      // A MALLOC_*_ variable the user set (glibc applied it at start-up) wins over our default, so the
      // benchmark's "tuned" configuration gives both sides the same allocator settings.
      auto unset = [](const char* name) { const char* v = std::getenv(name); return v == nullptr || *v == 0; };
      if (unset("MALLOC_MMAP_MAX_")) mallopt(M_MMAP_MAX, 0);
      if (unset("MALLOC_TRIM_THRESHOLD_")) mallopt(M_TRIM_THRESHOLD, 1 << 30);
      // No large M_TOP_PAD: with a 64 MiB pad, small aligned allocations (every tensor's data) carve fresh
      // pieces off the huge top chunk while their freed fragments wait in the fast bins, so each op touched
      // new memory (a 2x2 add: +47 MB of heap RSS over a million calls, a fifth of its time in malloc and
      // page faults). glibc's 128 KiB pad consolidates them back every 128 KiB.
    }
    if (num_threads > 0) at::set_num_threads(num_threads);
    return 0;
  })
}
RT_EXPORT int rt_set_num_threads(int n) { GUARD(-1, { at::set_num_threads(n); return 0; }) }
RT_EXPORT int rt_get_num_threads() { GUARD(-1, { return at::get_num_threads(); }) }
RT_EXPORT int rt_cuda_device_count() { GUARD(0, { return at::detail::getCUDAHooks().getNumGPUs(); }) }
RT_EXPORT int rt_manual_seed(uint64_t seed) { GUARD(-1, { at::manual_seed(seed); return 0; }) }
RT_EXPORT int rt_grad_enabled() { return at::GradMode::is_enabled() ? 1 : 0; }
RT_EXPORT void rt_set_grad_enabled(int enabled) { at::GradMode::set_enabled(enabled != 0); }

// ---- ops -----------------------------------------------------------------------------------------
RT_EXPORT int rt_op_count() { return rt::op_count(); }
RT_EXPORT const char* rt_op_name(int id) {
  return id >= 0 && id < rt::op_count() ? rt::op_table()[id].name : nullptr;
}

// Calls op `id`. Writes up to `max_out` result handles to `out` and returns how many the op
// produced (more than max_out is an error unless max_out is 0, which discards the results: in-place
// ops), or -1 on error.
RT_EXPORT int rt_call(int id, const at::Tensor* const* tensors, int n_tensors, const int64_t* ints, int n_ints,
                      const double* reals, int n_reals, at::Generator* generator, at::Tensor** out, int max_out) {
  GUARD(-1, {
    if (id < 0 || id >= rt::op_count()) throw std::invalid_argument("unknown op id " + std::to_string(id));
    rt::Args args{tensors, n_tensors, ints, n_ints, reals, n_reals, generator};
    rt::Out result = rt::op_table()[id].fn(args);
    if (max_out == 0) return 0;
    if (!result.is_many) {
      out[0] = rt::wrap(std::move(result.one));
      return 1;
    }
    int n = static_cast<int>(result.many.size());
    if (n > max_out)
      throw std::invalid_argument(std::string("op ") + rt::op_table()[id].name + " returned " + std::to_string(n) +
                                  " tensors, more than the " + std::to_string(max_out) + " expected");
    for (int i = 0; i < n; ++i) out[i] = rt::wrap(std::move(result.many[i]));
    return n;
  })
}

// ---- handles and metadata ------------------------------------------------------------------------
RT_EXPORT void rt_free(at::Tensor* t) {
  if (t == nullptr) return;
  delete t;
  rt::live_tensors.fetch_sub(1, std::memory_order_relaxed);
}
RT_EXPORT int rt_dim(const at::Tensor* t) { return static_cast<int>(t->dim()); }
RT_EXPORT void rt_sizes(const at::Tensor* t, int64_t* out) {
  auto s = t->sizes();
  std::copy(s.begin(), s.end(), out);
}
RT_EXPORT int64_t rt_numel(const at::Tensor* t) { return t->numel(); }
RT_EXPORT int64_t rt_nbytes(const at::Tensor* t) { return t->defined() ? static_cast<int64_t>(t->nbytes()) : 0; }
RT_EXPORT int rt_dtype(const at::Tensor* t) { return static_cast<int>(t->scalar_type()); }
RT_EXPORT int rt_device_type(const at::Tensor* t) { return static_cast<int>(t->device().type()); }
RT_EXPORT int rt_device_index(const at::Tensor* t) { return t->device().has_index() ? t->device().index() : 0; }
RT_EXPORT int rt_requires_grad(const at::Tensor* t) { return t->requires_grad() ? 1 : 0; }
RT_EXPORT int rt_is_leaf(const at::Tensor* t) { return t->is_leaf() ? 1 : 0; }
RT_EXPORT int rt_set_requires_grad(at::Tensor* t, int value) {
  GUARD(-1, { t->set_requires_grad(value != 0); return 0; })
}
// The name of the autograd node that produced the tensor ("AddBackward0"), empty for a leaf.
RT_EXPORT char* rt_grad_fn_name(const at::Tensor* t) {
  GUARD(nullptr, {
    auto fn = t->grad_fn();
    return strdup(fn ? fn->name().c_str() : "");
  })
}
RT_EXPORT void rt_free_string(char* s) { free(s); }

// ---- data transfer -------------------------------------------------------------------------------
// Copies `data` (host memory, dtype `dtype`, C order) into a new tensor on the given device.
RT_EXPORT at::Tensor* rt_from_data(const void* data, const int64_t* sizes, int ndim, int dtype, int device_type,
                                   int device_index) {
  GUARD(nullptr, {
    auto st = static_cast<at::ScalarType>(dtype);
    at::Tensor host = at::empty(at::IntArrayRef(sizes, ndim), at::TensorOptions().dtype(st));
    if (host.nbytes() > 0) std::memcpy(host.data_ptr(), data, host.nbytes());
    auto device = rt::device_of(device_type, device_index);
    if (device != host.device()) host = host.to(device);
    return rt::wrap(std::move(host));
  })
}
// Copies the tensor's elements (C order) to host memory of exactly `nbytes` bytes.
RT_EXPORT int rt_copy_to(const at::Tensor* t, void* dst, int64_t nbytes) {
  GUARD(-1, {
    at::Tensor host = t->detach().to(at::kCPU).contiguous();
    if (static_cast<int64_t>(host.nbytes()) != nbytes)
      throw std::invalid_argument("destination holds " + std::to_string(nbytes) + " bytes, tensor has " +
                                  std::to_string(host.nbytes()));
    if (nbytes > 0) std::memcpy(dst, host.data_ptr(), nbytes);
    return 0;
  })
}
RT_EXPORT int rt_item(const at::Tensor* t, double* out) {
  GUARD(-1, { *out = t->item().toDouble(); return 0; })
}
// The value as an integer, exact for int64 beyond 2^53 (through a double it would round).
RT_EXPORT int rt_item_int64(const at::Tensor* t, int64_t* out) {
  GUARD(-1, { *out = t->item().toLong(); return 0; })
}

// ---- autograd ------------------------------------------------------------------------------------
// Writes the gradient to *out and returns 1, or returns 0 when there is none (-1 on error).
RT_EXPORT int rt_grad(const at::Tensor* t, at::Tensor** out) {
  GUARD(-1, {
    const at::Tensor& g = t->grad();
    if (!g.defined()) return 0;
    *out = rt::wrap(g);
    return 1;
  })
}
RT_EXPORT int rt_set_grad(at::Tensor* t, const at::Tensor* grad) {
  GUARD(-1, {
    if (grad == nullptr) t->mutable_grad().reset();
    else t->mutable_grad() = *grad;
    return 0;
  })
}
RT_EXPORT int rt_retain_grad(at::Tensor* t) { GUARD(-1, { t->retain_grad(); return 0; }) }
RT_EXPORT int rt_backward(const at::Tensor* t, const at::Tensor* gradient, int retain_graph, int create_graph) {
  GUARD(-1, {
    at::Tensor g = gradient ? *gradient : at::Tensor();
    t->backward(g, c10::optional<bool>(retain_graph != 0), create_graph != 0);
    return 0;
  })
}
// torch.autograd.grad: writes one handle per input (null where unused and allow_unused).
RT_EXPORT int rt_autograd_grad(const at::Tensor* const* outputs, int n_outputs, const at::Tensor* const* inputs,
                               int n_inputs, const at::Tensor* const* grad_outputs, int retain_graph,
                               int create_graph, int allow_unused, at::Tensor** out) {
  GUARD(-1, {
    std::vector<at::Tensor> outs, ins, gos;
    for (int i = 0; i < n_outputs; ++i) outs.push_back(*outputs[i]);
    for (int i = 0; i < n_inputs; ++i) ins.push_back(*inputs[i]);
    if (grad_outputs)
      for (int i = 0; i < n_outputs; ++i) gos.push_back(grad_outputs[i] ? *grad_outputs[i] : at::Tensor());
    auto grads = torch::autograd::grad(outs, ins, gos, c10::optional<bool>(retain_graph != 0), create_graph != 0,
                                       allow_unused != 0);
    for (int i = 0; i < n_inputs; ++i) out[i] = grads[i].defined() ? rt::wrap(grads[i]) : nullptr;
    return 0;
  })
}

// ---- generators ----------------------------------------------------------------------------------
// A generator of its own for the given device, seeded; samplers and data loaders take one so that
// runs are reproducible regardless of what else draws random numbers.
RT_EXPORT at::Generator* rt_generator_new(uint64_t seed, int device_type, int device_index) {
  GUARD(nullptr, {
    auto device = rt::device_of(device_type, device_index);
    auto* g = new at::Generator(at::globalContext().defaultGenerator(device).clone());
    g->set_current_seed(seed);
    return g;
  })
}
RT_EXPORT at::Generator* rt_default_generator() {
  GUARD(nullptr, { return new at::Generator(at::globalContext().defaultGenerator(at::Device(at::kCPU))); })
}
RT_EXPORT void rt_generator_free(at::Generator* g) { delete g; }
RT_EXPORT at::Tensor* rt_generator_get_state(at::Generator* g) {
  GUARD(nullptr, {
    std::lock_guard<std::mutex> lock(g->mutex());
    return rt::wrap(g->get_state());
  })
}
RT_EXPORT int rt_generator_set_state(at::Generator* g, const at::Tensor* state) {
  GUARD(-1, {
    std::lock_guard<std::mutex> lock(g->mutex());
    g->set_state(*state);
    return 0;
  })
}
