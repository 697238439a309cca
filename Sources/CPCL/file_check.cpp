#include "file_check.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <sys/stat.h>
#include <vector>

namespace cpcl_detail {
namespace {

// A header longer than this is not a point cloud header.
constexpr std::size_t kMaxHeaderBytes = 1 << 20;
// LZF cannot expand data by more than about 100×: a larger claimed ratio is a lie.
constexpr std::uint64_t kMaxCompressionRatio = 128;

std::vector<std::string> words(const std::string &line) {
    std::istringstream in(line);
    std::vector<std::string> out;
    for (std::string w; in >> w;) out.push_back(w);
    return out;
}

bool to_u64(const std::string &s, std::uint64_t &out) {
    if (s.empty() || s.size() > 19) return false;
    out = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        out = out * 10 + std::uint64_t(c - '0');
    }
    return true;
}

// A header line fit to quote in a one-line message, or a plain note when it is not text at all.
std::string quote_line(const std::string &line) {
    for (unsigned char c : line)
        if (c < 0x20 && c != '\t' && c != '\r') return "binary data";
        else if (c == 0x7f) return "binary data";
    return "'" + line.substr(0, 40) + "'";
}

std::string too_short(std::uint64_t points, std::uint64_t need, std::uint64_t have) {
    return "truncated: the header promises " + std::to_string(points) + " points (" +
           std::to_string(need) + " bytes of data) but the file holds " + std::to_string(have);
}

std::string check_pcd(std::ifstream &in, std::uint64_t file_size, FileFacts &facts) {
    std::vector<std::uint64_t> sizes, counts;
    std::size_t nfields = 0;
    std::uint64_t points = 0, width = 0, height = 1;
    bool have_points = false, have_width = false, have_data = false;
    std::string line;
    while (!have_data && std::getline(in, line)) {
        if (std::uint64_t(in.tellg()) > kMaxHeaderBytes) return "not a PCD file (no DATA line in the header)";
        auto w = words(line);
        if (w.empty() || w[0][0] == '#') continue;
        const std::string &key = w[0];
        std::vector<std::string> rest(w.begin() + 1, w.end());
        if (key == "VERSION" || key == "VIEWPOINT" || key == "TYPE") continue;
        if (key == "FIELDS" || key == "COLUMNS") {
            nfields = rest.size();
        } else if (key == "SIZE" || key == "COUNT") {
            auto &dst = key == "SIZE" ? sizes : counts;
            dst.clear();
            for (auto &r : rest) {
                std::uint64_t v;
                if (!to_u64(r, v) || v > 1'000'000) return "invalid " + key + " value '" + r + "' in the header";
                dst.push_back(v);
            }
        } else if (key == "WIDTH" || key == "HEIGHT" || key == "POINTS") {
            std::uint64_t v;
            if (rest.empty() || !to_u64(rest[0], v)) return "invalid " + key + " in the header";
            if (key == "WIDTH") { width = v; have_width = true; }
            else if (key == "HEIGHT") height = v;
            else { points = v; have_points = true; }
        } else if (key == "DATA") {
            if (rest.empty()) return "the DATA line names no encoding";
            if (rest[0] == "ascii") facts.encoding = 0;
            else if (rest[0] == "binary") facts.encoding = 1;
            else if (rest[0] == "binary_compressed") facts.encoding = 2;
            else return "unknown DATA encoding '" + rest[0] + "'";
            have_data = true;
        } else {
            return "not a PCD file (unexpected header line " + quote_line(line) + ")";
        }
    }
    if (!have_data) return "not a PCD file (no DATA line in the header)";
    if (nfields == 0) return "the header names no FIELDS";
    if (sizes.size() != nfields) return "the header's SIZE and FIELDS disagree";
    if (counts.empty()) counts.assign(nfields, 1);
    if (counts.size() != nfields) return "the header's COUNT and FIELDS disagree";
    if (!have_points) points = width * height;
    if (have_width && width * height != points)
        return "the header's WIDTH × HEIGHT (" + std::to_string(width) + " × " + std::to_string(height) +
               ") differs from POINTS (" + std::to_string(points) + ")";
    std::uint64_t step = 0, values = 0;
    for (std::size_t i = 0; i < nfields; ++i) {
        step += sizes[i] * counts[i];
        values += counts[i];
    }
    const std::uint64_t data_start = std::uint64_t(in.tellg());
    const std::uint64_t have = file_size > data_start ? file_size - data_start : 0;
    if (points > std::numeric_limits<std::uint32_t>::max() || step > (1u << 20))
        return "the header promises an implausible cloud (" + std::to_string(points) + " points)";
    if (facts.encoding == 0) {
        // Each value needs at least one character and one separator.
        if (points * values * 2 > have + 1) return too_short(points, points * values * 2, have);
    } else if (facts.encoding == 1) {
        if (points * step > have) return too_short(points, points * step, have);
    } else if (points > 0) {
        std::uint32_t sizes_le[2] = {0, 0};
        if (have < 8 || !in.read(reinterpret_cast<char *>(sizes_le), 8))
            return "truncated: the compressed data block is missing";
        const std::uint64_t compressed = sizes_le[0], uncompressed = sizes_le[1];
        if (compressed + 8 > have) return too_short(points, compressed + 8, have);
        if (uncompressed != points * step)
            return "corrupt: the compressed block holds " + std::to_string(uncompressed) +
                   " bytes, the header promises " + std::to_string(points * step);
        if (uncompressed > compressed * kMaxCompressionRatio + 4096)
            return "corrupt: the compressed block claims an impossible compression ratio";
    }
    return "";
}

std::uint64_t ply_type_size(const std::string &t) {
    if (t == "char" || t == "uchar" || t == "int8" || t == "uint8") return 1;
    if (t == "short" || t == "ushort" || t == "int16" || t == "uint16") return 2;
    if (t == "int" || t == "uint" || t == "float" || t == "int32" || t == "uint32" || t == "float32") return 4;
    if (t == "double" || t == "float64") return 8;
    return 0;
}

std::string check_ply(std::ifstream &in, std::uint64_t file_size, FileFacts &facts) {
    std::string line;
    if (!std::getline(in, line) || line.substr(0, 3) != "ply") return "not a PLY file (it does not start with 'ply')";
    bool have_format = false, in_vertex = false, have_vertex = false, seen_end = false;
    std::uint64_t vertices = 0, vertex_bytes = 0, vertex_props = 0;
    bool vertex_has_list = false;
    while (std::getline(in, line)) {
        if (std::uint64_t(in.tellg()) > kMaxHeaderBytes) return "not a PLY file (no end_header)";
        auto w = words(line);
        if (w.empty()) continue;
        if (w[0] == "end_header") { seen_end = true; break; }
        if (w[0] == "comment" || w[0] == "obj_info") continue;
        if (w[0] == "format") {
            if (w.size() < 2) return "the PLY format line is incomplete";
            if (w[1] == "ascii") facts.encoding = 0;
            else if (w[1] == "binary_little_endian" || w[1] == "binary_big_endian") facts.encoding = 1;
            else return "unknown PLY format '" + w[1] + "'";
            have_format = true;
        } else if (w[0] == "element") {
            if (w.size() < 3) return "incomplete PLY element line " + quote_line(line);
            in_vertex = w[1] == "vertex";
            if (in_vertex) {
                if (!to_u64(w[2], vertices)) return "invalid vertex count '" + w[2] + "'";
                have_vertex = true;
            }
        } else if (w[0] == "property") {
            if (w.size() < 3) return "incomplete PLY property line " + quote_line(line);
            if (!in_vertex) continue;
            ++vertex_props;
            if (w[1] == "list") { vertex_has_list = true; continue; }
            const std::uint64_t s = ply_type_size(w[1]);
            if (s == 0) return "unknown PLY property type '" + w[1] + "'";
            vertex_bytes += s;
        } else {
            return "not a PLY file (unexpected header line " + quote_line(line) + ")";
        }
    }
    if (!seen_end) return "not a PLY file (no end_header)";
    if (!have_format) return "the PLY header has no format line";
    if (!have_vertex) return "the PLY file has no vertex element";
    if (vertices > std::numeric_limits<std::uint32_t>::max())
        return "the header promises an implausible cloud (" + std::to_string(vertices) + " vertices)";
    const std::uint64_t data_start = std::uint64_t(in.tellg());
    const std::uint64_t have = file_size > data_start ? file_size - data_start : 0;
    // Minimum bytes the vertex element needs; lists need at least their count byte.
    const std::uint64_t per_vertex = facts.encoding == 0 ? vertex_props * 2 : vertex_bytes + (vertex_has_list ? 1 : 0);
    if (vertices * per_vertex > have + (facts.encoding == 0 ? 1 : 0))
        return too_short(vertices, vertices * per_vertex, have);
    return "";
}

}  // namespace

std::string check_file(const std::string &path, Format format, FileFacts &facts) {
    facts.format = format;
    facts.unreadable = true;
    struct stat st;
    if (stat(path.c_str(), &st) != 0) return std::strerror(errno);
    if (S_ISDIR(st.st_mode)) return "is a directory";
    if (!S_ISREG(st.st_mode)) return "not a regular file";
    facts.unreadable = false;
    if (st.st_size == 0) return "the file is empty";
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::strerror(errno);
    facts.unreadable = false;
    return format == Format::pcd ? check_pcd(in, std::uint64_t(st.st_size), facts)
                                 : check_ply(in, std::uint64_t(st.st_size), facts);
}

}  // namespace cpcl_detail
