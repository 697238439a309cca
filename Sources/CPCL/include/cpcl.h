// cpcl — a plain C view of the Point Cloud Library for Swift.
//
// Every function catches every C++ exception and every PCL failure: it returns a status (0 = ok) and
// fills `cpcl_error` with a message in pcdiag's words. Nothing unwinds into the caller and PCL's own
// console output is silenced.
#ifndef CPCL_H
#define CPCL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Status codes. `CPCL_INVALID` means the file or the arguments are bad, `CPCL_IO` that the file
/// system refused (missing, unreadable, unwritable), `CPCL_INTERNAL` anything PCL threw.
typedef enum { CPCL_OK = 0, CPCL_INVALID = 1, CPCL_IO = 2, CPCL_INTERNAL = 3 } cpcl_status;

typedef struct { char message[512]; } cpcl_error;

/// Field data types, the same numbers as pcl::PCLPointField.
typedef enum {
    CPCL_INT8 = 1, CPCL_UINT8 = 2, CPCL_INT16 = 3, CPCL_UINT16 = 4,
    CPCL_INT32 = 5, CPCL_UINT32 = 6, CPCL_FLOAT32 = 7, CPCL_FLOAT64 = 8
} cpcl_datatype;

typedef struct {
    char name[64];
    cpcl_datatype datatype;
    uint32_t count;   ///< components per point (1 for x, 33 for an FPFH histogram)
} cpcl_field;

/// How a file stores its points.
typedef enum { CPCL_ASCII = 0, CPCL_BINARY = 1, CPCL_BINARY_COMPRESSED = 2 } cpcl_encoding;

/// An owned pcl::PCLPointCloud2: a width × height grid of points, each a record of typed fields.
typedef struct cpcl_cloud cpcl_cloud;

/// The most support planes a segmentation reports.
#define CPCL_MAX_SUPPORTS 4

/// Scene segmentation settings. Distances in the cloud's units; a distance ≤ 0 means "that many point
/// spacings" (the `*_spacings` factor times the cloud's median nearest-neighbour distance).
typedef struct {
    int organized;              ///< use the image grid when the cloud has one
    float up[3];                ///< the up axis; (0, 0, 0): the camera's (organized) or the objects' side
    double plane_distance;      ///< a point this close to a support plane belongs to it
    double cluster_distance;    ///< neighbours closer than this are one object
    double plane_spacings;
    double cluster_spacings;
    uint32_t min_points;        ///< smaller clusters are noise
    double max_extent;          ///< clusters larger than this along some axis are not objects (0: no limit)
    int keep_planes;            ///< do not remove the support planes' points
    uint32_t min_plane_points;  ///< smallest plane region considered as a support
    double min_plane_share;     ///< … and its smallest share of the finite points (unorganized)
    double support_share;       ///< a second support holds at least this share of the largest one's points
    double parallel_degrees;    ///< … and is parallel to it within this angle
    double angular_degrees;     ///< normal agreement within a plane region (organized)
    float depth_change;         ///< integral-image normals: the depth change that breaks a surface
    float normal_smoothing;     ///< integral-image normals: smoothing window, pixels
    int ransac_iterations;      ///< plane fits (unorganized)
    double flatness;            ///< … a fit whose inliers' RMS distance exceeds this share of plane_distance is no plane
    int concave_baseline;       ///< organized: pixels either side over which a concave fold is judged (0: no folds)
    double concave_tolerance;   ///< … a point lies on a fold when (n₁ − n₂)·(p₁ − p₂) < −tolerance·|p₁ − p₂|
    double fold_normal_distances;  ///< unorganized, seen from the origin: normals from this many cluster distances around (0: no folds)
    double fold_radius_distances;  ///< … folds judged against neighbours up to this many cluster distances away
    double occluder_distances;  ///< organized: a point this many cluster distances nearer hides what is behind it
    double occluded_gap_distances;  ///< … pieces either side at depths this close (in cluster distances) are one object
    int occlusion_lines;        ///< … when seen so along at least this many rows and columns
} cpcl_segment_parameters;

typedef struct {
    int organized;              ///< whether the image grid was used
    double spacing;             ///< median nearest-neighbour distance (0: too few points to cut)
    double plane_distance, cluster_distance;  ///< the distances used
    uint32_t supports;          ///< support planes found
    float planes[4 * CPCL_MAX_SUPPORTS];  ///< their a, b, c, d (unit normal towards the objects)
} cpcl_segment_result;

/// The bridge's functions. `version` is CPCL_API_VERSION of the header the library was built with: a
/// library of another version is another pcdiag's and must not be called. The function pointers are
/// never null (so Swift calls them without unwrapping); their parameters keep C's plain pointers.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wnullability-completeness"
typedef struct cpcl_api {
    uint32_t version;

    cpcl_cloud *(* _Nonnull cloud_create)(uint32_t width, uint32_t height);
    void (* _Nonnull cloud_free)(cpcl_cloud *cloud);

    uint32_t (* _Nonnull cloud_width)(const cpcl_cloud *cloud);
    uint32_t (* _Nonnull cloud_height)(const cpcl_cloud *cloud);
    size_t (* _Nonnull cloud_field_count)(const cpcl_cloud *cloud);
    cpcl_field (* _Nonnull cloud_field)(const cpcl_cloud *cloud, size_t index);

    /// Copies `count × width × height` values of field `index`, converted to float, into `out`.
    int (* _Nonnull cloud_copy_field_float)(const cpcl_cloud *cloud, size_t index, float *out, size_t out_count,
                                            cpcl_error *error);
    /// Copies the raw 32-bit words of field `index` (packed rgb/rgba colours) into `out`.
    int (* _Nonnull cloud_copy_field_u32)(const cpcl_cloud *cloud, size_t index, uint32_t *out, size_t out_count,
                                          cpcl_error *error);

    /// Appends a field of `count` components per point, or overwrites the values of the field of that
    /// name when it has the same type and count (another type is an error); `values` holds
    /// count × width × height values, point-major, already of `datatype` (float for FLOAT32, uint32 for UINT32).
    int (* _Nonnull cloud_add_field)(cpcl_cloud *cloud, const char *name, cpcl_datatype datatype, uint32_t count,
                                     const void *values, cpcl_error *error);

    /// Loads a .pcd or .ply file (chosen by extension, case-insensitive). `encoding` receives how the file
    /// stored its data (PLY binary of either endianness counts as binary). A header that promises more
    /// data than the file holds is an error, checked before anything is allocated.
    int (* _Nonnull load)(const char *path, cpcl_cloud **out, cpcl_encoding *encoding, cpcl_error *error);

    /// Saves as .pcd (any encoding) or .ply (ascii or binary little-endian) by extension of `path`: writes
    /// `temporary` (a new file beside `path`, created with mode 0644 minus the umask) and renames it over
    /// `path`, so a reader never sees half a file.
    int (* _Nonnull save)(const char *path, const char *temporary, const cpcl_cloud *cloud, cpcl_encoding encoding,
                          cpcl_error *error);

    /// pcl::VoxelGrid on every field: one averaged point per occupied cube of side `leaf`.
    int (* _Nonnull voxel_grid)(const cpcl_cloud *cloud, float leaf, cpcl_cloud **out, cpcl_error *error);

    /// pcl::StatisticalOutlierRemoval on `n` finite points (xyz interleaved): drops points whose mean
    /// distance to their `k` nearest neighbours is more than `stddev_mul` standard deviations above the
    /// cloud's mean. `keep` (one byte a point) receives 1 for kept points.
    int (* _Nonnull statistical_outlier_mask)(const float *xyz, size_t n, int k, double stddev_mul, uint8_t *keep,
                                              cpcl_error *error);

    /// pcl::FarthestPointSampling on `n` finite points (xyz interleaved): writes `k` indices into `out`.
    /// PointClouds samples without PCL; this is the reference its tests compare the picks with.
    int (* _Nonnull farthest_point_indices)(const float *xyz, size_t n, size_t k, unsigned seed, int32_t *out,
                                            cpcl_error *error);

    /// Removes the supporting planes of a scene of `n` points (xyz interleaved, NaN allowed; a width ×
    /// height grid when organized) and cuts the rest into objects: `object` (n entries) receives 0 for
    /// support, noise and non-finite points, and 1, 2, … for objects, the largest first.
    int (* _Nonnull segment)(const float *xyz, size_t n, uint32_t width, uint32_t height, const cpcl_segment_parameters *parameters,
                             uint32_t *object, cpcl_segment_result *result, cpcl_error *error);

    /// The principal-axis box of `n` points (xyz interleaved, finite): `axes` receives three unit axes
    /// (row after row, the direction of greatest variance first), `extents` the box's side along each, `centre` its centre.
    int (* _Nonnull principal_box)(const float *xyz, size_t n, float *axes, float *extents, float *centre, cpcl_error *error);

} cpcl_api;

#define CPCL_API_VERSION 2
/// The library's one entry, `const cpcl_api *cpcl_api_table(void)`: found with dlsym by this name.
#define CPCL_API_ENTRY "cpcl_api_table"
typedef const cpcl_api *(*cpcl_api_entry)(void);
#pragma clang diagnostic pop

#ifdef __cplusplus
}
#endif

#endif
