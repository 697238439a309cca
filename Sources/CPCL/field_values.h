// Reading one value of a PCLPointField, whatever its stored type: shared by the bridge and the PLY writer.
#pragma once
#include <pcl/PCLPointField.h>

#include <cstdint>
#include <cstring>

namespace cpcl_detail {

/// Bytes per value of a PCL field type; 0 for a type pcdiag does not read.
inline std::size_t datatype_size(std::uint8_t datatype) {
    switch (datatype) {
    case pcl::PCLPointField::BOOL: case pcl::PCLPointField::INT8: case pcl::PCLPointField::UINT8: return 1;
    case pcl::PCLPointField::INT16: case pcl::PCLPointField::UINT16: return 2;
    case pcl::PCLPointField::INT32: case pcl::PCLPointField::UINT32: case pcl::PCLPointField::FLOAT32: return 4;
    case pcl::PCLPointField::INT64: case pcl::PCLPointField::UINT64: case pcl::PCLPointField::FLOAT64: return 8;
    default: return 0;
    }
}

template <typename T> double load_as_double(const std::uint8_t *p) {
    T v;
    std::memcpy(&v, p, sizeof v);  // records are packed: no alignment to rely on
    return static_cast<double>(v);
}

/// The value at `p`, of PCL type `datatype` (one of those datatype_size knows), as a double.
inline double value_at(const std::uint8_t *p, std::uint8_t datatype) {
    switch (datatype) {
    case pcl::PCLPointField::BOOL: return load_as_double<std::uint8_t>(p);
    case pcl::PCLPointField::INT8: return load_as_double<std::int8_t>(p);
    case pcl::PCLPointField::UINT8: return load_as_double<std::uint8_t>(p);
    case pcl::PCLPointField::INT16: return load_as_double<std::int16_t>(p);
    case pcl::PCLPointField::UINT16: return load_as_double<std::uint16_t>(p);
    case pcl::PCLPointField::INT32: return load_as_double<std::int32_t>(p);
    case pcl::PCLPointField::UINT32: return load_as_double<std::uint32_t>(p);
    case pcl::PCLPointField::FLOAT32: return load_as_double<float>(p);
    case pcl::PCLPointField::INT64: return load_as_double<std::int64_t>(p);
    case pcl::PCLPointField::UINT64: return load_as_double<std::uint64_t>(p);
    default: return load_as_double<double>(p);
    }
}

}  // namespace cpcl_detail
