import Foundation
import Networks

/// How a model was adapted to a new domain: enough to repeat it. Target labels are never used.
/// Kept in the model file as an attachment (`attachment.adaptation`), as the calibration is: the
/// network's own metadata knows nothing of what later steps did with it.
public struct AdaptationRecord: Sendable, Equatable, Codable {
    public var sourceModel: String
    public var sourceData: String
    public var targetData: String
    /// The epoch whose weights these are (chosen on source validation accuracy among the epochs the
    /// target guard let through; 0: the unadapted source model) and of how many run.
    public var epoch: Int
    public var epochs: Int
    public var seed: UInt64
    public var recipe: String
    public var sourceValidationAccuracy: Double?
    public var command: String?
    /// What the target guard saw and did (nil in records of older runs).
    public var targetGuard: GuardSummary? = nil
}

extension AdaptationRecord {
    static let metadataKey = "adaptation"

    /// Read from a model's attachments; nil when the model was not adapted. A record that cannot be
    /// read or that holds impossible figures names the file.
    public init?(_ attachments: Attachments, path: String) throws(ModelError) {
        guard let json = attachments.metadata[Self.metadataKey] else { return nil }
        guard let record = try? JSONDecoder().decode(Self.self, from: Data(json.utf8)) else {
            throw .invalid(path: path, reason: "the adaptation record is not valid")
        }
        let epochs = ModelMetadata.Limits.epochs
        guard epochs.contains(record.epochs), (0 ... record.epochs).contains(record.epoch) else {
            throw .invalid(path: path, reason: "an adaptation record of epoch \(record.epoch) of \(record.epochs) (allowed ≤ \(epochs.upperBound) epochs)")
        }
        if let g = record.targetGuard, !(0 ... record.epochs).contains(g.selectedEpoch) {
            throw .invalid(path: path, reason: "an adaptation record whose guard chose epoch \(g.selectedEpoch) of \(record.epochs)")
        }
        if let v = record.sourceValidationAccuracy, !(0 ... 1).contains(v) {
            throw .invalid(path: path, reason: "an adaptation record with a source validation accuracy of \(v)")
        }
        self = record
    }

    /// Fails only when the accuracy is not finite (JSON cannot hold it); `path` is the model's.
    func store(in attachments: inout Attachments, path: String) throws(ModelError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        guard let json = try? encoder.encode(self) else { throw .unwritable(path: path, reason: "the adaptation record holds a non-finite figure") }
        attachments.metadata[Self.metadataKey] = String(decoding: json, as: UTF8.self)
    }
}
