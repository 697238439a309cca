import Networks
import Output

/// Shows a training run (`train`, `adapt`) on the console: log lines, and a progress meter per epoch.
final class ConsoleTrainingObserver: TrainingObserver {
    let console: Console
    private var meter = ProgressMeter.none()
    private var done = 0

    init(_ console: Console) { self.console = console }

    func note(_ line: String) { console.info(line) }

    func warning(_ line: String) { console.warning(line) }

    func epochStarted(_ epoch: Int, of epochs: Int, clouds: Int) {
        meter = console.progress(total: clouds, label: "epoch \(epoch)/\(epochs)")
        done = 0
    }

    func progressed(to clouds: Int) {
        meter.advance(by: clouds - done)
        done = clouds
    }

    func epochFinished() { meter.finish() }
}
