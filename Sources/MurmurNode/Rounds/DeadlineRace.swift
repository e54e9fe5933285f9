import Foundation
import MurmurCore
import MurmurP2P

/// Races a stream exchange against a deadline and answers at the deadline even if the exchange
/// is stuck (e.g. waiting for a peer that stopped reading): the late exchange's stream is reset so
/// its task ends, and its result is ignored.
///
/// A task group would wait for the stuck child; this resumes a continuation once instead.
enum DeadlineRace {
    enum Outcome<T: Sendable>: Sendable {
        case finished(T)
        case failed(any Error)
        case timedOut
    }

    /// The shared state of one race: who finished first and the stream to reset on timeout.
    final class Race<T: Sendable>: @unchecked Sendable {
        // @unchecked: every field is read and written only under `lock`.
        private let lock = NSLock()
        private var continuation: CheckedContinuation<Outcome<T>, Never>?
        private var stream: P2PStream?
        private var expired = false

        init(_ continuation: CheckedContinuation<Outcome<T>, Never>) { self.continuation = continuation }

        /// Remembers the exchange's stream; false when the deadline already passed.
        func attach(_ stream: P2PStream) -> Bool {
            lock.withLock {
                guard !expired else { return false }
                self.stream = stream
                return true
            }
        }

        /// Resumes the waiter with the first outcome; later ones are dropped. On timeout returns
        /// the stream to reset.
        func finish(_ outcome: Outcome<T>) -> P2PStream? {
            let (c, s): (CheckedContinuation<Outcome<T>, Never>?, P2PStream?) = lock.withLock {
                let c = continuation
                continuation = nil
                if case .timedOut = outcome, c != nil { expired = true }
                return (c, expired ? stream : nil)
            }
            c?.resume(returning: outcome)
            return c == nil ? nil : s
        }
    }

    static func run<T: Sendable>(deadline: Duration, _ body: @escaping @Sendable (Race<T>) async throws -> T) async -> Outcome<T> {
        let timer = LockedTask()
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Outcome<T>, Never>) in
            let race = Race(continuation)
            Task {
                do { _ = race.finish(.finished(try await body(race))) } catch { _ = race.finish(.failed(error)) }
                timer.cancel()
            }
            timer.set(Task {
                guard (try? await Task.sleep(for: deadline)) != nil else { return }
                if let stream = race.finish(.timedOut) { await stream.reset() }
            })
        }
        timer.cancel()
        return result
    }

    /// One exchange on a fresh `protocolID` stream to `peer`, raced against `deadline`: the stream
    /// is attached to the race (reset if the deadline passes first) and handed to `body`.
    static func exchange<T: Sendable>(
        host: P2PHost, peer: PeerID, protocolID: String, deadline: Duration,
        _ body: @escaping @Sendable (P2PStream) async throws -> T
    ) async -> Outcome<T> {
        await run(deadline: deadline) { (race: Race<T>) in
            let stream = try await host.newStream(to: peer, [protocolID])
            guard race.attach(stream) else {
                await stream.reset()
                throw P2PError.timeout("deadline passed while opening the stream")
            }
            return try await body(stream)
        }
    }

    /// The timer task, cancelled when the exchange ends first (no sleeping task outlives the race).
    final class LockedTask: @unchecked Sendable {
        // @unchecked: `task` and `cancelled` are only touched under `lock`.
        private let lock = NSLock()
        private var task: Task<Void, Never>?
        private var cancelled = false

        func set(_ t: Task<Void, Never>) {
            let cancelNow = lock.withLock { () -> Bool in
                task = t
                return cancelled
            }
            if cancelNow { t.cancel() }
        }

        func cancel() {
            let t = lock.withLock { () -> Task<Void, Never>? in
                cancelled = true
                return task
            }
            t?.cancel()
        }
    }
}
