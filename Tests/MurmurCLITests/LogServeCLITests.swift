import Foundation
import MurmurTestSupport
import Testing

/// `murmur log serve`, `murmur log witness …` and `murmur log verify --url` as a user runs them:
/// real processes on 127.0.0.1 with port 0, stopped with SIGTERM (which must exit 0).
@Suite(.timeLimit(.minutes(2))) struct LogServeCLITests {
    /// A running `murmur` server process and the URL it printed.
    final class Server {
        let process = Process()
        let url: String

        init(_ args: [String]) throws {
            process.executableURL = murmurBinary
            process.arguments = args
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Wait (bounded) for the line "… at http://HOST:PORT".
            let reader = out.fileHandleForReading
            var text = ""
            let deadline = Date().addingTimeInterval(30)
            while !text.contains("\n"), Date() < deadline, process.isRunning {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                text += String(decoding: chunk, as: UTF8.self)
            }
            guard let r = text.range(of: "http://") else {
                process.terminate()
                throw CLIFailure(message: "server printed no URL: '\(text)'")
            }
            url = String(text[r.lowerBound...].prefix { !$0.isWhitespace })
        }

        /// SIGTERM, then the exit status (bounded wait).
        func stop() async -> Int32? {
            process.terminate()
            let deadline = Date().addingTimeInterval(15)
            while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL); return nil }
            return process.terminationStatus
        }
    }

    struct CLIFailure: Error { var message: String }

    func murmur(_ args: [String]) async throws -> ProcessOutput { try await runProcessAsync(murmurBinary, args) }

    func tempDir() -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("murmur-cli-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }

    @Test func serveVerifyAndWitness() async throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = dir.appendingPathComponent("log").path, w = dir.appendingPathComponent("w").path
        await #expect(try murmur(["log", "init", log, "--origin", "example.com/served"]).status == 0)
        let input = dir.appendingPathComponent("in.txt").path
        try (0..<300).map { "entry \($0)\n" }.joined().write(toFile: input, atomically: true, encoding: .utf8)
        let append = try await runProcessAsync(URL(fileURLWithPath: "/bin/sh"), ["-c", "'\(murmurBinary.path)' log append '\(log)' < '\(input)'"])
        #expect(append.status == 0, "\(append.stderr)")
        await #expect(try murmur(["log", "checkpoint", log]).status == 0)
        let entryFile = dir.appendingPathComponent("e.txt").path
        try "entry 257".write(toFile: entryFile, atomically: true, encoding: .utf8)

        let server = try Server(["log", "serve", log, "--listen", "127.0.0.1:0"])
        let ok = try await murmur(["log", "verify", "--url", server.url, "--log-key", log + "/log.vkey", "--index", "257", "--entry-file", entryFile])
        #expect(ok.status == 0 && ok.stdout.contains("is entry 257 of example.com/served at size 300"), "\(ok.stderr)")
        let fetched = try await murmur(["log", "verify", "--url", server.url, "--log-key", log + "/log.vkey", "--index", "3"])
        #expect(fetched.status == 0 && fetched.stdout == "entry 3", "\(fetched.stderr)")
        let wrong = try await murmur(["log", "verify", "--url", server.url, "--log-key", log + "/log.vkey", "--index", "256", "--entry-file", entryFile])
        #expect(wrong.status != 0 && wrong.stderr.contains("different entry"), "\(wrong.stderr)")

        // A witness: init, serve, get the log's checkpoint cosigned, then the served checkpoint carries it.
        let winit = try await murmur(["log", "witness", "init", w, "--name", "witness.example/w1"])
        #expect(winit.status == 0 && winit.stdout.hasPrefix("witness.example/w1+"), "\(winit.stderr)")
        var witness = try Server(["log", "witness", "serve", w, "--log-key", log + "/log.vkey", "--listen", ":0"])
        let add = try await murmur(["log", "witness", "add", log, "--witness", witness.url, "--witness-key", w + "/witness.vkey"])
        #expect(add.status == 0 && add.stdout.contains("cosigned by witness.example/w1: size 300"), "\(add.stderr)")
        let cp = try await murmur(["log", "checkpoint", log])
        #expect(cp.stdout.contains("\u{2014} witness.example/w1 "), "\(cp.stdout)")
        let quorum = try await murmur(["log", "verify", "--url", server.url, "--log-key", log + "/log.vkey", "--witness-key", w + "/witness.vkey", "--index", "0"])
        #expect(quorum.status == 0 && quorum.stdout == "entry 0", "\(quorum.stderr)")

        // The witness restarts and still knows size 300: growing the log needs a consistency proof from 300.
        await #expect(witness.stop() == 0)
        witness = try Server(["log", "witness", "serve", w, "--log-key", log + "/log.vkey", "--listen", ":0"])
        let more = try await runProcessAsync(URL(fileURLWithPath: "/bin/sh"), ["-c", "printf 'x\\ny\\n' | '\(murmurBinary.path)' log append '\(log)'"])
        #expect(more.status == 0)
        let add2 = try await murmur(["log", "witness", "add", log, "--witness", witness.url, "--witness-key", w + "/witness.vkey"])
        #expect(add2.status == 0 && add2.stdout.contains("size 302 (witness was at 300)"), "\(add2.stdout) \(add2.stderr)")

        await #expect(witness.stop() == 0)
        await #expect(server.stop() == 0)
        let gone = try await murmur(["log", "verify", "--url", server.url, "--log-key", log + "/log.vkey", "--index", "0"])
        #expect(gone.status != 0 && gone.stderr.contains("cannot reach the log"), "\(gone.stderr)")
    }

    @Test func helpTeachesAndBadInputIsRefused() async throws {
        let help = try await murmur(["log", "witness", "--help"])
        #expect(help.status == 0 && help.stdout.contains("murmur log witness serve") && help.stdout.contains("murmur log witness init"))
        let serveHelp = try await murmur(["log", "serve", "--help"])
        #expect(serveHelp.stdout.contains("/tile/entries/") && serveHelp.stdout.contains("SIGTERM"))
        let bad = try await murmur(["log", "serve", "/nonexistent-murmur-log", "--listen", "nope:x"])
        #expect(bad.status != 0 && bad.stderr.contains("--listen"))
        let noLog = try await murmur(["log", "serve", "/nonexistent-murmur-log", "--listen", ":0"])
        #expect(noLog.status != 0 && noLog.stderr.contains("murmur log init"))
        let noKey = try await murmur(["log", "witness", "serve", "/nonexistent-murmur-w"])
        #expect(noKey.status != 0 && noKey.stderr.contains("--log-key"))
    }
}
