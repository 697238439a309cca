#include "ply_writer.h"

#include "field_values.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

namespace cpcl_detail {
namespace {

struct Property {
    std::string name;
    const pcl::PCLPointField *field;
    std::uint32_t component;
    bool color;  // one channel of a packed rgb/rgba word: component is the byte's shift
};

std::vector<Property> properties(const pcl::PCLPointCloud2 &blob) {
    std::vector<Property> out;
    for (const auto &f : blob.fields) {
        if (f.name == "_" || datatype_size(f.datatype) == 0) continue;
        if ((f.name == "rgb" || f.name == "rgba") && f.count == 1 && datatype_size(f.datatype) == 4) {
            out.push_back({"red", &f, 16, true});
            out.push_back({"green", &f, 8, true});
            out.push_back({"blue", &f, 0, true});
            if (f.name == "rgba") out.push_back({"alpha", &f, 24, true});
            continue;
        }
        std::string name = f.name == "normal_x" ? "nx" : f.name == "normal_y" ? "ny" : f.name == "normal_z" ? "nz" : f.name;
        for (std::uint32_t c = 0; c < f.count; ++c)
            out.push_back({f.count == 1 ? name : name + "_" + std::to_string(c), &f, c, false});
    }
    return out;
}

}  // namespace

std::string write_ply(const std::string &path, const pcl::PCLPointCloud2 &blob, bool binary) {
    const std::size_t n = std::size_t(blob.width) * blob.height;
    if (blob.data.size() < n * blob.point_step) return "the point data is shorter than the cloud's size";
    const auto props = properties(blob);
    std::FILE *file = std::fopen(path.c_str(), "wb");
    if (!file) return std::strerror(errno);
    std::string header = std::string("ply\nformat ") + (binary ? "binary_little_endian" : "ascii") +
                         " 1.0\ncomment written by pcdiag\nelement vertex " + std::to_string(n) + "\n";
    for (const auto &p : props) header += std::string("property ") + (p.color ? "uchar " : "float ") + p.name + "\n";
    header += "end_header\n";
    bool ok = std::fwrite(header.data(), 1, header.size(), file) == header.size();
    std::vector<std::uint8_t> record;
    char text[64];
    for (std::size_t i = 0; ok && i < n; ++i) {
        const std::uint8_t *point = blob.data.data() + i * blob.point_step;
        record.clear();
        for (std::size_t k = 0; k < props.size(); ++k) {
            const auto &p = props[k];
            const std::uint8_t *at = point + p.field->offset;
            if (p.color) {
                std::uint32_t word;
                std::memcpy(&word, at, 4);
                const std::uint8_t byte = std::uint8_t(word >> p.component);
                if (binary) record.push_back(byte);
                else record.insert(record.end(), text, text + std::snprintf(text, sizeof text, "%s%u", k ? " " : "", byte));
            } else {
                const float v = float(value_at(at + p.component * datatype_size(p.field->datatype), p.field->datatype));
                if (binary) {
                    const auto *b = reinterpret_cast<const std::uint8_t *>(&v);  // x86-64 and arm64: little-endian
                    record.insert(record.end(), b, b + 4);
                } else {
                    // 9 significant digits read back to the same float.
                    record.insert(record.end(), text, text + std::snprintf(text, sizeof text, "%s%.9g", k ? " " : "", double(v)));
                }
            }
        }
        if (!binary) record.push_back('\n');
        ok = std::fwrite(record.data(), 1, record.size(), file) == record.size();
    }
    if (std::fclose(file) != 0) ok = false;
    return ok ? "" : "could not write the file (disk full?)";
}

}  // namespace cpcl_detail
