// The C bridge over PCL. Each entry point runs its body inside `guarded`, which turns every C++
// exception into a status and a message, so nothing unwinds into Swift.
#include "boost_clang_compat.h"  // must precede every PCL header

#include "cpcl.h"
#include "field_values.h"
#include "file_check.h"
#include "ply_writer.h"
#include "segment.h"

#include <pcl/PCLPointCloud2.h>
#include <pcl/console/print.h>
#include <pcl/filters/farthest_point_sampling.h>
#include <pcl/filters/statistical_outlier_removal.h>
#include <pcl/filters/voxel_grid.h>
#include <pcl/io/pcd_io.h>
#include <pcl/io/ply_io.h>  // the reader; ply_writer.h has the writer
#include <pcl/point_types.h>

#include <Eigen/Eigenvalues>


#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

struct cpcl_cloud {
    pcl::PCLPointCloud2 blob;
};

namespace {

// PCL reports problems on stderr in its own words; pcdiag reports them in its own.
void silence_pcl() {
    static std::once_flag once;
    std::call_once(once, [] { pcl::console::setVerbosityLevel(pcl::console::L_ALWAYS); });
}

int fail(cpcl_error *error, int status, const std::string &message) {
    if (error) std::snprintf(error->message, sizeof error->message, "%s", message.c_str());
    return status;
}

template <typename Body> int guarded(cpcl_error *error, Body body) {
    try {
        silence_pcl();
        return body();
    } catch (const std::bad_alloc &) {
        return fail(error, CPCL_INTERNAL, "out of memory");
    } catch (const std::exception &e) {
        return fail(error, CPCL_INTERNAL, std::string("PCL failed: ") + e.what());
    } catch (...) {
        return fail(error, CPCL_INTERNAL, "PCL failed with an unknown exception");
    }
}

std::string lowercase_extension(const std::string &path) {
    const auto dot = path.find_last_of('.');
    const auto slash = path.find_last_of('/');
    if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
    std::string ext = path.substr(dot + 1);
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    return ext;
}

// Checks that field `index` lies inside every point record and the records inside the data.
std::string field_problem(const pcl::PCLPointCloud2 &blob, std::size_t index, std::size_t out_count) {
    if (index >= blob.fields.size()) return "no such field";
    const auto &f = blob.fields[index];
    const std::size_t size = cpcl_detail::datatype_size(f.datatype);
    if (size == 0) return "field '" + f.name + "' has an unsupported data type";
    const std::size_t n = std::size_t(blob.width) * blob.height;
    if (std::size_t(f.offset) + size * f.count > blob.point_step) return "field '" + f.name + "' lies outside its point record";
    if (blob.data.size() < n * blob.point_step) return "the point data is shorter than the header says";
    if (out_count != n * f.count) return "wrong output size for field '" + f.name + "'";
    return "";
}

int save_file(const std::string &path, const std::string &tmp, const pcl::PCLPointCloud2 &blob, cpcl_encoding encoding,
              cpcl_error *error) {
    const std::string ext = lowercase_extension(path);
    if (ext != "pcd" && ext != "ply") return fail(error, CPCL_INVALID, "unsupported output extension (use .pcd or .ply)");
    if (ext == "ply" && encoding == CPCL_BINARY_COMPRESSED)
        return fail(error, CPCL_INVALID, "PLY has no compressed encoding (use ascii or binary)");
    // Created here so that the kernel gives it the normal mode of a new file (0644 minus the umask);
    // PCL's writers would otherwise choose their own, which the rename would then carry to the output.
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return fail(error, CPCL_IO, std::string("cannot create a temporary file beside it (") + std::strerror(errno) + ")");
    struct stat created;
    const bool stated = ::fstat(fd, &created) == 0;
    ::close(fd);
    const Eigen::Vector4f origin = Eigen::Vector4f::Zero();
    const Eigen::Quaternionf orientation = Eigen::Quaternionf::Identity();
    const int float_digits = 9;  // enough for a float to read back bit-exact
    int rc;
    std::string problem = "could not write the file";
    if (ext == "pcd") {
        pcl::PCDWriter w;
        rc = encoding == CPCL_ASCII ? w.writeASCII(tmp, blob, origin, orientation, float_digits)
           : encoding == CPCL_BINARY ? w.writeBinary(tmp, blob, origin, orientation)
                                     : w.writeBinaryCompressed(tmp, blob, origin, orientation);
    } else {
        const std::string why = cpcl_detail::write_ply(tmp, blob, encoding == CPCL_BINARY);
        rc = why.empty() ? 0 : -1;
        if (!why.empty()) problem = why;
    }
    if (rc == 0 && stated && ::chmod(tmp.c_str(), created.st_mode & 07777) != 0) {
        rc = -1;
        problem = std::strerror(errno);
    }
    if (rc != 0) {
        std::remove(tmp.c_str());
        return fail(error, CPCL_IO, problem);
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        const std::string why = std::strerror(errno);
        std::remove(tmp.c_str());
        return fail(error, CPCL_IO, why);
    }
    return CPCL_OK;
}

pcl::PointCloud<pcl::PointXYZ>::Ptr xyz_cloud(const float *xyz, std::size_t n) {
    pcl::PointCloud<pcl::PointXYZ>::Ptr cloud(new pcl::PointCloud<pcl::PointXYZ>);
    cloud->resize(n);
    for (std::size_t i = 0; i < n; ++i) (*cloud)[i] = pcl::PointXYZ(xyz[3 * i], xyz[3 * i + 1], xyz[3 * i + 2]);
    cloud->is_dense = true;
    return cloud;
}

// The functions of the table below; only the table leaves the library.

cpcl_cloud *cpcl_cloud_create(uint32_t width, uint32_t height) {
    try {
        auto *c = new cpcl_cloud;
        c->blob.width = width;
        c->blob.height = height;
        c->blob.is_dense = false;
        return c;
    } catch (...) {
        return nullptr;
    }
}

void cpcl_cloud_free(cpcl_cloud *cloud) { delete cloud; }

uint32_t cpcl_cloud_width(const cpcl_cloud *cloud) { return cloud->blob.width; }
uint32_t cpcl_cloud_height(const cpcl_cloud *cloud) { return cloud->blob.height; }
size_t cpcl_cloud_field_count(const cpcl_cloud *cloud) { return cloud->blob.fields.size(); }

cpcl_field cpcl_cloud_field(const cpcl_cloud *cloud, size_t index) {
    cpcl_field out{};
    if (index >= cloud->blob.fields.size()) return out;
    const auto &f = cloud->blob.fields[index];
    std::snprintf(out.name, sizeof out.name, "%s", f.name.c_str());
    out.datatype = static_cast<cpcl_datatype>(f.datatype);
    out.count = f.count;
    return out;
}

int cpcl_cloud_copy_field_float(const cpcl_cloud *cloud, size_t index, float *out, size_t out_count, cpcl_error *error) {
    return guarded(error, [&] {
        const auto &b = cloud->blob;
        const std::string problem = field_problem(b, index, out_count);
        if (!problem.empty()) return fail(error, CPCL_INVALID, problem);
        const auto &f = b.fields[index];
        const std::size_t size = cpcl_detail::datatype_size(f.datatype), n = std::size_t(b.width) * b.height;
        for (std::size_t i = 0; i < n; ++i) {
            const std::uint8_t *record = b.data.data() + i * b.point_step + f.offset;
            for (std::size_t c = 0; c < f.count; ++c) out[i * f.count + c] = static_cast<float>(cpcl_detail::value_at(record + c * size, f.datatype));
        }
        return int(CPCL_OK);
    });
}

int cpcl_cloud_copy_field_u32(const cpcl_cloud *cloud, size_t index, uint32_t *out, size_t out_count, cpcl_error *error) {
    return guarded(error, [&] {
        const auto &b = cloud->blob;
        const std::string problem = field_problem(b, index, out_count);
        if (!problem.empty()) return fail(error, CPCL_INVALID, problem);
        const auto &f = b.fields[index];
        if (cpcl_detail::datatype_size(f.datatype) != 4) return fail(error, CPCL_INVALID, "field '" + f.name + "' is not 32-bit");
        const std::size_t n = std::size_t(b.width) * b.height;
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t c = 0; c < f.count; ++c)
                std::memcpy(&out[i * f.count + c], b.data.data() + i * b.point_step + f.offset + 4 * c, 4);
        return int(CPCL_OK);
    });
}

int cpcl_cloud_add_field(cpcl_cloud *cloud, const char *name, cpcl_datatype datatype, uint32_t count,
                         const void *values, cpcl_error *error) {
    return guarded(error, [&] {
        auto &b = cloud->blob;
        const std::size_t size = cpcl_detail::datatype_size(datatype);
        if (size == 0 || count == 0) return fail(error, CPCL_INVALID, "invalid field type or count");
        const std::size_t n = std::size_t(b.width) * b.height;
        const int existing = pcl::getFieldIndex(b, name);
        if (existing >= 0) {
            const auto &f = b.fields[existing];
            if (f.datatype != datatype || f.count != count)
                return fail(error, CPCL_INVALID, std::string("the file already has a field '") + name + "' of another type");
            for (std::size_t i = 0; i < n; ++i)
                std::memcpy(&b.data[i * b.point_step + f.offset], static_cast<const std::uint8_t *>(values) + i * size * count, size * count);
            return int(CPCL_OK);
        }
        const std::size_t old_step = b.point_step, add = size * count, new_step = old_step + add;
        // Re-pack the records with room for the new field at their end.
        std::vector<std::uint8_t> data(n * new_step);
        for (std::size_t i = 0; i < n; ++i) {
            if (old_step) std::memcpy(&data[i * new_step], &b.data[i * old_step], old_step);
            std::memcpy(&data[i * new_step + old_step], static_cast<const std::uint8_t *>(values) + i * add, add);
        }
        pcl::PCLPointField f;
        f.name = name;
        f.offset = static_cast<std::uint32_t>(old_step);
        f.datatype = static_cast<std::uint8_t>(datatype);
        f.count = count;
        b.fields.push_back(f);
        b.data.swap(data);
        b.point_step = static_cast<std::uint32_t>(new_step);
        b.row_step = static_cast<std::uint32_t>(new_step * b.width);
        return int(CPCL_OK);
    });
}

int cpcl_load(const char *path, cpcl_cloud **out, cpcl_encoding *encoding, cpcl_error *error) {
    *out = nullptr;
    return guarded(error, [&] {
        const std::string file(path);
        const std::string ext = lowercase_extension(file);
        if (ext != "pcd" && ext != "ply")
            return fail(error, CPCL_INVALID, "unsupported file type '." + ext + "' (pcdiag reads .pcd and .ply)");
        cpcl_detail::FileFacts facts;
        const auto format = ext == "pcd" ? cpcl_detail::Format::pcd : cpcl_detail::Format::ply;
        const std::string problem = cpcl_detail::check_file(file, format, facts);
        if (!problem.empty()) return fail(error, facts.unreadable ? CPCL_IO : CPCL_INVALID, problem);

        auto cloud = std::make_unique<cpcl_cloud>();
        Eigen::Vector4f origin;
        Eigen::Quaternionf orientation;
        int version = 0, rc;
        if (format == cpcl_detail::Format::pcd) {
            pcl::PCDReader reader;
            rc = reader.read(file, cloud->blob, origin, orientation, version);
        } else {
            pcl::PLYReader reader;
            rc = reader.read(file, cloud->blob, origin, orientation, version);
        }
        if (rc < 0) return fail(error, CPCL_INVALID, std::string("PCL could not parse the ") + (ext == "pcd" ? "PCD" : "PLY") + " data (corrupt or truncated)");
        const auto &b = cloud->blob;
        if (b.data.size() < std::size_t(b.width) * b.height * b.point_step)
            return fail(error, CPCL_INVALID, "the point data is shorter than the header says");
        *encoding = static_cast<cpcl_encoding>(facts.encoding);
        *out = cloud.release();
        return int(CPCL_OK);
    });
}

int cpcl_save(const char *path, const char *temporary, const cpcl_cloud *cloud, cpcl_encoding encoding, cpcl_error *error) {
    return guarded(error, [&] { return save_file(path, temporary, cloud->blob, encoding, error); });
}

int cpcl_voxel_grid(const cpcl_cloud *cloud, float leaf, cpcl_cloud **out, cpcl_error *error) {
    *out = nullptr;
    return guarded(error, [&] {
        if (!(leaf > 0) || !std::isfinite(leaf)) return fail(error, CPCL_INVALID, "the voxel size must be a positive number");
        pcl::PCLPointCloud2::Ptr input(new pcl::PCLPointCloud2(cloud->blob));
        // PCL silently returns the input when the voxel indices would overflow 32 bits: refuse instead.
        Eigen::Vector4f lo, hi;
        pcl::getMinMax3D(input, pcl::getFieldIndex(*input, "x"), pcl::getFieldIndex(*input, "y"),
                         pcl::getFieldIndex(*input, "z"), lo, hi);
        const double cells = (std::floor(double(hi[0] - lo[0]) / leaf) + 1) * (std::floor(double(hi[1] - lo[1]) / leaf) + 1) *
                             (std::floor(double(hi[2] - lo[2]) / leaf) + 1);
        if (!(cells < double(std::numeric_limits<std::int32_t>::max())))
            return fail(error, CPCL_INVALID, "the voxel size " + std::to_string(leaf) + " is too small for a cloud of this extent");
        auto result = std::make_unique<cpcl_cloud>();
        pcl::VoxelGrid<pcl::PCLPointCloud2> grid;
        grid.setInputCloud(input);
        grid.setLeafSize(leaf, leaf, leaf);
        grid.filter(result->blob);
        *out = result.release();
        return int(CPCL_OK);
    });
}

int cpcl_statistical_outlier_mask(const float *xyz, size_t n, int k, double stddev_mul, uint8_t *keep, cpcl_error *error) {
    return guarded(error, [&] {
        if (k < 1) return fail(error, CPCL_INVALID, "the outlier filter needs k ≥ 1 neighbours");
        std::fill(keep, keep + n, 0);
        pcl::StatisticalOutlierRemoval<pcl::PointXYZ> sor;
        sor.setInputCloud(xyz_cloud(xyz, n));
        sor.setMeanK(k);
        sor.setStddevMulThresh(stddev_mul);
        pcl::Indices kept;
        sor.filter(kept);
        for (auto i : kept) keep[i] = 1;
        return int(CPCL_OK);
    });
}

int cpcl_farthest_point_indices(const float *xyz, size_t n, size_t k, unsigned seed, int32_t *out, cpcl_error *error) {
    return guarded(error, [&] {
        if (k == 0 || k > n) return fail(error, CPCL_INVALID, "farthest point sampling needs 0 < k ≤ n");
        pcl::FarthestPointSampling<pcl::PointXYZ> fps;
        fps.setInputCloud(xyz_cloud(xyz, n));
        fps.setSample(static_cast<unsigned>(k));
        fps.setSeed(seed);
        pcl::Indices picked;
        fps.filter(picked);
        if (picked.size() != k) return fail(error, CPCL_INTERNAL, "farthest point sampling returned the wrong count");
        std::copy(picked.begin(), picked.end(), out);
        return int(CPCL_OK);
    });
}

int cpcl_segment(const float *xyz, size_t n, uint32_t width, uint32_t height, const cpcl_segment_parameters *parameters,
                 uint32_t *object, cpcl_segment_result *result, cpcl_error *error) {
    return guarded(error, [&] {
        const auto &p = *parameters;
        if (p.plane_distance <= 0 && !(p.plane_spacings > 0)) return fail(error, CPCL_INVALID, "the plane distance must be positive");
        if (p.cluster_distance <= 0 && !(p.cluster_spacings > 0)) return fail(error, CPCL_INVALID, "the cluster distance must be positive");
        if (!std::isfinite(p.plane_distance) || !std::isfinite(p.cluster_distance) || !std::isfinite(p.max_extent))
            return fail(error, CPCL_INVALID, "distances must be finite");
        if (n > std::size_t(std::numeric_limits<int>::max())) return fail(error, CPCL_INVALID, "too many points for PCL's 32-bit indices");
        *result = cpcl_detail::segment(xyz, n, width, height, p, object);
        return int(CPCL_OK);
    });
}

int cpcl_principal_box(const float *xyz, size_t n, float *axes, float *extents, float *centre, cpcl_error *error) {
    return guarded(error, [&] {
        if (n == 0) return fail(error, CPCL_INVALID, "a box needs at least one point");
        Eigen::Vector3d mean = Eigen::Vector3d::Zero();
        for (std::size_t i = 0; i < n; ++i) mean += Eigen::Vector3d(xyz[3 * i], xyz[3 * i + 1], xyz[3 * i + 2]);
        mean /= double(n);
        Eigen::Matrix3d cov = Eigen::Matrix3d::Zero();
        for (std::size_t i = 0; i < n; ++i) {
            const Eigen::Vector3d d = Eigen::Vector3d(xyz[3 * i], xyz[3 * i + 1], xyz[3 * i + 2]) - mean;
            cov += d * d.transpose();
        }
        const Eigen::SelfAdjointEigenSolver<Eigen::Matrix3d> solver(cov);
        // Eigen sorts eigenvalues ascending: the last column is the axis of greatest spread.
        Eigen::Matrix3d basis;
        for (int k = 0; k < 3; ++k) basis.col(k) = solver.eigenvectors().col(2 - k);
        Eigen::Vector3d lo = Eigen::Vector3d::Constant(INFINITY), hi = -lo;
        for (std::size_t i = 0; i < n; ++i) {
            const Eigen::Vector3d q = basis.transpose() * (Eigen::Vector3d(xyz[3 * i], xyz[3 * i + 1], xyz[3 * i + 2]) - mean);
            lo = lo.cwiseMin(q);
            hi = hi.cwiseMax(q);
        }
        const Eigen::Vector3d mid = mean + basis * ((lo + hi) / 2);
        for (int k = 0; k < 3; ++k) {
            for (int j = 0; j < 3; ++j) axes[3 * k + j] = float(basis(j, k));
            extents[k] = float(hi[k] - lo[k]);
            centre[k] = float(mid[k]);
        }
        return int(CPCL_OK);
    });
}

}  // namespace

extern "C" __attribute__((visibility("default"))) const cpcl_api *cpcl_api_table(void) {
    static const cpcl_api table = {
        CPCL_API_VERSION,
        cpcl_cloud_create, cpcl_cloud_free, cpcl_cloud_width, cpcl_cloud_height, cpcl_cloud_field_count, cpcl_cloud_field,
        cpcl_cloud_copy_field_float, cpcl_cloud_copy_field_u32, cpcl_cloud_add_field, cpcl_load, cpcl_save, cpcl_voxel_grid,
        cpcl_statistical_outlier_mask, cpcl_farthest_point_indices, cpcl_segment, cpcl_principal_box,
    };
    return &table;
}
