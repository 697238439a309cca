// Scene segmentation: supporting planes out, the rest cut into objects. Two paths, both PCL's own
// algorithms: the image grid of an organized cloud (integral-image normals, organized multi-plane
// segmentation, organized connected components) and a k-d tree for an unorganized one (RANSAC plane
// fits, Euclidean cluster extraction). Defaults are multiples of the cloud's own point spacing.
#include "boost_clang_compat.h"  // must precede every PCL header

#include "segment.h"

#include <pcl/features/integral_image_normal.h>
#include <pcl/features/normal_3d_omp.h>
#include <pcl/filters/extract_indices.h>
#include <pcl/kdtree/kdtree_flann.h>
#include <pcl/sample_consensus/method_types.h>
#include <pcl/sample_consensus/model_types.h>
#include <pcl/search/kdtree.h>
#include <pcl/segmentation/euclidean_cluster_comparator.h>
#include <pcl/segmentation/extract_clusters.h>
#include <pcl/segmentation/organized_connected_component_segmentation.h>
#include <pcl/segmentation/organized_multi_plane_segmentation.h>
#include <pcl/segmentation/sac_segmentation.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <functional>
#include <map>
#include <numeric>

namespace cpcl_detail {
namespace {

using Cloud = pcl::PointCloud<pcl::PointXYZ>;

struct Plane {
    Eigen::Vector4f c;  // unit normal, offset: n·p + d = 0, normal pointing to the objects' side
    std::size_t inliers;
};

bool finite(const pcl::PointXYZ &p) { return std::isfinite(p.x) && std::isfinite(p.y) && std::isfinite(p.z); }

float signed_distance(const Eigen::Vector4f &c, const pcl::PointXYZ &p) {
    return c[0] * p.x + c[1] * p.y + c[2] * p.z + c[3];
}

// The median distance from a point to its nearest neighbour: on the grid, to the next pixel of the
// same row; otherwise through a k-d tree, over an evenly strided sample (enough for a median).
double point_spacing(const Cloud &cloud, bool organized) {
    std::vector<float> d;
    const std::size_t n = cloud.size();
    if (organized) {
        const std::size_t step = std::max<std::size_t>(1, n / 20000);
        for (std::size_t i = 0; i + 1 < n; i += step) {
            if ((i + 1) % cloud.width == 0) continue;
            const auto &a = cloud[i], &b = cloud[i + 1];
            if (finite(a) && finite(b)) d.push_back((a.getVector3fMap() - b.getVector3fMap()).norm());
        }
    } else {
        pcl::KdTreeFLANN<pcl::PointXYZ> tree;
        tree.setInputCloud(cloud.makeShared());
        const std::size_t step = std::max<std::size_t>(1, n / 5000);
        pcl::Indices k(2);
        std::vector<float> k2(2);
        for (std::size_t i = 0; i < n; i += step)
            if (finite(cloud[i]) && tree.nearestKSearch(cloud[i], 2, k, k2) == 2) d.push_back(std::sqrt(k2[1]));
    }
    d.erase(std::remove_if(d.begin(), d.end(), [](float v) { return !(v > 0); }), d.end());
    if (d.empty()) return 0;
    std::nth_element(d.begin(), d.begin() + d.size() / 2, d.end());
    return d[d.size() / 2];
}

// Turns each plane's normal towards `toward` (the up axis, or the side most of the rest lies on).
void orient(Plane &plane, const Eigen::Vector3f &toward) {
    if (plane.c.head<3>().dot(toward) < 0) plane.c = -plane.c;
}

// Support planes among `candidates` (largest first): the largest, then any other that is parallel to
// it (within `parallel_deg`) and holds at least `share` of its points (a floor below a table).
std::vector<Plane> choose_supports(std::vector<Plane> candidates, const SegmentParameters &p) {
    std::vector<Plane> out;
    std::sort(candidates.begin(), candidates.end(), [](const Plane &a, const Plane &b) { return a.inliers > b.inliers; });
    const float cos_parallel = std::cos(p.parallel_degrees * float(M_PI) / 180);
    for (const auto &c : candidates) {
        if (out.empty()) {
            out.push_back(c);
            continue;
        }
        if (std::abs(c.c.head<3>().dot(out.front().c.head<3>())) < cos_parallel) continue;
        if (double(c.inliers) < p.support_share * double(out.front().inliers)) continue;
        out.push_back(c);
        if (out.size() == kMaxSupports) break;
    }
    return out;
}

// Points on a support (within `distance`) or under it (behind a table, below a floor) are not objects.
void clear_supports(const Cloud &cloud, const std::vector<Plane> &supports, double distance, std::vector<std::uint8_t> &free) {
    for (std::size_t i = 0; i < cloud.size(); ++i) {
        if (!free[i]) continue;
        for (const auto &s : supports) {
            const float d = signed_distance(s.c, cloud[i]);
            if (d < distance) {
                free[i] = 0;
                break;
            }
        }
    }
}

// The largest-first object ids of clusters that pass the size and extent filters.
void label_objects(const Cloud &cloud, std::vector<pcl::PointIndices> clusters, const SegmentParameters &p,
                   std::uint32_t *object) {
    std::sort(clusters.begin(), clusters.end(),
              [](const pcl::PointIndices &a, const pcl::PointIndices &b) { return a.indices.size() > b.indices.size(); });
    std::uint32_t next = 1;
    for (const auto &c : clusters) {
        if (c.indices.size() < p.min_points) continue;
        if (p.max_extent > 0) {
            Eigen::Vector3f lo = Eigen::Vector3f::Constant(INFINITY), hi = -lo;
            for (auto i : c.indices) {
                lo = lo.cwiseMin(cloud[i].getVector3fMap());
                hi = hi.cwiseMax(cloud[i].getVector3fMap());
            }
            if ((hi - lo).maxCoeff() > p.max_extent) continue;
        }
        for (auto i : c.indices) object[i] = next;
        ++next;
    }
}

// Ids 1, 2, … again after merges, the largest object first.
void renumber_by_size(std::uint32_t *object, std::size_t n) {
    std::map<std::uint32_t, std::size_t> size;
    for (std::size_t i = 0; i < n; ++i)
        if (object[i]) ++size[object[i]];
    std::vector<std::pair<std::size_t, std::uint32_t>> order;
    for (const auto &[id, count] : size) order.push_back({count, id});
    std::sort(order.begin(), order.end(), [](const auto &a, const auto &b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
    std::map<std::uint32_t, std::uint32_t> next;
    for (std::size_t k = 0; k < order.size(); ++k) next[order[k].second] = std::uint32_t(k + 1);
    for (std::size_t i = 0; i < n; ++i)
        if (object[i]) object[i] = next[object[i]];
}

Eigen::Vector3f up_or(const SegmentParameters &p, const Eigen::Vector3f &fallback) {
    const Eigen::Vector3f up(p.up[0], p.up[1], p.up[2]);
    return up.norm() > 0 ? Eigen::Vector3f(up.normalized()) : fallback;
}

// Pixels where the surface folds concavely: judged across 2·k + 1 pixels along a row, a column or a
// diagonal, (n₁ − n₂)·(p₁ − p₂) < −τ·|p₁ − p₂| with normals facing the camera. The faces of one object
// meet convexly; a box standing on, against or leaning on another meets it in a concave fold. Wide
// enough a baseline that sensor noise does not decide, and marking pixels rather than cutting single
// neighbour pairs, so that no leak through one pair of pixels joins two objects. Only folds between
// object points count (not the foot of an object on its support).
std::vector<std::uint8_t> concave_folds(const Cloud &cloud, const pcl::PointCloud<pcl::Normal> &normals,
                                        const std::vector<std::uint8_t> &free, int k, float tau, double distance) {
    std::vector<std::uint8_t> fold(cloud.size(), 0);
    if (k <= 0) return fold;
    const int w = int(cloud.width), h = int(cloud.height);
    const int directions[4][2] = {{1, 0}, {0, 1}, {1, 1}, {1, -1}};
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            const int i = y * w + x;
            if (!free[i]) continue;
            for (const auto &d : directions) {
                const int x1 = x - k * d[0], y1 = y - k * d[1], x2 = x + k * d[0], y2 = y + k * d[1];
                if (x1 < 0 || x2 < 0 || x1 >= w || x2 >= w || y1 < 0 || y2 < 0 || y1 >= h || y2 >= h) continue;
                const int i1 = y1 * w + x1, i2 = y2 * w + x2;
                if (!free[i1] || !free[i2]) continue;
                const Eigen::Vector3f p1 = cloud[i1].getVector3fMap(), p2 = cloud[i2].getVector3fMap();
                const Eigen::Vector3f n1 = normals[i1].getNormalVector3fMap(), n2 = normals[i2].getNormalVector3fMap();
                if (!n1.allFinite() || !n2.allFinite()) continue;
                // Ends that far apart lie on different surfaces, across a depth jump: not a fold.
                const float span = (p1 - p2).norm();
                if (!(span > 0) || span > 4 * (2 * k + 1) * distance) continue;
                if ((n1 - n2).dot(p1 - p2) < -tau * span) {
                    fold[i] = 1;
                    break;
                }
            }
        }
    return fold;
}

// Fold pixels join the object they touch, growing outward from the objects through close neighbours.
void grow_into_folds(const Cloud &cloud, const std::vector<std::uint8_t> &fold, double distance, std::uint32_t *object) {
    const int w = int(cloud.width), h = int(cloud.height);
    std::deque<int> queue;
    for (std::size_t i = 0; i < cloud.size(); ++i)
        if (object[i]) queue.push_back(int(i));
    while (!queue.empty()) {
        const int i = queue.front();
        queue.pop_front();
        const int x = i % w, y = i / w;
        for (int dy = -1; dy <= 1; ++dy)
            for (int dx = -1; dx <= 1; ++dx) {
                const int xx = x + dx, yy = y + dy;
                if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
                const int j = yy * w + xx;
                if (!fold[j] || object[j]) continue;
                if ((cloud[i].getVector3fMap() - cloud[j].getVector3fMap()).norm() >= distance) continue;
                object[j] = object[i];
                queue.push_back(j);
            }
    }
}

// Pieces of one object seen either side of something in front of it. Along every row and column, two
// pieces count as one when only nearer points (or nothing) lie between their facing ends and those ends
// are at about the same depth; `lines` such sightings make them one object.
void merge_occluded(const Cloud &cloud, std::uint32_t *object, float front, float gap, int lines) {
    std::map<std::pair<std::uint32_t, std::uint32_t>, int> sightings;
    const int w = int(cloud.width), h = int(cloud.height);
    auto scan = [&](int count, int length, auto at) {
        for (int line = 0; line < count; ++line) {
            std::uint32_t last = 0;
            float last_z = 0;
            bool hidden = false;
            for (int t = 0; t < length; ++t) {
                const int i = at(line, t);
                const auto &p = cloud[i];
                if (!finite(p)) continue;
                if (last != 0 && p.z < last_z - front) {
                    hidden = true;
                    continue;
                }
                const std::uint32_t l = object[i];
                if (l != 0 && last != 0 && l != last && hidden && std::abs(p.z - last_z) < gap)
                    ++sightings[{std::min(l, last), std::max(l, last)}];
                last = l;
                last_z = p.z;
                hidden = false;
            }
        }
    };
    scan(h, w, [w](int row, int t) { return row * w + t; });
    scan(w, h, [w](int column, int t) { return t * w + column; });
    std::uint32_t top = 0;
    for (std::size_t i = 0; i < cloud.size(); ++i) top = std::max(top, object[i]);
    std::vector<std::uint32_t> parent(top + 1);
    std::iota(parent.begin(), parent.end(), 0u);
    std::function<std::uint32_t(std::uint32_t)> root = [&](std::uint32_t x) { return parent[x] == x ? x : parent[x] = root(parent[x]); };
    for (const auto &[pair, n] : sightings)
        if (n >= lines) {
            const auto a = root(pair.first), b = root(pair.second);
            parent[std::max(a, b)] = std::min(a, b);
        }
    for (std::size_t i = 0; i < cloud.size(); ++i) object[i] = root(object[i]);
}

void segment_organized(const Cloud::Ptr &cloud, const SegmentParameters &p, double plane_distance,
                       double cluster_distance, std::vector<Plane> &supports, std::uint32_t *object) {
    pcl::PointCloud<pcl::Normal>::Ptr normals(new pcl::PointCloud<pcl::Normal>);
    pcl::IntegralImageNormalEstimation<pcl::PointXYZ, pcl::Normal> ne;
    ne.setNormalEstimationMethod(ne.COVARIANCE_MATRIX);
    ne.setMaxDepthChangeFactor(p.depth_change);
    ne.setNormalSmoothingSize(p.normal_smoothing);
    ne.setInputCloud(cloud);
    ne.compute(*normals);

    pcl::OrganizedMultiPlaneSegmentation<pcl::PointXYZ, pcl::Normal, pcl::Label> mps;
    mps.setMinInliers(p.min_plane_points);
    mps.setAngularThreshold(p.angular_degrees * M_PI / 180);
    mps.setDistanceThreshold(plane_distance);
    mps.setInputNormals(normals);
    mps.setInputCloud(cloud);
    std::vector<pcl::PlanarRegion<pcl::PointXYZ>, Eigen::aligned_allocator<pcl::PlanarRegion<pcl::PointXYZ>>> regions;
    std::vector<pcl::ModelCoefficients> coefficients;
    std::vector<pcl::PointIndices> inliers, label_indices, boundaries;
    pcl::PointCloud<pcl::Label>::Ptr labels(new pcl::PointCloud<pcl::Label>);
    mps.segmentAndRefine(regions, coefficients, inliers, labels, label_indices, boundaries);

    // The camera looks along +z: a support's normal faces it (or faces the given up axis).
    std::vector<Plane> candidates;
    for (std::size_t i = 0; i < coefficients.size(); ++i) {
        const auto &v = coefficients[i].values;
        Plane plane{Eigen::Vector4f(v[0], v[1], v[2], v[3]), inliers[i].indices.size()};
        plane.c /= plane.c.head<3>().norm();
        orient(plane, up_or(p, -Eigen::Vector3f::UnitZ()));
        candidates.push_back(plane);
    }
    supports = choose_supports(candidates, p);

    std::vector<std::uint8_t> free(cloud->size());
    for (std::size_t i = 0; i < cloud->size(); ++i) free[i] = finite((*cloud)[i]);
    if (!p.keep_planes) clear_supports(*cloud, supports, plane_distance, free);
    const auto fold = concave_folds(*cloud, *normals, free, p.concave_baseline, float(p.concave_tolerance), cluster_distance);
    // Free points off the folds carry label 0. PCL 1.13's comparator joins only points whose labels are
    // in its "exclude" set, despite the name (euclidean_cluster_comparator.h, compare()).
    for (std::size_t i = 0; i < cloud->size(); ++i) (*labels)[i].label = free[i] && !fold[i] ? 0 : 1;
    auto comparator = std::make_shared<pcl::EuclideanClusterComparator<pcl::PointXYZ, pcl::Label>>();
    comparator->setInputCloud(cloud);
    comparator->setLabels(labels);
    comparator->setExcludeLabels(std::make_shared<std::set<std::uint32_t>>(std::set<std::uint32_t>{0}));
    comparator->setDistanceThreshold(float(cluster_distance), false);
    pcl::OrganizedConnectedComponentSegmentation<pcl::PointXYZ, pcl::Label> occs(comparator);
    occs.setInputCloud(cloud);
    pcl::PointCloud<pcl::Label> components;
    std::vector<pcl::PointIndices> clusters;
    occs.segment(components, clusters);
    // The component of excluded points is not an object.
    clusters.erase(std::remove_if(clusters.begin(), clusters.end(),
                                  [&](const pcl::PointIndices &c) { return c.indices.empty() || (*labels)[c.indices.front()].label != 0; }),
                   clusters.end());
    label_objects(*cloud, clusters, p, object);
    grow_into_folds(*cloud, fold, cluster_distance, object);
    merge_occluded(*cloud, object, float(p.occluder_distances * cluster_distance), float(p.occluded_gap_distances * cluster_distance),
                   p.occlusion_lines);
    renumber_by_size(object, cloud->size());
}

// The same folds off the grid, for a scene seen from one viewpoint at the origin (a depth camera's
// frame; normals face it, PCL's default): normals from a radius of `normal_radius`, and a point lies on a fold when some neighbour between radius/2 and `radius` away
// meets it concavely, (n₁ − n₂)·(p₁ − p₂) < −τ·|p₁ − p₂|. The inner half is skipped: there normals
// smoothed over the fold barely differ and noise would decide.
std::vector<std::uint8_t> concave_folds(const Cloud::Ptr &cloud, const pcl::Indices &points, const pcl::search::KdTree<pcl::PointXYZ>::Ptr &tree,
                                        float normal_radius, float radius, float tau) {
    std::vector<std::uint8_t> fold(cloud->size(), 0);
    if (!(radius > 0) || !(normal_radius > 0) || points.empty()) return fold;
    pcl::NormalEstimationOMP<pcl::PointXYZ, pcl::Normal> estimation;
    estimation.setInputCloud(cloud);
    estimation.setIndices(std::make_shared<pcl::Indices>(points));
    estimation.setSearchMethod(tree);
    estimation.setRadiusSearch(normal_radius);
    pcl::PointCloud<pcl::Normal> estimated;
    estimation.compute(estimated);
    std::vector<Eigen::Vector3f> normal(cloud->size(), Eigen::Vector3f::Constant(NAN));
    for (std::size_t k = 0; k < points.size(); ++k) normal[points[k]] = estimated[k].getNormalVector3fMap();
    pcl::Indices near;
    std::vector<float> squares;
    for (auto i : points) {
        const Eigen::Vector3f ni = normal[i];
        if (!ni.allFinite()) continue;
        const Eigen::Vector3f pi = (*cloud)[i].getVector3fMap();
        tree->radiusSearch((*cloud)[i], radius, near, squares);
        for (std::size_t m = 0; m < near.size(); ++m) {
            if (squares[m] < 0.25f * radius * radius) continue;
            const Eigen::Vector3f nj = normal[near[m]];
            if (!nj.allFinite()) continue;
            if ((ni - nj).dot(pi - (*cloud)[near[m]].getVector3fMap()) < -tau * std::sqrt(squares[m])) {
                fold[i] = 1;
                break;
            }
        }
    }
    return fold;
}

void segment_unorganized(const Cloud::Ptr &cloud, const SegmentParameters &p, double plane_distance,
                         double cluster_distance, std::vector<Plane> &supports, std::uint32_t *object) {
    std::vector<std::uint8_t> free(cloud->size());
    pcl::IndicesPtr remaining(new pcl::Indices);
    for (std::size_t i = 0; i < cloud->size(); ++i)
        if ((free[i] = finite((*cloud)[i]))) remaining->push_back(int(i));
    const std::size_t finite_count = remaining->size();

    // Planes one after another, each fitted to what the previous ones left, while they stay large.
    std::vector<Plane> candidates;
    pcl::SACSegmentation<pcl::PointXYZ> sac;
    sac.setModelType(pcl::SACMODEL_PLANE);
    sac.setMethodType(pcl::SAC_RANSAC);
    sac.setDistanceThreshold(plane_distance);
    sac.setMaxIterations(p.ransac_iterations);
    sac.setInputCloud(cloud);
    while (candidates.size() < kMaxSupports && remaining->size() >= p.min_plane_points) {
        sac.setIndices(remaining);
        pcl::PointIndices in;
        pcl::ModelCoefficients c;
        sac.segment(in, c);
        if (in.indices.size() < p.min_plane_points || in.indices.size() < p.min_plane_share * double(finite_count)) break;
        Plane plane{Eigen::Vector4f(c.values[0], c.values[1], c.values[2], c.values[3]), in.indices.size()};
        plane.c /= plane.c.head<3>().norm();
        // A flat surface's inliers hug the plane; a slab cut through a round object fills it evenly
        // (RMS distance 0.58 of the threshold): that is no support.
        double squares = 0;
        for (auto i : in.indices) squares += double(signed_distance(plane.c, (*cloud)[i])) * signed_distance(plane.c, (*cloud)[i]);
        if (std::sqrt(squares / double(in.indices.size())) > p.flatness * plane_distance) break;
        // Without an up axis, the objects' side is where most of the other points are.
        Eigen::Vector3f side = up_or(p, Eigen::Vector3f::Zero());
        if (side.norm() == 0) {
            std::size_t above = 0, total = 0;
            std::vector<std::uint8_t> on(cloud->size(), 0);
            for (auto i : in.indices) on[i] = 1;
            for (auto i : *remaining)
                if (!on[i]) {
                    ++total;
                    above += signed_distance(plane.c, (*cloud)[i]) > 0;
                }
            side = 2 * above >= total ? plane.c.head<3>() : Eigen::Vector3f(-plane.c.head<3>());
        }
        orient(plane, side);
        candidates.push_back(plane);
        std::vector<std::uint8_t> on(cloud->size(), 0);
        for (auto i : in.indices) on[i] = 1;
        remaining->erase(std::remove_if(remaining->begin(), remaining->end(), [&](int i) { return on[i] != 0; }), remaining->end());
    }
    supports = choose_supports(candidates, p);
    if (!p.keep_planes) clear_supports(*cloud, supports, plane_distance, free);

    pcl::IndicesPtr rest(new pcl::Indices);
    for (std::size_t i = 0; i < cloud->size(); ++i)
        if (free[i]) rest->push_back(int(i));
    if (rest->empty()) return;
    pcl::search::KdTree<pcl::PointXYZ>::Ptr tree(new pcl::search::KdTree<pcl::PointXYZ>);
    tree->setInputCloud(cloud, rest);
    const auto fold = concave_folds(cloud, *rest, tree, float(p.fold_normal_distances * cluster_distance),
                                    float(p.fold_radius_distances * cluster_distance), float(p.concave_tolerance));
    pcl::IndicesPtr open(new pcl::Indices);
    for (auto i : *rest)
        if (!fold[i]) open->push_back(i);
    std::vector<pcl::PointIndices> clusters;
    pcl::EuclideanClusterExtraction<pcl::PointXYZ> ece;
    ece.setClusterTolerance(cluster_distance);
    ece.setMinClusterSize(1);
    ece.setMaxClusterSize(std::numeric_limits<int>::max());
    ece.setSearchMethod(tree);
    ece.setInputCloud(cloud);
    ece.setIndices(open);
    ece.extract(clusters);
    label_objects(*cloud, clusters, p, object);
    // Fold points join the object they touch, growing outward through close neighbours.
    std::deque<int> queue;
    for (auto i : *rest)
        if (object[i]) queue.push_back(i);
    pcl::Indices near;
    std::vector<float> squares;
    while (!queue.empty()) {
        const int i = queue.front();
        queue.pop_front();
        tree->radiusSearch((*cloud)[i], cluster_distance, near, squares);
        for (auto j : near)
            if (fold[j] && !object[j]) {
                object[j] = object[i];
                queue.push_back(j);
            }
    }
    renumber_by_size(object, cloud->size());
}

}  // namespace

SegmentOutcome segment(const float *xyz, std::size_t n, std::uint32_t width, std::uint32_t height,
                       const SegmentParameters &p, std::uint32_t *object) {
    SegmentOutcome out{};  // a C struct: zeroed, or an early return would hand back garbage
    std::fill(object, object + n, 0u);
    Cloud::Ptr cloud(new Cloud);
    cloud->resize(n);
    for (std::size_t i = 0; i < n; ++i) (*cloud)[i] = pcl::PointXYZ(xyz[3 * i], xyz[3 * i + 1], xyz[3 * i + 2]);
    const bool organized = p.organized && height > 1 && std::size_t(width) * height == n;
    if (organized) {
        cloud->width = width;
        cloud->height = height;
    }
    cloud->is_dense = false;
    out.organized = organized;
    // Fewer than two finite points: nothing to cut (and FLANN must not be given an empty tree).
    std::size_t finite_points = 0;
    for (const auto &q : *cloud) finite_points += finite(q);
    if (finite_points < 2) return out;
    out.spacing = point_spacing(*cloud, organized);
    if (!(out.spacing > 0)) return out;  // fewer than two distinct finite points: nothing to cut
    out.plane_distance = p.plane_distance > 0 ? p.plane_distance : p.plane_spacings * out.spacing;
    out.cluster_distance = p.cluster_distance > 0 ? p.cluster_distance : p.cluster_spacings * out.spacing;
    std::vector<Plane> supports;
    if (organized) segment_organized(cloud, p, out.plane_distance, out.cluster_distance, supports, object);
    else segment_unorganized(cloud, p, out.plane_distance, out.cluster_distance, supports, object);
    out.supports = supports.size();
    for (std::size_t s = 0; s < supports.size(); ++s)
        for (int k = 0; k < 4; ++k) out.planes[4 * s + k] = supports[s].c[k];
    return out;
}

}  // namespace cpcl_detail
