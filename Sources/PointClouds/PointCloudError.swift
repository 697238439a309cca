/// What can go wrong with a point cloud file or a processing step. The description is one line that
/// names the file (when there is one) and the cause, ready to print after "error: ".
public enum PointCloudError: Error, Equatable, CustomStringConvertible {
    /// The file system refused: missing file, a directory, no permission.
    case unreadable(path: String, reason: String)
    /// The file was read but is not a usable point cloud.
    case invalid(path: String, reason: String)
    /// The output could not be written.
    case unwritable(path: String, reason: String)
    /// A processing step was given arguments it cannot work with.
    case invalidArgument(String)
    /// The PCL bridge library could not be loaded (a broken build or install): the message names it.
    case bridgeUnavailable(String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason), .invalid(let path, let reason), .unwritable(let path, let reason):
            "\(path): \(reason)"
        case .invalidArgument(let reason), .bridgeUnavailable(let reason):
            reason
        }
    }
}
