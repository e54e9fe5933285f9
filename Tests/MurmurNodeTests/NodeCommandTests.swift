import Foundation
import MurmurNode
import MurmurTestSupport
import Testing

/// Output collected from a child's pipe as it arrives.
/// `@unchecked Sendable`: `text` is only touched under `lock`.
final class PipeText: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    init(_ handle: FileHandle) {
        handle.readabilityHandler = { [self] h in
            let chunk = h.availableData
            lock.lock(); data.append(chunk); lock.unlock()
            if chunk.isEmpty { h.readabilityHandler = nil }
        }
    }
    var text: String { lock.lock(); defer { lock.unlock() }; return String(decoding: data, as: UTF8.self) }
}

/// `murmur node` as a process: starts, answers HTTP, stops with exit 0 on SIGTERM; bad config exits 64.
@Suite("murmur node", .timeLimit(.minutes(2)))
struct NodeCommandTests {
    @Test("murmur node serves HTTP and exits 0 within seconds of SIGTERM, SIGINT or the admin shutdown", arguments: ["SIGTERM", "SIGINT", "admin"])
    func stops(how: String) async throws {
        let dir = temporaryFolder("cli")
        defer { cleanup(dir) }
        let config = dir + "/node.toml"
        try """
            roles = ["client", "witness"]
            data_dir = "data"
            http_port = 0
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = murmurBinary
        p.arguments = ["node", "--config", config, "--role", "verifier", "--log-level", "info"]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        let stdout = PipeText(out.fileHandleForReading), stderr = PipeText(err.fileHandleForReading)
        try p.run()
        defer { if p.isRunning { p.interrupt(); kill(p.processIdentifier, SIGKILL) } }
        let started = await eventually(seconds: 30) { stdout.text.contains("\nhttp http://") || stdout.text.hasPrefix("http http://") }
        #expect(started, "stdout: \(stdout.text) stderr: \(stderr.text)")
        let line = try #require(stdout.text.split(separator: "\n").first { $0.hasPrefix("http ") })
        let url = try #require(URL(string: String(line.dropFirst(5))))
        #expect(stdout.text.contains("/p2p/12D3Koo"))
        #expect(stdout.text.contains("admin token in \(dir)/data/admin.token"))
        #expect(stdout.text.contains("created identity"))
        let status = try await http("GET", url.appending(path: "v1/status"))
        #expect(status.status == 200)
        #expect(status.object["roles"] as? [String] == ["verifier"])  // the flag replaced the file's roles
        #expect(FileManager.default.fileExists(atPath: dir + "/data/node.sqlite"))

        switch how {
        case "SIGTERM": p.terminate()
        case "SIGINT": p.interrupt()
        default:
            let token = try String(contentsOfFile: dir + "/data/admin.token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(try await http("POST", url.appending(path: "v1/admin/shutdown"), token: token).status == 202)
        }
        let exited = await eventually(seconds: 10) { !p.isRunning }
        #expect(exited, "still running 10 s after \(how); stderr: \(stderr.text)")
        p.waitUntilExit()
        #expect(p.terminationReason == .exit && p.terminationStatus == 0, "stderr: \(stderr.text)")
        #expect(stderr.text.contains("http api at"))
        #expect(stderr.text.contains("stopped"))
    }

    @Test("a bad setting exits 64 with one line naming the file and the key")
    func badConfig() async throws {
        let dir = temporaryFolder("cli-bad")
        defer { cleanup(dir) }
        let config = dir + "/node.toml"
        try "http_port = \"eighty\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        let r = try await runProcessAsync(murmurBinary, ["node", "--config", config])
        #expect(r.status == 64)
        #expect(r.stderr.contains("\(config): 'http_port': must be an integer"), "\(r.stderr)")
        let flag = try await runProcessAsync(murmurBinary, ["node", "--data-dir", dir + "/d", "--listen", "nonsense"])
        #expect(flag.status == 64 && flag.stderr.contains("'listen'"), "\(flag.stderr)")
    }

    @Test("--help teaches: an example config and the curl commands")
    func help() async throws {
        let r = try await runProcessAsync(murmurBinary, ["node", "--help"])
        #expect(r.status == 0)
        for s in ["roles = [", "data_dir", "bootstrap", "curl -s http://127.0.0.1:8080/v1/status", "--config", "SIGTERM"] {
            #expect(r.stdout.contains(s), "missing \(s)")
        }
        // The example in the help is a configuration that loads (its model folder aside).
        let lines = r.stdout.components(separatedBy: "\n")
        let from = try #require(lines.firstIndex { $0.contains("Example node.toml:") }) + 1
        let to = try #require(lines[from...].firstIndex { $0.trimmingCharacters(in: .whitespaces) == "Then:" })
        let example = lines[from..<to].map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.hasPrefix("models") }.joined(separator: "\n")
        let dir = temporaryFolder("help")
        defer { cleanup(dir) }
        try example.write(toFile: dir + "/node.toml", atomically: true, encoding: .utf8)
        let c = try ConfigFile.load(dir + "/node.toml")
        #expect(c.roles == [.client, .verifier] && c.httpPort == 8080)
    }
}
