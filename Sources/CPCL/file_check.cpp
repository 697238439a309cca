#include "file_check.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
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

// PCL reads a word in an ascii PCD as 0 and ignores extra columns and lines: check each data line
// holds exactly `values` numbers and that there are exactly `points` of them.
std::string check_pcd_ascii(std::ifstream &in, std::uint64_t points, std::uint64_t values) {
    std::string line;
    std::uint64_t rows = 0;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::uint64_t n = 0;
        for (std::string word; fields >> word; ++n) {
            char *end = nullptr;
            std::strtod(word.c_str(), &end);
            if (end == word.c_str() || *end != '\0')
                return "corrupt: data line " + std::to_string(rows + 1) + " holds " + quote_line(word) + ", not a number";
        }
        if (n == 0) continue;
        if (n != values)
            return "corrupt: data line " + std::to_string(rows + 1) + " holds " + std::to_string(n) + " values, the header's fields hold " +
                   std::to_string(values);
        ++rows;
    }
    if (rows != points)
        return "corrupt or truncated: the header promises " + std::to_string(points) + " points but the data holds " +
               std::to_string(rows) + " lines";
    return "";
}

std::string check_pcd(std::ifstream &in, std::uint64_t file_size, FileFacts &facts) {
    std::vector<std::uint64_t> sizes, counts;
    std::vector<std::string> types;
    std::set<std::string> seen_keys;
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
        // PCL reads a repeated key over the first and crashes on some mixtures: each key once.
        if (!seen_keys.insert(key).second) return "the header names " + quote_line(key) + " twice";
        if (key == "VERSION" || key == "VIEWPOINT") continue;
        if (key == "TYPE") {
            types = rest;
            continue;
        }
        if (key == "FIELDS" || key == "COLUMNS") {
            nfields = rest.size();
            for (auto &r : rest)
                for (unsigned char c : r)
                    if (c < 0x21 || c > 0x7e) return "the field name " + quote_line(r) + " is not printable text";
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
            if (rest.size() != 1 || !to_u64(rest[0], v)) return "invalid " + key + " in the header";
            if (key == "HEIGHT" && v == 0) return "HEIGHT 0 in the header (an unorganized cloud has HEIGHT 1)";
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
    // PCL reads an unknown or missing TYPE as garbage and crashes on it: F (4 or 8 bytes), I or U only.
    if (types.size() != nfields) return "the header's TYPE and FIELDS disagree";
    for (std::size_t i = 0; i < nfields; ++i) {
        const std::string &t = types[i];
        if ((t != "F" && t != "I" && t != "U") || (t == "F" && sizes[i] != 4 && sizes[i] != 8))
            return "invalid TYPE " + quote_line(t) + " for a field of SIZE " + std::to_string(sizes[i]) + " (F of 4 or 8 bytes, I or U)";
    }
    if (!have_points && !have_width) return "the header has neither POINTS nor WIDTH";
    if (width > std::numeric_limits<std::uint32_t>::max() || height > std::numeric_limits<std::uint32_t>::max())
        return "the header promises an implausible cloud (WIDTH " + std::to_string(width) + ", HEIGHT " + std::to_string(height) + ")";
    for (auto size : sizes)
        if (size != 1 && size != 2 && size != 4 && size != 8) return "invalid SIZE " + std::to_string(size) + " in the header (1, 2, 4 or 8)";
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
    if (points > std::numeric_limits<std::uint32_t>::max() || step > (1u << 20) || values > (1u << 20))
        return "the header promises an implausible cloud (" + std::to_string(points) + " points of " + std::to_string(values) +
               " values, " + std::to_string(step) + " bytes each)";
    if (facts.encoding == 0) {
        // Each value needs at least one character and one separator.
        if (points * values * 2 > have + 1) return too_short(points, points * values * 2, have);
        return check_pcd_ascii(in, points, values);
    } else if (facts.encoding == 1) {
        if (points * step > have) return too_short(points, points * step, have);
    } else {
        // Checked for an empty cloud too: PCL allocates whatever the block's sizes claim.
        std::uint32_t sizes_le[2] = {0, 0};
        if (have < 8 || !in.read(reinterpret_cast<char *>(sizes_le), 8))
            return points == 0 ? "" : "truncated: the compressed data block is missing";
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

// One element of a PLY header: its name, its record count and the fewest bytes one record can take.
struct PlyElement {
    std::string name;
    std::uint64_t count = 0;
    std::uint64_t min_bytes = 0;
};

// Checks the header against the PLY format (http://paulbourke.net/dataformats/ply/) and the file size.
// PCL aborts the process on a list-typed vertex property and allocates what the element counts promise,
// so both are settled here.
std::string check_ply(std::ifstream &in, std::uint64_t file_size, FileFacts &facts) {
    std::string line;
    if (!std::getline(in, line) || words(line) != std::vector<std::string>{"ply"})
        return "not a PLY file (it does not start with 'ply')";
    bool have_format = false, seen_end = false;
    std::vector<PlyElement> elements;
    std::vector<std::string> vertex_properties;
    while (std::getline(in, line)) {
        if (std::uint64_t(in.tellg()) > kMaxHeaderBytes) return "not a PLY file (no end_header)";
        auto w = words(line);
        if (w.empty()) continue;
        if (w[0] == "end_header") { seen_end = true; break; }
        if (w[0] == "comment" || w[0] == "obj_info") continue;
        if (w[0] == "format") {
            if (have_format) return "the PLY header has two format lines";
            if (w.size() != 3) return "the PLY format line is incomplete";
            if (w[1] == "ascii") facts.encoding = 0;
            else if (w[1] == "binary_little_endian" || w[1] == "binary_big_endian") facts.encoding = 1;
            else return "unknown PLY format '" + w[1].substr(0, 40) + "'";
            if (w[2] != "1.0") return "unsupported PLY version '" + w[2].substr(0, 40) + "' (pcdiag reads 1.0)";
            have_format = true;
        } else if (w[0] == "element") {
            if (w.size() != 3) return "incomplete PLY element line " + quote_line(line);
            PlyElement e;
            e.name = w[1];
            if (!to_u64(w[2], e.count)) return "invalid count '" + w[2].substr(0, 40) + "' of PLY element '" + w[1].substr(0, 40) + "'";
            if (e.count > std::numeric_limits<std::uint32_t>::max())
                return "the header promises an implausible cloud (" + std::to_string(e.count) + " " + e.name.substr(0, 40) + " records)";
            for (const auto &other : elements)
                if (other.name == e.name) return "the PLY element '" + e.name.substr(0, 40) + "' is declared twice";
            elements.push_back(e);
        } else if (w[0] == "property") {
            if (w.size() < 3) return "incomplete PLY property line " + quote_line(line);
            if (elements.empty()) return "a PLY property comes before any element";
            PlyElement &e = elements.back();
            const bool vertex = e.name == "vertex";
            if (w[1] == "list") {
                if (w.size() != 5) return "incomplete PLY property line " + quote_line(line);
                if (vertex)
                    return "the vertex property '" + w[4].substr(0, 40) + "' is a list (pcdiag reads only scalar vertex properties)";
                const std::uint64_t count_size = ply_type_size(w[2]), item_size = ply_type_size(w[3]);
                if (count_size == 0 || w[2] == "float" || w[2] == "float32" || w[2] == "double" || w[2] == "float64")
                    return "invalid PLY list count type '" + w[2].substr(0, 40) + "'";
                if (item_size == 0) return "unknown PLY property type '" + w[3].substr(0, 40) + "'";
                // An empty list still takes its count.
                e.min_bytes += facts.encoding == 0 ? 2 : count_size;
            } else {
                if (w.size() != 3) return "incomplete PLY property line " + quote_line(line);
                const std::uint64_t s = ply_type_size(w[1]);
                if (s == 0) return "unknown PLY property type '" + w[1].substr(0, 40) + "'";
                // A value in ascii takes at least one character and a separator.
                e.min_bytes += facts.encoding == 0 ? 2 : s;
                if (vertex) {
                    for (const auto &p : vertex_properties)
                        if (p == w[2]) return "the vertex property '" + w[2].substr(0, 40) + "' is declared twice";
                    vertex_properties.push_back(w[2]);
                }
            }
        } else {
            return "not a PLY file (unexpected header line " + quote_line(line) + ")";
        }
    }
    if (!seen_end) return "not a PLY file (no end_header)";
    // PCL asserts unless a vertex's colour properties come as red, green, blue (then alpha), together.
    {
        std::vector<std::string> colours;
        std::size_t first = 0;
        for (std::size_t i = 0; i < vertex_properties.size(); ++i) {
            const std::string &p = vertex_properties[i];
            if (p == "red" || p == "green" || p == "blue" || p == "alpha") {
                if (colours.empty()) first = i;
                else if (i != first + colours.size()) return "the vertex colour properties are not together (red, green, blue, then alpha)";
                colours.push_back(p);
            }
        }
        const std::vector<std::string> rgb = {"red", "green", "blue"}, rgba = {"red", "green", "blue", "alpha"};
        if (!colours.empty() && colours != rgb && colours != rgba)
            return "the vertex colour properties are not red, green, blue (then alpha), in that order";
    }
    if (!have_format) return "the PLY header has no format line";
    const PlyElement *vertex = nullptr;
    for (const auto &e : elements)
        if (e.name == "vertex") vertex = &e;
    if (!vertex) return "the PLY file has no vertex element";
    const std::uint64_t data_start = std::uint64_t(in.tellg());
    const std::uint64_t have = file_size > data_start ? file_size - data_start : 0;
    // Every element's records must fit in the data; counts < 2^32 and record sizes < 2^21 cannot overflow.
    std::uint64_t need = 0;
    for (const auto &e : elements) {
        if (e.min_bytes > (1u << 20)) return "the PLY element '" + e.name.substr(0, 40) + "' has too many properties";
        need += e.count * e.min_bytes;
    }
    // The last ascii value may end the file without a separator.
    if (need > have + (facts.encoding == 0 ? 1 : 0)) {
        if (need == vertex->count * vertex->min_bytes) return too_short(vertex->count, need, have);
        return "truncated: the header's elements need at least " + std::to_string(need) +
               " bytes of data but the file holds " + std::to_string(have);
    }
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
