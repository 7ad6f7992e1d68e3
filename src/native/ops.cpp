// Expands ops.def into one function per op and the name -> function table .NET looks ops up in.
#include "shim.h"

namespace rt {
namespace {
#define OP(name, ...) Out op_##name(const Args& a) __VA_ARGS__
#include "ops.def"
#undef OP

const OpEntry table[] = {
#define OP(name, ...) {#name, &op_##name},
#include "ops.def"
#undef OP
};
}  // namespace

const OpEntry* op_table() { return table; }
int op_count() { return static_cast<int>(sizeof(table) / sizeof(table[0])); }
}  // namespace rt
