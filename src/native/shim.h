// Shared declarations of the C ABI shim. Every exported function catches every C++ exception,
// stores its message in a thread-local buffer (rt_last_error) and reports failure by its return
// value, so no C++ exception ever crosses into .NET.
#pragma once
#include <ATen/ATen.h>
#include <cstdint>
#include <string>
#include <vector>

#define RT_EXPORT extern "C" __attribute__((visibility("default")))

// Runs `body`; on any C++ exception records libtorch's message (without its C++ backtrace) and
// returns `fail`.
#define GUARD(fail, ...)                                      \
  try {                                                        \
    __VA_ARGS__                                                \
  } catch (const c10::Error& e) {                              \
    rt::set_error(e.what_without_backtrace());                 \
    return fail;                                               \
  } catch (const std::exception& e) {                          \
    rt::set_error(e.what());                                   \
    return fail;                                               \
  } catch (...) {                                              \
    rt::set_error("unknown C++ exception");                    \
    return fail;                                               \
  }

namespace rt {

void set_error(const char* message);

// The device .NET names by (type code, index): 0 cpu, 1 cuda, 14 meta (c10::DeviceType values).
at::Device device_of(int64_t type, int64_t index);

// Wraps a tensor in a heap handle owned by .NET (freed by rt_free).
at::Tensor* wrap(at::Tensor t);

// The arguments of one generic op call: tensors, integers and reals in the order the op's line in
// ops.def reads them. Accessors check bounds, so a wrong call is an error, never an overread.
struct Args {
  const at::Tensor* const* tensors; int n_tensors;
  const int64_t* ints; int n_ints;
  const double* reals; int n_reals;
  at::Generator* generator;  // may be null: the default generator is used

  const at::Tensor& T(int k) const;
  c10::optional<at::Tensor> OptT(int k) const;  // absent when k >= n_tensors
  std::vector<at::Tensor> TensorsFrom(int k) const;
  c10::List<c10::optional<at::Tensor>> OptTensorsFrom(int k) const;  // null entries are absent (PyTorch's None)
  int64_t I(int k) const;
  bool B(int k) const { return I(k) != 0; }
  double R(int k) const;
  c10::optional<at::Scalar> OptS(int k) const;  // NaN means "not given"
  at::IntArrayRef IntsFrom(int k) const;
  at::IntArrayRef Ints(int k, int count) const;
  // ints k, k+1, k+2 = dtype code (c10::ScalarType value), device type (0 cpu, 1 cuda, 14 meta), device index
  at::TensorOptions Options(int k) const;
  c10::optional<at::Generator> Gen() const;
  // A generator draws on its own device (libtorch's kernels accept only a generator of the tensor's
  // device). Drawn(device, draw) calls draw(d) with d the generator's device and moves the result to
  // `device`: a CPU generator gives the same numbers whether they land on the CPU, CUDA or meta.
  template <typename F>
  at::Tensor Drawn(at::Device device, F draw) const {
    if (generator == nullptr || generator->device() == device) return draw(device);
    return draw(generator->device()).to(device);
  }
  // The same for an in-place draw into t: drawn into a twin on the generator's device, then copied.
  template <typename F>
  at::Tensor DrawnInto(const at::Tensor& t, F draw) const {
    if (generator == nullptr || generator->device() == t.device()) return draw(t);
    at::Tensor twin = at::empty_like(t, t.options().device(generator->device()));
    draw(twin);
    return t.copy_(twin);
  }
};

// What an op returns: one tensor, several, or nothing (in-place ops whose result .NET ignores).
struct Out {
  at::Tensor one;
  std::vector<at::Tensor> many;
  bool is_many = false;
  Out() = default;
  Out(at::Tensor t) : one(std::move(t)) {}
  Out(std::vector<at::Tensor> v) : many(std::move(v)), is_many(true) {}
  Out(std::tuple<at::Tensor, at::Tensor> p) : many{std::get<0>(p), std::get<1>(p)}, is_many(true) {}
};

using OpFn = Out (*)(const Args&);
struct OpEntry { const char* name; OpFn fn; };
const OpEntry* op_table();
int op_count();

}  // namespace rt
