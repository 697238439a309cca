// A PLY writer for PCLPointCloud2.
//
// PCL 1.13's PLYWriter declares red/green/blue for a UINT32 `rgb` field but writes the packed word,
// and adds a range_grid element for organized clouds; files it writes that way do not read back.
// This writer emits vertices only: float properties, normals as nx/ny/nz, colours as uchar
// red/green/blue(/alpha), multi-component fields as name_0, name_1, …
#pragma once
#include <pcl/PCLPointCloud2.h>
#include <string>

namespace cpcl_detail {

/// Writes `blob` to `path`; returns an empty string on success, else the reason.
std::string write_ply(const std::string &path, const pcl::PCLPointCloud2 &blob, bool binary);

}  // namespace cpcl_detail
