/// What `pcdiag batch` found, as plain values: the batch command fills them, `htmlReport` draws them.
/// Kept free of the types that computed them, so the report can be built (and tested) from numbers alone.
public struct ReportData: Sendable, Equatable {
    /// The document's heading, e.g. "pcdiag batch report".
    public var title: String
    /// When the report was made, as the reader should see it.
    public var generated: String
    /// The model file and its architecture.
    public var model: String
    /// What was scanned.
    public var inputs: String
    public var summary: ReportSummary
    /// The batch against the training reference; nil when the model carries no calibration.
    public var shift: ShiftReport?
    /// The most fragile objects first; the batch command keeps a few dozen at most, since each has a render.
    public var flagged: [FlaggedObject]
    /// Accuracy and calibration; nil unless true labels were given.
    public var labelled: LabelledReport?
    /// With `--scene`: the first scenes, each drawn with its objects.
    public var scenes: [SceneCard]

    public init(title: String, generated: String, model: String, inputs: String, summary: ReportSummary,
                shift: ShiftReport? = nil, flagged: [FlaggedObject] = [], labelled: LabelledReport? = nil, scenes: [SceneCard] = []) {
        self.title = title
        self.generated = generated
        self.model = model
        self.inputs = inputs
        self.summary = summary
        self.shift = shift
        self.flagged = flagged
        self.labelled = labelled
        self.scenes = scenes
    }
}

/// A scene of a `--scene` batch: its objects coloured by class, the fragile ones marked.
public struct SceneCard: Sendable, Equatable {
    public var path: String
    public var objects: Int
    public var fragile: Int
    /// An `<svg>…</svg>` element from `ViewRender.svg()`.
    public var renderSVG: String

    public init(path: String, objects: Int, fragile: Int, renderSVG: String) {
        (self.path, self.objects, self.fragile, self.renderSVG) = (path, objects, fragile, renderSVG)
    }
}

/// Counts and timings over the whole batch.
public struct ReportSummary: Sendable, Equatable {
    /// Objects classified (the failed ones not included).
    public var objects: Int
    /// Inputs that could not be read or prepared.
    public var failed: Int
    /// Classified objects flagged as fragile; the report shows them as a share of `objects`.
    public var flagged: Int
    /// Objects per predicted class, drawn in the order given.
    public var classHistogram: [ClassCount]
    /// Wall time per object, median and 95th percentile.
    public var medianMilliseconds: Double
    public var p95Milliseconds: Double

    public init(objects: Int, failed: Int, flagged: Int, classHistogram: [ClassCount],
                medianMilliseconds: Double, p95Milliseconds: Double) {
        self.objects = objects
        self.failed = failed
        self.flagged = flagged
        self.classHistogram = classHistogram
        self.medianMilliseconds = medianMilliseconds
        self.p95Milliseconds = p95Milliseconds
    }
}

/// One bar of the class histogram.
public struct ClassCount: Sendable, Equatable {
    public var name: String
    public var count: Int

    public init(name: String, count: Int) {
        self.name = name
        self.count = count
    }
}

/// The batch's indicator distributions tested against the training reference.
public struct ShiftReport: Sendable, Equatable {
    public var looksLikeTraining: Bool
    /// One plain sentence that says what was found.
    public var verdict: String
    public var indicators: [IndicatorShift]

    public init(looksLikeTraining: Bool, verdict: String, indicators: [IndicatorShift]) {
        self.looksLikeTraining = looksLikeTraining
        self.verdict = verdict
        self.indicators = indicators
    }
}

/// One indicator's two-sample comparison. p-values may be NaN (too few values to test); the report
/// shows them as "–".
public struct IndicatorShift: Sendable, Equatable {
    /// The indicator's name as in pcdiag's machine-readable output, e.g. "skewness".
    public var key: String
    public var batchCount: Int
    /// Kolmogorov–Smirnov D.
    public var statistic: Double
    public var pValue: Double
    /// After the correction for testing several indicators at once.
    public var adjustedPValue: Double
    public var cliffsDelta: Double
    /// The effect size in words ("negligible", "small", …).
    public var magnitude: String
    public var significant: Bool
    /// The batch's values, or a sample of them; non-finite ones are not drawn.
    public var batchValues: [Double]
    /// Equally spaced quantiles of the training reference, from its minimum to its maximum, ascending:
    /// consecutive quantiles enclose equal probability mass.
    public var referenceQuantiles: [Double]

    public init(key: String, batchCount: Int, statistic: Double, pValue: Double, adjustedPValue: Double,
                cliffsDelta: Double, magnitude: String, significant: Bool, batchValues: [Double],
                referenceQuantiles: [Double]) {
        self.key = key
        self.batchCount = batchCount
        self.statistic = statistic
        self.pValue = pValue
        self.adjustedPValue = adjustedPValue
        self.cliffsDelta = cliffsDelta
        self.magnitude = magnitude
        self.significant = significant
        self.batchValues = batchValues
        self.referenceQuantiles = referenceQuantiles
    }
}

/// An object the batch command thinks deserves a look.
public struct FlaggedObject: Sendable, Equatable {
    public var path: String
    public var predictedClass: String
    /// The predicted class's softmax probability.
    public var probability: Double
    public var fragility: Double
    /// Why it was flagged, one short phrase each.
    public var reasons: [String]
    public var trueClass: String?
    /// An `<svg>…</svg>` element from `ViewRender.svg()`, embedded as it is (it is trusted markup).
    public var renderSVG: String?

    public init(path: String, predictedClass: String, probability: Double, fragility: Double,
                reasons: [String], trueClass: String? = nil, renderSVG: String? = nil) {
        self.path = path
        self.predictedClass = predictedClass
        self.probability = probability
        self.fragility = fragility
        self.reasons = reasons
        self.trueClass = trueClass
        self.renderSVG = renderSVG
    }
}

/// Accuracy, calibration and how well each indicator separates errors, when true labels were given.
public struct LabelledReport: Sendable, Equatable {
    public var classes: [String]
    /// Counts, rows the true class, columns the predicted class, both in the order of `classes`.
    public var confusion: [[Int]]
    public var accuracy: Double
    public var reliability: [ReliabilityBin]
    public var expectedCalibrationError: Double
    /// Indicator key → AUROC of telling wrong predictions from right ones; may be empty.
    public var errorDetectionAUROC: [String: Double]

    public init(classes: [String], confusion: [[Int]], accuracy: Double, reliability: [ReliabilityBin],
                expectedCalibrationError: Double, errorDetectionAUROC: [String: Double] = [:]) {
        self.classes = classes
        self.confusion = confusion
        self.accuracy = accuracy
        self.reliability = reliability
        self.expectedCalibrationError = expectedCalibrationError
        self.errorDetectionAUROC = errorDetectionAUROC
    }
}

/// One confidence bin of a reliability diagram.
public struct ReliabilityBin: Sendable, Equatable {
    public var lower: Double
    public var upper: Double
    public var count: Int
    /// Mean confidence and accuracy of the predictions in the bin; both 0 when the bin is empty.
    public var meanConfidence: Double
    public var accuracy: Double

    public init(lower: Double, upper: Double, count: Int, meanConfidence: Double, accuracy: Double) {
        self.lower = lower
        self.upper = upper
        self.count = count
        self.meanConfidence = meanConfidence
        self.accuracy = accuracy
    }

    /// `count` equal-width bins over [0, 1], every bin returned (empty ones too, so a diagram keeps
    /// its axis). Bin i holds confidences in [i/count, (i+1)/count), the last one also 1; confidences
    /// outside [0, 1] are clamped, NaN ones left out with their `correct` flag.
    public static func bins(confidences: [Double], correct: [Bool], count: Int = 10) -> [ReliabilityBin] {
        precondition(confidences.count == correct.count, "one correctness flag per confidence")
        precondition(count > 0, "at least one bin")
        var n = [Int](repeating: 0, count: count), right = n
        var confidence = [Double](repeating: 0, count: count)
        for (c, ok) in zip(confidences, correct) where !c.isNaN {
            let clamped = min(max(c, 0), 1), i = min(Int(clamped * Double(count)), count - 1)
            n[i] += 1
            confidence[i] += clamped
            if ok { right[i] += 1 }
        }
        return (0 ..< count).map { i in
            ReliabilityBin(lower: Double(i) / Double(count), upper: Double(i + 1) / Double(count), count: n[i],
                           meanConfidence: n[i] > 0 ? confidence[i] / Double(n[i]) : 0,
                           accuracy: n[i] > 0 ? Double(right[i]) / Double(n[i]) : 0)
        }
    }
}

/// Expected calibration error, Σ (countᵢ / N) · |accuracyᵢ − meanConfidenceᵢ| with N the total count;
/// NaN when the bins hold nothing.
public func expectedCalibrationError(_ bins: [ReliabilityBin]) -> Double {
    let total = bins.reduce(0) { $0 + $1.count }
    guard total > 0 else { return .nan }
    return bins.reduce(0) { $0 + Double($1.count) / Double(total) * abs($1.accuracy - $1.meanConfidence) }
}
