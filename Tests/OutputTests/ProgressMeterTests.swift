import Foundation
import Testing
@testable import Output

/// Progress off a terminal: lines a log can follow, none for short or quiet work.
@Suite struct ProgressMeterTests {
    final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var stored = [String]()
        var all: [String] { lock.withLock { stored } }
        func append(_ line: String) { lock.withLock { stored.append(line) } }
    }

    @Test func linesSayHowFarAndHowFast() {
        let lines = Lines()
        let meter = ProgressMeter(total: 4, label: "batch", style: .lines, interval: 0, sink: lines.append)
        for _ in 0 ..< 4 { meter.advance() }
        meter.finish()
        #expect(lines.all.count == 4)
        #expect(lines.all.first?.hasPrefix("batch: 1/4 (25 %), ") == true, "\(lines.all)")
        #expect(lines.all.last?.hasPrefix("batch: 4/4 (100 %), ") == true)
        #expect(lines.all.allSatisfy { $0.contains("/s, eta ") && !$0.contains("\r") }, "plain lines, no redraws: \(lines.all)")
    }

    @Test func workShorterThanTheIntervalPrintsNothing() {
        let lines = Lines()
        let meter = ProgressMeter(total: 3, label: "batch", style: .lines, interval: 3600, sink: lines.append)
        meter.advance(by: 3)
        #expect(lines.all.isEmpty)
        #expect(meter.done == 3)
    }

    @Test func quietRunsAndSingleItemsShowNoProgress() {
        let lines = Lines()
        Console(level: .quiet, sink: lines.append).progress(total: 100, label: "q").advance(by: 100)
        Console(level: .normal, sink: lines.append).progress(total: 1, label: "one").advance()
        #expect(lines.all.isEmpty)
    }
}
