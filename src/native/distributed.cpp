// c10d, libtorch's distributed engine, through the C ABI: stores (TCP, file), Gloo process groups and
// their collectives. Nothing here reimplements communication; every collective is c10d's own, and every
// failure (a timeout, a peer that died, a shape that differs between ranks) comes back as c10d's or
// Gloo's message through rt_last_error.
//
// The concrete process-group class is used directly (not the ProcessGroup/Backend base), because in
// libtorch 1.13 ProcessGroupGloo derives from ProcessGroup and in 2.x from Backend; its own methods have
// the same signatures in both.
#include "shim.h"

#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef RT_WITH_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif

#include <chrono>
#include <cstdlib>
#include <stdexcept>

namespace {
using StorePtr = c10::intrusive_ptr<c10d::Store>;
}  // namespace

// ---- stores --------------------------------------------------------------------------------------
// Rank 0 hosts the TCP store (is_server); the others connect to it, waiting up to timeout_ms.
RT_EXPORT StorePtr* rt_dist_tcp_store(const char* host, int port, int world_size, int is_server, int64_t timeout_ms) {
  GUARD(nullptr, {
    if (port <= 0 || port > 65535) throw std::invalid_argument("port must lie in 1..65535, got " + std::to_string(port));
    c10d::TCPStoreOptions opts;
    opts.port = static_cast<std::uint16_t>(port);
    opts.isServer = is_server != 0;
    opts.numWorkers = static_cast<std::size_t>(world_size);
    opts.waitWorkers = false;
    opts.timeout = std::chrono::milliseconds(timeout_ms);
    return new StorePtr(c10::make_intrusive<c10d::TCPStore>(std::string(host), opts));
  })
}
RT_EXPORT StorePtr* rt_dist_file_store(const char* path, int world_size) {
  GUARD(nullptr, { return new StorePtr(c10::make_intrusive<c10d::FileStore>(std::string(path), world_size)); })
}
RT_EXPORT void rt_dist_store_free(StorePtr* store) { delete store; }
RT_EXPORT int rt_dist_store_set(StorePtr* store, const char* key, const char* value) {
  GUARD(-1, {
    std::string v(value);
    (*store)->set(key, std::vector<uint8_t>(v.begin(), v.end()));
    return 0;
  })
}
// Returns the value of `key` (waiting for it up to the store's timeout) as a malloc'ed string.
RT_EXPORT char* rt_dist_store_get(StorePtr* store, const char* key) {
  GUARD(nullptr, {
    auto v = (*store)->get(key);
    return strdup(std::string(v.begin(), v.end()).c_str());
  })
}

#ifdef RT_WITH_GLOO
namespace {

using Gloo = c10d::ProcessGroupGloo;

struct Group {
  c10::intrusive_ptr<Gloo> pg;
  std::chrono::milliseconds timeout;
};

// Waits for a collective and rethrows its failure. Gloo applies the group's timeout to every
// operation, so a dead or silent peer ends the wait with Gloo's error rather than a hang.
template <typename WorkPtr>
void finish(const WorkPtr& work) {
  work->wait();
}

c10d::ReduceOp reduce_op(int op) {
  switch (op) {
    case 0: return c10d::ReduceOp::SUM;
    case 2: return c10d::ReduceOp::PRODUCT;
    case 3: return c10d::ReduceOp::MIN;
    case 4: return c10d::ReduceOp::MAX;
    default: throw std::invalid_argument("unsupported reduce op code " + std::to_string(op));
  }
}

std::vector<at::Tensor> tensors_of(const at::Tensor* const* ts, int n) {
  std::vector<at::Tensor> v;
  v.reserve(n);
  for (int i = 0; i < n; ++i) {
    if (ts[i] == nullptr) throw std::invalid_argument("null tensor in a collective's tensor list");
    v.push_back(*ts[i]);
  }
  return v;
}

// Gloo binds to one network device. GLOO_SOCKET_IFNAME picks an interface as in PyTorch; a loopback
// master means all ranks are on this machine, so bind to loopback (the host name may not resolve
// inside containers); otherwise Gloo resolves this machine's host name.
std::shared_ptr<::gloo::transport::Device> gloo_device(const std::string& master_host) {
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname)
    return Gloo::createDeviceForInterface(ifname);
  if (master_host == "localhost" || master_host.rfind("127.", 0) == 0)
    return Gloo::createDeviceForHostname("127.0.0.1");
  return Gloo::createDefaultDevice();
}

}  // namespace

// ---- process groups ------------------------------------------------------------------------------
// Joins a Gloo group of world_size ranks through the store (all ranks must call this). timeout_ms
// bounds the rendezvous and every collective of the group.
RT_EXPORT Group* rt_dist_gloo_group(StorePtr* store, int rank, int world_size, int64_t timeout_ms, const char* master_host) {
  GUARD(nullptr, {
    if (world_size < 1 || rank < 0 || rank >= world_size)
      throw std::invalid_argument("rank " + std::to_string(rank) + " is not in 0.." + std::to_string(world_size - 1));
    auto timeout = std::chrono::milliseconds(timeout_ms);
    auto opts = Gloo::Options::create(timeout);
    opts->devices.push_back(gloo_device(master_host));
    return new Group{c10::make_intrusive<Gloo>(*store, rank, world_size, opts), timeout};
  })
}
RT_EXPORT void rt_dist_group_free(Group* g) { delete g; }

// ---- collectives (blocking, in place as in torch.distributed) ----------------------------------
RT_EXPORT int rt_dist_all_reduce(Group* g, at::Tensor* t, int op) {
  GUARD(-1, {
    std::vector<at::Tensor> ts{*t};
    c10d::AllreduceOptions opts;
    opts.reduceOp = reduce_op(op);
    opts.timeout = g->timeout;
    finish(g->pg->allreduce(ts, opts));
    return 0;
  })
}
RT_EXPORT int rt_dist_broadcast(Group* g, at::Tensor* t, int root) {
  GUARD(-1, {
    std::vector<at::Tensor> ts{*t};
    c10d::BroadcastOptions opts;
    opts.rootRank = root;
    opts.timeout = g->timeout;
    finish(g->pg->broadcast(ts, opts));
    return 0;
  })
}
// outputs[r] receives rank r's input (n_outputs must equal the world size).
RT_EXPORT int rt_dist_all_gather(Group* g, const at::Tensor* const* outputs, int n_outputs, at::Tensor* input) {
  GUARD(-1, {
    std::vector<std::vector<at::Tensor>> outs{tensors_of(outputs, n_outputs)};
    std::vector<at::Tensor> ins{*input};
    c10d::AllgatherOptions opts;
    opts.timeout = g->timeout;
    finish(g->pg->allgather(outs, ins, opts));
    return 0;
  })
}
// output receives the reduction over ranks of every rank's inputs[rank of this process]. Gloo in
// libtorch 1.13 has no reduce_scatter ("ProcessGroupGloo does not support reduce_scatter"), so it is
// c10d's all-reduce of all the inputs stacked, of which each rank keeps its own part: the same result,
// at world_size times the traffic of a true reduce-scatter.
RT_EXPORT int rt_dist_reduce_scatter(Group* g, at::Tensor* output, const at::Tensor* const* inputs, int n_inputs, int op) {
  GUARD(-1, {
    auto ins = tensors_of(inputs, n_inputs);
    const int size = g->pg->getSize(), rank = g->pg->getRank();
    if (n_inputs != size)
      throw std::invalid_argument("reduce_scatter: expected " + std::to_string(size) + " input tensors (the world size), got " +
                                  std::to_string(n_inputs));
    for (const auto& t : ins)
      if (t.sizes() != output->sizes() || t.scalar_type() != output->scalar_type())
        throw std::invalid_argument("reduce_scatter: every input must have the output's shape and dtype");
    std::vector<at::Tensor> stacked{at::stack(ins)};
    c10d::AllreduceOptions opts;
    opts.reduceOp = reduce_op(op);
    opts.timeout = g->timeout;
    finish(g->pg->allreduce(stacked, opts));
    output->copy_(stacked[0][rank]);
    return 0;
  })
}
RT_EXPORT int rt_dist_barrier(Group* g) {
  GUARD(-1, {
    c10d::BarrierOptions opts;
    opts.timeout = g->timeout;
    finish(g->pg->barrier(opts));
    return 0;
  })
}

#else  // built without Gloo's headers: every process-group entry point reports it

namespace {
int no_gloo() {
  rt::set_error("torch.distributed is unavailable: the shim was built without Gloo's headers "
                "(install libgloo-dev, or set GLOO_INCLUDE_DIR, and rebuild src/native)");
  return -1;
}
}  // namespace
struct Group;
RT_EXPORT Group* rt_dist_gloo_group(StorePtr*, int, int, int64_t, const char*) { no_gloo(); return nullptr; }
RT_EXPORT void rt_dist_group_free(Group*) {}
RT_EXPORT int rt_dist_all_reduce(Group*, at::Tensor*, int) { return no_gloo(); }
RT_EXPORT int rt_dist_broadcast(Group*, at::Tensor*, int) { return no_gloo(); }
RT_EXPORT int rt_dist_all_gather(Group*, const at::Tensor* const*, int, at::Tensor*) { return no_gloo(); }
RT_EXPORT int rt_dist_reduce_scatter(Group*, at::Tensor*, const at::Tensor* const*, int, int) { return no_gloo(); }
RT_EXPORT int rt_dist_barrier(Group*) { return no_gloo(); }
#endif  // RT_WITH_GLOO
