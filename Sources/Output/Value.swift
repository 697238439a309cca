import Foundation
import Support

/// One output value: what a row of `info`, `classify` or `batch` holds, rendered as a table cell,
/// JSON or CSV by `RecordPrinter`.
public enum Value: Sendable, Equatable {
    case string(String)
    case int(Int)
    case double(Double)
    /// A float32 quantity (coordinates, probabilities, logits): printed with the digits a float has.
    case float(Float)
    case bool(Bool)
    case null
    case array([Value])
    case object(Record)

    public var json: String {
        switch self {
        case .string(let s): JSON.quoted(s)
        case .int(let i): String(i)
        case .double(let d): d.isFinite ? "\(d)" : "null"
        case .float(let f): f.isFinite ? "\(f)" : "null"
        case .bool(let b): b ? "true" : "false"
        case .null: "null"
        case .array(let items): "[" + items.map(\.json).joined(separator: ",") + "]"
        case .object(let record): record.json
        }
    }

    /// A table cell: like `text`, but float32 quantities to 4 significant digits, for reading.
    public var tableText: String {
        switch self {
        case .float(let f) where f.isFinite: String(format: "%.4g", Double(f))
        case .array(let items): items.map(\.tableText).joined(separator: " ")
        default: text
        }
    }

    /// A cell for CSV: arrays space-separated, numbers as they read back exactly.
    public var text: String {
        switch self {
        case .string(let s): s
        case .int(let i): String(i)
        case .double(let d): d.isFinite ? Self.shortest(d) : String(d)
        case .float(let f): f.isFinite ? Self.shortest(f) : String(f)
        case .bool(let b): b ? "yes" : "no"
        case .null: ""
        case .array(let items): items.map(\.text).joined(separator: " ")
        case .object(let record): record.json
        }
    }

    /// The shortest text that reads back as the same number (integers without a decimal point), so a
    /// CSV row read back and written again is the same row.
    static func shortest<T: BinaryFloatingPoint & LosslessStringConvertible>(_ x: T) -> String {
        if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
        return String(x)
    }
}

/// Ordered key/value pairs: the keys keep the order the command gives them.
public struct Record: Sendable, Equatable {
    public var fields: [(key: String, value: Value)] = []

    public init(fields: [(key: String, value: Value)] = []) { self.fields = fields }

    public static func == (a: Record, b: Record) -> Bool {
        a.fields.map(\.key) == b.fields.map(\.key) && a.fields.map(\.value) == b.fields.map(\.value)
    }

    public subscript(key: String) -> Value? {
        get { fields.first { $0.key == key }?.value }
        set {
            if let i = fields.firstIndex(where: { $0.key == key }) {
                if let newValue { fields[i].value = newValue } else { fields.remove(at: i) }
            } else if let newValue {
                fields.append((key, newValue))
            }
        }
    }

    public var json: String { "{" + fields.map { JSON.quoted($0.key) + ":" + $0.value.json }.joined(separator: ",") + "}" }
}

extension Value {
    public init(_ v: SIMD3<Float>) { self = .array([.float(v.x), .float(v.y), .float(v.z)]) }
    public init(_ strings: [String]) { self = .array(strings.map(Value.string)) }
}
