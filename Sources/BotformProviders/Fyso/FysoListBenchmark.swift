import BotformCore
import Foundation

/// Times reading one page of the Fyso bot list both ways, the fast path and JSONDecoder, on the same
/// bytes, for `botform-bench decode-list`: the fast path exists for speed, so its speed is measured
/// where it is used, in a release build, beside what it replaced.
public enum FysoListBenchmark {
    /// Best-of-rounds seconds for each stage, and whether both readings agree.
    public struct Result: Sendable {
        public var bots: Int
        /// Whether the fast path read the page (false: it deferred, and `fast` timed the deferral).
        public var fastPathTaken: Bool
        /// Whether both readings produced the same items.
        public var identical: Bool
        public var fast: Double
        public var decoder: Double
        /// Turning the page's bots into the core's `ObservedBot`s (permissions, dates).
        public var observe: Double
    }

    public static func run(_ body: Data, rounds: Int) throws -> Result {
        func best(_ work: () throws -> Void) rethrows -> Double {
            var best = Double.infinity
            for _ in 0..<max(1, rounds) {
                let start = ContinuousClock.now
                try work()
                let elapsed = ContinuousClock.now - start
                best = min(
                    best, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
            }
            return best
        }
        var fast: FysoWire.BotList?
        var decoded: FysoWire.BotList?
        let fastTime = best { fast = FysoWire.BotList.fast(body) }
        let decoderTime = try best { decoded = try JSONDecoder().decode(FysoWire.BotList.self, from: body) }
        // The bots as the provider observes them: from the fast path when it read the page.
        let bots = ((fast ?? decoded)?.entries ?? []).compactMap { try? $0.bot.get() }
        var observed: [ObservedBot] = []
        let observeTime = best {
            var observer = FysoWire.Observer()
            observed = bots.map { observer.observe($0) }
        }
        let identical =
            fast.map { list in
                list.entries.map { try? $0.bot.get() } == decoded?.entries.map { try? $0.bot.get() }
                    && list.page == decoded?.page && list.total == decoded?.total
                    && list.totalPages == decoded?.totalPages
            } ?? false
        return Result(
            bots: observed.count, fastPathTaken: fast != nil, identical: identical, fast: fastTime,
            decoder: decoderTime, observe: observeTime)
    }
}
