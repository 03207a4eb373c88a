// diff(observed, desired): the ops that turn `observed` into `desired`, minimal and safely ordered.
//  - removed services are deleted first (the kernel drops their destinations with them: no dest ops);
//  - for kept services: edit the service in place, then delete, edit, add destinations;
//  - new services are added before their destinations.
// An unchanged service or destination yields no op. Pure.
#pragma once
#include <vector>

#include "kmod/Model.h"

namespace kmod {

std::vector<Op> diff(const TableState& observed, const TableState& desired);

// Applies ops to a TableState with the kernel's rules; returns false at the first op the kernel
// would refuse (used by the in-memory table and by tests).
bool applyOp(TableState& t, const Op& op, int* err);

}  // namespace kmod
