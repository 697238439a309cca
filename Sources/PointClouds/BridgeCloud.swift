import CPCL

/// Conversion between `PointCloud` and the bridge's PCLPointCloud2 handle. One place knows how fields
/// map: x/y/z to positions, rgb/rgba to colours, "_" is padding, everything else a float field.
enum BridgeCloud {
    static func decode(_ handle: OpaquePointer, path: String) throws(PointCloudError) -> PointCloud {
        let width = Int(cpcl_cloud_width(handle)), height = Int(cpcl_cloud_height(handle))
        let n = width * height
        var xyz: [[Float]] = [[], [], []]
        var colors: [PointCloud.Color]?
        var hasAlpha = false
        var fields = [PointCloud.Field]()
        var error = cpcl_error()
        for index in 0 ..< cpcl_cloud_field_count(handle) {
            let info = cpcl_cloud_field(handle, index)
            let name = withUnsafeBytes(of: info.name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            let components = Int(info.count)
            if name == "_" || components == 0 { continue }
            if (name == "rgb" || name == "rgba") && components == 1
                && (info.datatype == CPCL_UINT32 || info.datatype == CPCL_FLOAT32 || info.datatype == CPCL_INT32) {
                var words = [UInt32](repeating: 0, count: n)
                guard cpcl_cloud_copy_field_u32(handle, index, &words, n, &error) == 0 else {
                    throw .invalid(path: path, reason: message(error))
                }
                colors = words.map(PointCloud.Color.init(packed:))
                hasAlpha = name == "rgba"
                continue
            }
            var values = [Float](repeating: 0, count: n * components)
            guard cpcl_cloud_copy_field_float(handle, index, &values, values.count, &error) == 0 else {
                throw .invalid(path: path, reason: message(error))
            }
            switch name {
            case "x" where components == 1: xyz[0] = values
            case "y" where components == 1: xyz[1] = values
            case "z" where components == 1: xyz[2] = values
            default: fields.append(PointCloud.Field(name: name, components: components, values: values))
            }
        }
        guard xyz.allSatisfy({ $0.count == n }) else {
            throw .invalid(path: path, reason: "the file has no x, y and z fields")
        }
        let positions = (0 ..< n).map { SIMD3(xyz[0][$0], xyz[1][$0], xyz[2][$0]) }
        return PointCloud(positions: positions, colors: colors, colorHasAlpha: hasAlpha, fields: fields,
                          width: height > 1 ? width : n, height: max(height, 1))
    }

    /// A new bridge handle holding the cloud; the caller frees it.
    static func encode(_ cloud: PointCloud) throws(PointCloudError) -> OpaquePointer {
        let organized = cloud.isOrganized && cloud.width * cloud.height == cloud.count
        guard let handle = cpcl_cloud_create(UInt32(organized ? cloud.width : cloud.count),
                                             UInt32(organized ? cloud.height : 1)) else {
            throw .invalidArgument("out of memory")
        }
        var error = cpcl_error()
        func add<T>(_ name: String, _ type: cpcl_datatype, _ components: Int, _ values: [T]) throws(PointCloudError) {
            let status = values.withUnsafeBytes {
                cpcl_cloud_add_field(handle, name, type, UInt32(components), $0.baseAddress, &error)
            }
            guard status == 0 else {
                cpcl_cloud_free(handle)
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
