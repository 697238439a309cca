/// A diagnostics problem, in one line; the caller adds the file it concerns.
public enum DiagnosticsError: Error, Equatable, CustomStringConvertible {
    /// Calibration could not be fitted, or what a model file stores of it is unusable.
    case calibration(String)

    public var description: String {
        switch self {
        case .calibration(let reason): reason
        }
    }
}
