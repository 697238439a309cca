// Validates a PCD or PLY header against the file's size before PCL sees the file.
//
// PCL allocates what a header promises (POINTS × point size, or the vertex count) before reading a
// byte of data, so a hostile or truncated file could ask for terabytes. These checks read only the
// header and refuse any file that cannot hold the data it announces.
#pragma once
#include <cstdint>
#include <string>

namespace cpcl_detail {

enum class Format { pcd, ply };

struct FileFacts {
    Format format;
    int encoding = 0;        // 0 ascii, 1 binary, 2 binary_compressed (cpcl_encoding)
    bool unreadable = false; // the file system refused, as opposed to a bad file
};

/// Returns an empty string when the file may be handed to PCL, else the reason it may not.
std::string check_file(const std::string &path, Format format, FileFacts &facts);

}  // namespace cpcl_detail
