import Foundation
import MurmurTestSupport
import Testing
@testable import MurmurLog

/// SIGKILL the appending `murmur log append` process at random moments, 20 times; after each restart
/// every acknowledged entry is present with its bytes and every published checkpoint is consistent.
@Suite struct CrashSafetyTests {
    static func run(_ args: [String]) throws -> (Int32, String) {
        let r = try runProcess(murmurBinary, args)
        return (r.status, r.stdout)
    }

    @Test func sigkillDuringHeavyAppends() async throws {
        try await onOwnThreads(.blocking) {
            signal(SIGPIPE, SIG_IGN)
            let dir = temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let logDir = dir.appendingPathComponent("log").path
            #expect(try Self.run(["log", "init", logDir, "--origin", "murmur.test/crash"]).0 == 0)
            var acknowledged: [UInt64: [UInt8]] = [:]
            var published: [(UInt64, LogHash)] = []
            var rng = SystemRandomNumberGenerator()
            for run in 0..<20 {
                let p = Process()
                p.executableURL = murmurBinary
                p.arguments = ["log", "append", logDir, "--batch", "500", "--checkpoint-each-batch"]
                let input = Pipe(), output = Pipe()
                p.standardInput = input
                p.standardOutput = output
                p.standardError = FileHandle.nullDevice
                try p.run()
                // Writer: lines "r<run>-<k>" as fast as the pipe takes them, until the child dies.
                let fd = input.fileHandleForWriting.fileDescriptor
                let writer = Thread {
                    var k = 0
                    while true {
                        var chunk = ""
                        for _ in 0..<200 { chunk += "r\(run)-\(k)\n"; k += 1 }
                        let bytes = Array(chunk.utf8)
                        let ok = bytes.withUnsafeBufferPointer { buf -> Bool in
                            var off = 0
                            while off < buf.count {
                                let w = write(fd, buf.baseAddress! + off, buf.count - off)
                                if w <= 0 { return false }
                                off += w
                            }
                            return true
                        }
                        if !ok { return }
                    }
                }
                writer.start()
                // Drain stdout concurrently so the child never blocks on a full pipe.
                let collected = OutputCollector()
                let done = DispatchSemaphore(value: 0)
                let reader = Thread { collected.data = output.fileHandleForReading.readDataToEndOfFile(); done.signal() }
                reader.start()
                try await Task.sleep(for: .milliseconds(Int.random(in: 150...900, using: &rng)))
                kill(p.processIdentifier, SIGKILL)
                p.waitUntilExit()
                try? input.fileHandleForWriting.close()
                done.wait()
                let printed = String(decoding: collected.data ?? Data(), as: UTF8.self)
                // Only complete lines were acknowledged; the k-th index line is the k-th line written this run.
                var k = 0
                let firstNew = published.count
                for line in printed.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
                    if line.hasPrefix("checkpoint ") {
                        let f = line.split(separator: " ")
                        published.append((UInt64(f[1])!, LogHash(base64: f[2])!))
                    } else {
                        acknowledged[UInt64(line)!] = [UInt8]("r\(run)-\(k)")
                        k += 1
                    }
                }
                // Restart: open the log and check what was promised.
                let log = try LogDirectory(path: logDir).open()
                let n = log.size
                for (i, e) in acknowledged where i >= n || i % 97 == UInt64(run) {
                    #expect(i < n, "acknowledged entry \(i) lost (size \(n))")
                    if i < n { #expect(try log.entry(at: i) == e, "entry \(i)") }
                }
                // This run's checkpoints, and a sample of earlier ones (all are checked again at the end).
                for (j, (size, root)) in published.enumerated() where size > 0 && size <= n && (j >= firstNew || j % 25 == run) {
                    #expect(try log.rootHash(size: size) == root)
                    try MerkleProof.verifyConsistency(from: size, to: n, proof: log.consistencyProof(from: size), oldRoot: root, newRoot: log.state.root)
                }
                #expect(published.allSatisfy { $0.0 <= n })
            }
            #expect(acknowledged.count > 1000, "the appender acknowledged too little to test anything")
            let final = try LogDirectory(path: logDir).open()
            try final.verifyIntegrity()
            // Every acknowledged entry, one bundle decode per 256 entries.
            let n = final.size
            var found = 0
            for b in 0..<((n + 255) >> 8) {
                let width = Int(min(256, n - b << 8))
                let entries = try EntryBundle.decode(final.resource(TileID(entriesAt: b, width: width)))
                for (j, e) in entries.enumerated() {
                    if let want = acknowledged[b << 8 + UInt64(j)] {
                        #expect(Array(e) == want, "entry \(b << 8 + UInt64(j))")
                        found += 1
                    }
                }
            }
            #expect(found == acknowledged.count)
        }
    }
}

/// Holds what the reader thread collected; written once by that thread, read after it finished.
final class OutputCollector: @unchecked Sendable {
    // Safe: the reader thread writes `data` once, then signals a semaphore the test waits on before reading.
    var data: Data?
}
