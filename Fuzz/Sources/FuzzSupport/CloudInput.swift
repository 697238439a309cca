import PointClouds

extension InputFile {
    /// The input as a cloud file of extension `ext` through pcdiag's reader for it. Every failure must
    /// be a thrown PointCloudError, never a crash. Meshes are sampled to 64 points: the sampler runs,
    /// and the parse is what is under test.
    public static func readCloud(_ data: UnsafePointer<UInt8>?, _ size: Int, extension ext: String) -> Int32 {
        with(data, size, extension: ext) { path in
            _ = try? PointCloudFile.read(path, options: CloudReadOptions(mesh: .sample(points: 64)))
        }
        return 0
    }
}
