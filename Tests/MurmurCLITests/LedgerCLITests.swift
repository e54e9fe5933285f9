import Foundation
import MurmurTestSupport
import Testing

/// `murmur ledger`: init, verify, state and history run as a user would, and bad input fails cleanly.
@Suite struct LedgerCLITests {
    func murmur(_ args: [String]) async throws -> ProcessOutput { try await runProcessAsync(murmurBinary, args) }

    func tempPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("murmur-ledger-cli-\(UUID().uuidString)").path
    }

    func json(_ text: String) throws -> Any { try JSONSerialization.jsonObject(with: Data(text.utf8)) }

    @Test func initVerifyStateHistory() async throws {
        let dir = tempPath()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let created = try await murmur(["ledger", "init", dir, "--members", "4", "--rounds", "3", "--seed", "9"])
        #expect(created.status == 0, "\(created.stderr)")
        let lines = created.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 2 && lines[1].count == 64, "\(created.stdout)")
        let digest = lines.last ?? ""

        let verified = try await murmur(["ledger", "verify", dir])
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(verified.stdout.hasPrefix("ok: 19 entries (19 accepted, 0 rejected), checkpoint 19 "))
        #expect(verified.stdout.hasSuffix(digest + "\n"))

        let pinned = try await murmur(["ledger", "verify", dir, "--vkey", dir + "/log.vkey"])
        #expect(pinned.status == 0, "\(pinned.stderr)")

        let state = try await murmur(["ledger", "state", dir, "--json"])
        #expect(state.status == 0, "\(state.stderr)")
        let obj = try json(state.stdout) as? [String: Any]
        #expect(obj?["digest"] as? String == digest)
        let s = obj?["state"] as? [String: Any]
        #expect(s?["round"] as? Int == 3)
        #expect((s?["model"] as? String)?.hasPrefix("b") == true)
        let balances = s?["balances"] as? [String: Int] ?? [:]
        #expect(!balances.isEmpty && balances.values.reduce(0, +) == s?["minted"] as? Int)
        #expect((s?["parameters"] as? [String: Any])?["reward_budget"] as? Int == 1000)

        let text = try await murmur(["ledger", "state", dir])
        #expect(text.status == 0)
        for word in ["round       3", "model       b", "balances:", "digest      \(digest)"] {
            #expect(text.stdout.contains(word), "missing '\(word)' in \(text.stdout)")
        }

        let history = try await murmur(["ledger", "history", dir, "--json"])
        #expect(history.status == 0, "\(history.stderr)")
        let items = try json(history.stdout) as? [[String: Any]] ?? []
        #expect(items.count == 19)
        #expect(items.first?["type"] as? String == "genesis")
        #expect(items.allSatisfy { $0["accepted"] as? Bool == true })
        #expect(items.map { $0["type"] as? String ?? "" }.filter { $0 == "reward" }.count == 3)
        let plain = try await murmur(["ledger", "history", dir])
        #expect(plain.stdout.split(separator: "\n").count == 19)
        #expect(plain.stdout.hasPrefix("0\tgenesis\t12D3KooW"))
    }

    @Test func aForeignEntryFailsVerificationWithItsIndex() async throws {
        let dir = tempPath()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        await #expect(try murmur(["ledger", "init", dir, "--members", "2", "--rounds", "1"]).status == 0)
        let junk = dir + "/junk.txt"
        try "not a ledger record".write(toFile: junk, atomically: true, encoding: .utf8)
        await #expect(try murmur(["log", "append", dir, "--file", junk]).status == 0)
        let unsigned = try await murmur(["ledger", "verify", dir])
        #expect(unsigned.status != 0)
        #expect(unsigned.stderr.contains("not covered by a signed checkpoint"), "\(unsigned.stderr)")
        await #expect(try murmur(["log", "checkpoint", dir]).status == 0)
        let signed = try await murmur(["ledger", "verify", dir])
        #expect(signed.status != 0)
        #expect(signed.stderr.contains("entry 5:"), "\(signed.stderr)")
        #expect(!signed.stderr.contains("Fatal error"))
    }

    @Test(arguments: [
        (["ledger", "verify", "/no/such/ledger"], "no ledger in /no/such/ledger"),
        (["ledger", "state", "/no/such/ledger", "--json"], "murmur ledger init"),
        (["ledger", "history", "/no/such/ledger"], "no ledger"),
        (["ledger", "init", "/tmp/x", "--members", "0"], "--members"),
        (["ledger", "init", "/tmp/x", "--voting", "plutocracy"], "--voting"),
        (["ledger", "verify", "/tmp", "--vkey", "not-a-key"], "no ledger"),
    ])
    func badInputIsAClearError(args: [String], mention: String) async throws {
        let r = try await murmur(args)
        #expect(r.status != 0)
        #expect(r.stderr.contains(mention), "stderr: \(r.stderr)")
        #expect(!r.stderr.contains("Fatal error"))
    }

    @Test func aDamagedDatabaseIsAnErrorNotACrash() async throws {
        let dir = tempPath()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        await #expect(try murmur(["ledger", "init", dir, "--members", "2"]).status == 0)
        let again = try await murmur(["ledger", "init", dir, "--members", "2"])
        #expect(again.status != 0 && again.stderr.contains("already holds a log"), "\(again.stderr)")
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: dir + "/log.db" + suffix) }
        try Data(repeating: 0x41, count: 8192).write(to: URL(fileURLWithPath: dir + "/log.db"))
        let r = try await murmur(["ledger", "verify", dir])
        #expect(r.status != 0)
        #expect(r.stderr.contains("log storage"), "\(r.stderr)")
        #expect(!r.stderr.contains("Fatal error"))
        let badKey = try await murmur(["ledger", "verify", dir, "--vkey", "garbage"])
        #expect(badKey.status != 0 && !badKey.stderr.contains("Fatal error"))
    }
}
