import Adaptation
import ArgumentParser
import Networks

extension Gate.Kind: ExpressibleByArgument {}
extension Gate.Threshold: ExpressibleByArgument {}

/// `--guard on|off`.
enum GuardSwitch: String, ExpressibleByArgument, CaseIterable {
    case on, off
}

/// The adaptation recipe's options of `adapt`, with their checks and the `AdaptationOptions` they make.
struct AdaptRecipeOptions: ParsableArguments {
    @OptionGroup var optimisation: OptimisationOptions<AdaptationOptions>
    @Flag(name: .customLong("no-mixup"), help: "Source classification without PCM mixup.") var noMixup = false
    @Option(name: .customLong("simulate-views"), help: "Share of source clouds replaced, in each batch, by a simulated single view of themselves (occlusion from a random viewpoint, prepared as a scan); 0: off.")
    var simulateViews = 0.0
    @Option(name: .customLong("view-severities"), help: "Occlusion severities of the simulated views, FIRST:LAST within 1…5 (the sensor 10, 4, 2.5, 1.8, 1.4 radii away).")
    var viewSeverities = "1:3"
    @Option(name: .customLong("defrec-weight"), help: "Weight of DefRec reconstruction (0: off).") var defrecWeight = 0.5
    @Option(name: .customLong("rotation-weight"), help: "Weight of rotation prediction (0: off).") var rotationWeight = 0.5
    @Flag(name: .customLong("ssl-on-source"), help: "Also run the self-supervised tasks on source batches.") var sslOnSource = false
    @Flag(name: .customLong("batch-statistics"), help: "BatchNorm normalises with each batch's statistics and updates its running ones (DefRec's reference code); default: the source model's statistics, frozen.")
    var batchStatistics = false
    @Option(help: "Gate of the self-supervised loss: none, skewness (SM-DSB) or random.") var gate = Gate.Kind.skewness
    @Option(name: .customLong("keep-ratio"), help: "ρ: share of each batch the gate keeps.") var keepRatio = 0.5
    @Option(name: .customLong("gate-threshold"), help: "batch (the batch's own ρ-quantile) or running (recent batches').")
    var gateThreshold = Gate.Threshold.batch
    @Option(help: "α of the measurer's saliency map.") var alpha = 1.0
    @Option(name: .customLong("self-training-from"), help: "First epoch (1-based) with target pseudo-labels; off by default.") var selfTrainingFrom: Int?
    @Option(name: .customLong("pseudo-share"), help: "Share of each predicted class pseudo-labelled (most confident first), first:last epoch of self-training.")
    var pseudoShare = "0.2:0.6"
    @Option(name: .customLong("pseudo-weight"), help: "Weight of the pseudo-label loss.") var pseudoWeight = 1.0
    @Option(name: .customLong("guard"), help: "Target guard: after every epoch, compare the model's answers on the target with the source model's (no labels); an epoch that fails is never chosen, and when none passes the source model is written. off: only report.")
    var guardSwitch = GuardSwitch.on
    @Option(name: .customLong("guard-agreement"), help: "The guard fails an epoch that agrees with the source model on less than this share of the target clouds the source model is most confident about.")
    var guardAgreement = TargetGuard().minimumAgreement
    @Option(name: .customLong("guard-balance-drop"), help: "The guard fails an epoch whose predicted-class balance (entropy of the predicted class shares over the target, normalised to [0, 1]) is more than this below the source model's.")
    var guardBalanceDrop = TargetGuard().maximumBalanceDrop
    @Option(name: .customLong("guard-confident-share"), help: "The share of the source model's target predictions of each class, most confident first, that --guard-agreement is measured on.")
    var guardConfidentShare = TargetGuard().confidentShare
    @Flag(name: .customLong("target-labels"), help: "Report target accuracy from the target's class folders (never used to train or choose).")
    var targetLabels = false
    @Option(help: "Stop after this many epochs without a better source validation accuracy.") var patience: Int?
    @Option(help: "Use a seeded subset of at most N clouds of each set (quick runs).") var limit: Int?

    func validate() throws {
        guard keepRatio > 0 && keepRatio <= 1 else { throw ValidationError("--keep-ratio must be in (0, 1]") }
        guard (0 ... 1).contains(simulateViews) else { throw ValidationError("--simulate-views must be in [0, 1]") }
        guard defrecWeight >= 0, rotationWeight >= 0, pseudoWeight >= 0 else { throw ValidationError("task weights must be ≥ 0") }
        if let selfTrainingFrom, selfTrainingFrom < 1 || selfTrainingFrom > optimisation.epochs {
            throw ValidationError("--self-training-from must be an epoch between 1 and --epochs")
        }
        guard (0 ... 1).contains(guardAgreement) else { throw ValidationError("--guard-agreement must be in [0, 1]") }
        guard (0 ... 1).contains(guardBalanceDrop) else { throw ValidationError("--guard-balance-drop must be in [0, 1]") }
        guard guardConfidentShare > 0 && guardConfidentShare <= 1 else { throw ValidationError("--guard-confident-share must be in (0, 1]") }
        _ = try shares()
        _ = try severities()
        if let limit, limit < optimisation.batchSize { throw ValidationError("--limit must be at least --batch-size") }
    }

    func shares() throws -> (Double, Double) {
        guard let shares = Self.pair(pseudoShare, within: 0.0 ... 1) else {
            throw ValidationError("--pseudo-share must be S or FIRST:LAST with values in [0, 1]")
        }
        return shares
    }

    func severities() throws -> ClosedRange<Int> {
        guard let (first, last) = Self.pair(viewSeverities, within: 1 ... 5), first <= last else {
            throw ValidationError("--view-severities must be S or FIRST:LAST with 1 ≤ FIRST ≤ LAST ≤ 5")
        }
        return first ... last
    }

    /// "S" (both the same) or "FIRST:LAST", each within `range`; nil for anything else.
    static func pair<T: LosslessStringConvertible & Comparable>(_ text: String, within range: ClosedRange<T>) -> (T, T)? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map { T(String($0)) }
        guard (1 ... 2).contains(parts.count), let first = parts[0], let last = parts.last!, range.contains(first), range.contains(last) else {
            return nil
        }
        return (first, last)
    }

    var options: AdaptationOptions {
        get throws {
            var o = optimisation.recipe
            o.mixup = !noMixup
            o.sensorSimulation = simulateViews > 0 ? SensorSimulation(probability: simulateViews, severities: try severities()) : nil
            o.reconstructionWeight = defrecWeight
            o.rotationWeight = rotationWeight
            o.selfSupervisedOnSource = sslOnSource
            o.batchStatistics = batchStatistics
            o.gate = Gate(kind: gate, keepRatio: keepRatio, threshold: gateThreshold)
            o.saliencyAlpha = alpha
            let (first, last) = try shares()
            o.targetGuard = TargetGuard(enabled: guardSwitch == .on, minimumAgreement: guardAgreement, maximumBalanceDrop: guardBalanceDrop,
                                        confidentShare: guardConfidentShare)
            o.selfTraining = selfTrainingFrom.map { SelfTraining(fromEpoch: $0, startShare: first, endShare: last, weight: pseudoWeight) }
            return o
        }
    }
}
