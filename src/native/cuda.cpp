// torch.cuda's device queries. Synchronisation goes through ATen's CUDA hooks, present in every
// libtorch (a CPU-only one answers with its own "no CUDA" error). The caching allocator's statistics
// and cache live in c10_cuda, so they are compiled only against a CUDA libtorch (RT_WITH_CUDA, set by
// CMakeLists.txt); elsewhere there is no CUDA memory: 0 bytes, nothing to empty, as PyTorch reports
// before CUDA is initialised.
#include "shim.h"

#include <ATen/detail/CUDAHooksInterface.h>
#ifdef RT_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace {
#ifdef RT_WITH_CUDA
bool has_device(int device) {
  if (device < 0 || device >= at::detail::getCUDAHooks().getNumGPUs())
    throw std::invalid_argument("no CUDA device " + std::to_string(device));
  // An empty CUDA tensor initialises CUDA and its allocator (lazily, as PyTorch does on first use).
  at::empty({0}, at::TensorOptions().device(at::Device(at::DeviceType::CUDA, static_cast<c10::DeviceIndex>(device))));
  return true;
}
#endif
}  // namespace

RT_EXPORT int rt_cuda_synchronize(int device) {
  GUARD(-1, {
    at::detail::getCUDAHooks().deviceSynchronize(device);
    return 0;
  })
}

RT_EXPORT int rt_cuda_empty_cache() {
  GUARD(-1, {
#ifdef RT_WITH_CUDA
    if (at::detail::getCUDAHooks().getNumGPUs() > 0) c10::cuda::CUDACachingAllocator::emptyCache();
#endif
    return 0;
  })
}

// Bytes held by tensors on the device now (peak = 0) or at most since start (peak = 1); -1 on error.
RT_EXPORT int64_t rt_cuda_memory_allocated(int device, int peak) {
  GUARD(-1, {
#ifdef RT_WITH_CUDA
    if (has_device(device)) {
      auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device);
      const auto& aggregate = stats.allocated_bytes[0];  // StatType::AGGREGATE
      return peak ? aggregate.peak : aggregate.current;
    }
#endif
    if (device < 0) throw std::invalid_argument("no CUDA device " + std::to_string(device));
    return 0;
  })
}
