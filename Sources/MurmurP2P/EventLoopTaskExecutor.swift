import NIOCore

/// A Swift `TaskExecutor` that runs jobs on one NIO event loop.
///
/// A task that prefers it (`Task(executorPreference:)`, `withTaskExecutorPreference`) runs its
/// non-isolated code on the event loop's thread, so `P2PStream.read` and `write` on a stream of
/// a connection on that loop complete without leaving the thread: no hand-off to the Swift
/// cooperative pool and back per call (two thread wake-ups each on a busy stream). Only for
/// I/O-bound code: anything slow it does holds up every connection on the loop.
public final class EventLoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    /// The loop the jobs run on.
    public let eventLoop: any EventLoop

    /// An executor for `eventLoop`.
    public init(_ eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
