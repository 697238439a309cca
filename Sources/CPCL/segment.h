// Scene segmentation (segment.cpp), behind cpcl_segment.
#ifndef CPCL_SEGMENT_H
#define CPCL_SEGMENT_H

#include "cpcl.h"

#include <cstddef>
#include <cstdint>

namespace cpcl_detail {

constexpr std::size_t kMaxSupports = CPCL_MAX_SUPPORTS;
using SegmentParameters = cpcl_segment_parameters;
using SegmentOutcome = cpcl_segment_result;

/// Fills `object` (n entries) with 0 for points that are no object and 1… for objects, largest first.
SegmentOutcome segment(const float *xyz, std::size_t n, std::uint32_t width, std::uint32_t height,
                       const SegmentParameters &p, std::uint32_t *object);

}  // namespace cpcl_detail

#endif
