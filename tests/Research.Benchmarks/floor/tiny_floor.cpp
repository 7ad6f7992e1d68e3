// libtorch's own floor for the tiny cases: `a + b` and `a * b + c` on 2x2 float32 tensors called from C++ directly,
// with the same iteration counts and statistic (median of repeats of the mean per call) as Cases.Tiny and reference.py.
// Usage: tiny_floor [threads] [quick]  -> one JSON line per op, in microseconds.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

template <class F>
static double median_us(F&& once, int iterations, int repeats) {
  for (int i = 0; i < 20000; ++i) once();
  std::vector<double> times;
  for (int r = 0; r < repeats; ++r) {
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < iterations; ++i) once();
    std::chrono::duration<double, std::micro> elapsed = std::chrono::steady_clock::now() - start;
    times.push_back(elapsed.count() / iterations);
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

int main(int argc, char** argv) {
  if (argc > 1 && std::atoi(argv[1]) > 0) at::set_num_threads(std::atoi(argv[1]));
  bool quick = argc > 2 && std::strcmp(argv[2], "quick") == 0;
  int iterations = quick ? 50000 : 200000, repeats = quick ? 3 : 5;
  at::Tensor a = at::rand({2, 2}), b = at::rand({2, 2}), c = at::rand({2, 2});
  double add = median_us([&] { at::Tensor r = a + b; }, iterations, repeats);
  double mul_add = median_us([&] { at::Tensor p = a * b; at::Tensor r = p + c; }, iterations, repeats);
  std::printf("{\"name\":\"tiny_add_2x2/cpp_floor\",\"value\":%.4f,\"unit\":\"us\"}\n", add);
  std::printf("{\"name\":\"tiny_mul_add_2x2/cpp_floor\",\"value\":%.4f,\"unit\":\"us\"}\n", mul_add);
  return 0;
}
