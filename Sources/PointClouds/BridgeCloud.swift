import CPCLInterface

/// Conversion between `PointCloud` and the bridge's PCLPointCloud2 handle. One place knows how fields
/// map: x/y/z to positions, rgb/rgba to colours, "_" is padding, everything else a float field.
enum BridgeCloud {
    static func decode(_ handle: OpaquePointer, path: String) throws(PointCloudError) -> PointCloud {
        let pcl = try PCLBridge.api()
        let width = Int(pcl.cloud_width(handle)), height = Int(pcl.cloud_height(handle))
        let n = width * height
        let fields = (0 ..< pcl.cloud_field_count(handle)).map { index in
            let info = pcl.cloud_field(handle, index)
            return FieldInfo(name: withUnsafeBytes(of: info.name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) },
                             components: Int(info.count),
                             holdsWords: info.datatype == CPCL_UINT32 || info.datatype == CPCL_FLOAT32 || info.datatype == CPCL_INT32)
        }
        var error = cpcl_error()
        return try assemble(width: width, height: height, fields: fields, path: path, floats: { index throws(PointCloudError) in
            var values = [Float](repeating: 0, count: n * fields[index].components)
            guard pcl.cloud_copy_field_float(handle, index, &values, values.count, &error) == 0 else {
                throw .invalid(path: path, reason: message(error))
            }
            return values
        }, words: { index throws(PointCloudError) in
            var words = [UInt32](repeating: 0, count: n)
            guard pcl.cloud_copy_field_u32(handle, index, &words, n, &error) == 0 else {
                throw .invalid(path: path, reason: message(error))
            }
            return words
        })
    }

    /// A field of a point record as the mapping sees it: `holdsWords` when its values are 32-bit
    /// (int32, uint32 or float32), so that an rgb/rgba field can be read as packed colours.
    struct FieldInfo {
        var name: String
        var components: Int
        var holdsWords: Bool
    }

    /// The cloud of a `width × height` grid of point records with `fields`; `floats(i)` gives field i's
    /// values (components × points, point-major) as float, `words(i)` a one-component 32-bit field's raw
    /// words. Shared by the bridge and the native PCD reader, so both map fields alike.
    static func assemble(width: Int, height: Int, fields: [FieldInfo], path: String,
                         floats: (Int) throws(PointCloudError) -> [Float],
                         words: (Int) throws(PointCloudError) -> [UInt32]) throws(PointCloudError) -> PointCloud {
        let n = width * height
        var xyz: [[Float]] = [[], [], []]
        var colors: [PointCloud.Color]?
        var hasAlpha = false
        var out = [PointCloud.Field]()
        for (index, field) in fields.enumerated() {
            let name = field.name, components = field.components
            if name == "_" || components == 0 { continue }
            if (name == "rgb" || name == "rgba") && components == 1 && field.holdsWords {
                colors = try words(index).map(PointCloud.Color.init(packed:))
                hasAlpha = name == "rgba"
                continue
            }
            let values = try floats(index)
            switch name {
            case "x" where components == 1: xyz[0] = values
            case "y" where components == 1: xyz[1] = values
            case "z" where components == 1: xyz[2] = values
            default: out.append(PointCloud.Field(name: name, components: components, values: values))
            }
        }
        guard xyz.allSatisfy({ $0.count == n }) else {
            throw .invalid(path: path, reason: "the file has no x, y and z fields")
        }
        let positions = (0 ..< n).map { SIMD3(xyz[0][$0], xyz[1][$0], xyz[2][$0]) }
        return PointCloud(positions: positions, colors: colors, colorHasAlpha: hasAlpha, fields: out,
                          width: height > 1 ? width : n, height: max(height, 1))
    }

    /// A new bridge handle holding the cloud; the caller frees it.
    static func encode(_ cloud: PointCloud) throws(PointCloudError) -> OpaquePointer {
        let organized = cloud.isOrganized && cloud.width * cloud.height == cloud.count
        let pcl = try PCLBridge.api()
        guard let handle = pcl.cloud_create(UInt32(organized ? cloud.width : cloud.count),
                                             UInt32(organized ? cloud.height : 1)) else {
            throw .invalidArgument("out of memory")
        }
        var error = cpcl_error()
        func add<T>(_ name: String, _ type: cpcl_datatype, _ components: Int, _ values: [T]) throws(PointCloudError) {
            let status = values.withUnsafeBytes {
                pcl.cloud_add_field(handle, name, type, UInt32(components), $0.baseAddress, &error)
            }
            guard status == 0 else {
                pcl.cloud_free(handle)
                throw .invalidArgument(message(error))
            }
        }
        for (axis, name) in ["x", "y", "z"].enumerated() {
            try add(name, CPCL_FLOAT32, 1, cloud.positions.map { $0[axis] })
        }
        if let colors = cloud.colors {
            try add(cloud.colorHasAlpha ? "rgba" : "rgb", CPCL_UINT32, 1, colors.map(\.packed))
        }
        for field in cloud.fields {
            try add(field.name, CPCL_FLOAT32, field.components, field.values)
        }
        return handle
    }
}
