import Foundation
import MurmurTestSupport
import Testing

/// End-to-end checks of the `murmur` command: it is run as a process, as a user would.
@Suite struct CLITests {
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    func murmur(_ args: [String]) async throws -> Run {
        let r = try await runProcessAsync(murmurBinary, args)
        return Run(status: r.status, stdout: r.stdout, stderr: r.stderr)
    }

    func tempDir() -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("murmur-cli-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }

    @Test func jsonOutputAndModelFiles() async throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try await murmur(["simulate", "--clients", "10", "--rounds", "2", "--hidden", "16", "--json", "--out", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        for key in ["accuracy", "loss", "rounds", "clients", "seconds", "history", "model_cid"] {
            #expect(obj?[key] != nil, "missing \(key)")
        }
        #expect((obj?["history"] as? [Any])?.count == 2)
        #expect(r.stderr.contains("round   2/2"))
        for f in ["index.html", "model.json", "model.safetensors", "history.json"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(f).path), "\(f)")
        }
        let html = try String(contentsOf: dir.appendingPathComponent("index.html"), encoding: .utf8)
        #expect(html.contains("<svg"))
    }

    @Test(arguments: [
        (["simulate", "--clients", "0"], "--clients"),
        (["simulate", "--fraction", "1.5"], "--fraction"),
        (["simulate", "--strategy", "fedmagic"], "fedmagic"),
        (["simulate", "--dataset", "/no/such/file.csv"], "/no/such/file.csv"),
        (["simulate", "--dataset", "synthetic", "--model", "cnn"], "cnn"),
        (["simulate", "--hidden", "12,x"], "--hidden"),
        (["simulate", "--partition", "column"], "column"),
        (["simulate", "--dropout", "1"], "--dropout"),
        (["bench", "gemm", "--sizes", "0"], "--sizes"),
    ])
    func badInputIsAClearError(args: [String], mention: String) async throws {
        let r = try await murmur(args)
        #expect(r.status != 0)
        #expect(r.stderr.contains(mention), "stderr: \(r.stderr)")
        #expect(!r.stderr.contains("Fatal error"))
    }

    @Test func corruptCSVNamesTheLine() async throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("bad.csv")
        try "a,b,label\n1,2,0\n3,4\n5,6,1\n".write(to: file, atomically: true, encoding: .utf8)
        let r = try await murmur(["simulate", "--dataset", file.path, "--clients", "2", "--rounds", "1"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("3"), "stderr: \(r.stderr)")
    }

    @Test func helpTeaches() async throws {
        let r = try await murmur(["simulate", "--help"])
        #expect(r.status == 0)
        for flag in ["--dataset", "--model", "--partition", "--alpha", "--clients", "--fraction", "--rounds", "--local-epochs",
                     "--batch-size", "--lr", "--strategy", "--mu", "--seed", "--dropout", "--out", "--json",
                     "--synthetic-alpha", "--synthetic-beta"] {
            #expect(r.stdout.contains(flag), "\(flag) missing from --help")
        }
    }
}
