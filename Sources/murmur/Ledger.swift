import ArgumentParser
import Foundation
import MurmurCore
import MurmurLedger
import MurmurLog

/// `murmur ledger`: contributions, rewards and governance as signed records in a Merkle log (docs/ledger.md).
struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Replay and inspect a federation's ledger: contributions, rewards, governance, model versions.",
        discussion: """
            A ledger is a MurmurLog directory whose entries are signed records; every node that replays it
            from genesis reaches the same state. Try `murmur ledger init ./led --members 5 --rounds 3`, then
            `murmur ledger verify ./led`, `murmur ledger state ./led` and `murmur ledger history ./led`.
            Record schemas and rules are in docs/ledger.md.
            """,
        subcommands: [LedgerInit.self, LedgerVerify.self, LedgerStateCommand.self, LedgerHistory.self]
    )
}

/// Options shared by the commands that replay a ledger.
struct LedgerSource: ParsableArguments {
    @Argument(help: "The ledger directory (a MurmurLog directory: log.db, log.key, log.vkey).")
    var dir: String

    @Option(help: "The log's verifier key (name+id+key) or a file holding it; default DIR/log.vkey. Pin it to not trust the directory.")
    var vkey: String?

    func replay(keepOutcomes: Bool) throws -> LedgerVerification {
        var key = vkey
        if let v = vkey, FileManager.default.fileExists(atPath: v) {
            key = try String(contentsOfFile: v, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return try LedgerVerifier.verify(path: dir, verifierKey: key, keepOutcomes: keepOutcomes)
    }
}

struct LedgerInit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a ledger with a genesis record (and optionally example rounds), keys derived from --seed.",
        discussion: """
            For trying the ledger out and for tests: the coordinator and member keys are derived from --seed,
            so anyone who knows the seed can sign as them. A federation uses `murmur simulate --ledger DIR` or
            the MurmurLedger API with real keys. Prints the log's verifier key and the state digest.
            """)

    @Argument(help: "The ledger directory (created; must not hold a log yet).")
    var dir: String

    @Option(help: "Number of members.")
    var members = 5

    @Option(help: "Example rounds to record (model version, seeded contribution scores, rewards).")
    var rounds = 0

    @Option(help: "The log's origin line (also its key name).")
    var origin = "murmur.example/ledger"

    @Option(help: "Voting weight: one-member-one-vote or credits (fixed at genesis).")
    var voting = "one-member-one-vote"

    @Option(help: "Seed for the keys and the example scores.")
    var seed: UInt64 = 1

    @Option(help: ArgumentHelp("A verifier's key file (hex Ed25519 seed, created if missing, as `murmur infer --key`); repeatable.",
                               discussion: "Verifiers may append reputation and receipt-digest records (`murmur verify --ledger DIR --key FILE`)."))
    var verifier: [String] = []

    func validate() throws {
        guard (1...1000).contains(members) else { throw ValidationError("--members must be in 1…1000, got \(members)") }
        guard (0...100_000).contains(rounds) else { throw ValidationError("--rounds must be in 0…100000, got \(rounds)") }
        guard VotingRule(rawValue: voting) != nil else {
            throw ValidationError("--voting must be one of \(VotingRule.allCases.map(\.rawValue).joined(separator: ", ")), got '\(voting)'")
        }
    }

    func run() throws {
        var rng = SeededRNG(seed: seed)
        let coordinator = Identity(deterministic: &rng)
        let ids = (0..<members).map { _ in Identity(deterministic: &rng) }
        let peers = ids.map(\.peerID.description)
        let model0 = CID.raw(Array("murmur example model 0".utf8)).description
        let verifiers = try verifier.map { try loadIdentity($0).peerID.description }.sorted()
        let genesis = Genesis(federation: origin, members: peers, coordinators: [coordinator.peerID.description], verifiers: verifiers,
                              voting: VotingRule(rawValue: voting) ?? .oneMemberOneVote,
                              parameters: FederationParameters(clientsPerRound: members), initialModel: model0)
        let writer = try LedgerWriter.create(path: dir, origin: origin, genesis: genesis, founder: coordinator)
        var parent = model0
        for r in 0..<rounds {
            let model = CID.raw(Array("murmur example model \(r + 1)".utf8)).description
            let version = ModelVersion(round: r + 1, parent: parent, model: model, strategy: "fedavg", epsilonMicros: 0, participants: peers)
            let scores = peers.map { p in
                Contribution(round: r + 1, peer: p, samples: 50 + Int(rng.next() % 200), scoreMicros: Int(rng.next() % 1_000_000),
                             method: "participation-samples")
            }
            try writer.recordRound(version, contributions: scores, coordinator: coordinator)
            parent = model
        }
        print(try writer.verifierKey())
        print(try writer.state.digest())
    }
}

struct LedgerVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Replay a ledger from genesis and check it against its signed checkpoints; print the state digest.",
        discussion: """
            Exits 0 and prints `ok: …` and the state digest (SHA-256 of the state's canonical JSON) when every
            entry is in place and matches the signed checkpoint. An edited, dropped or reordered entry fails
            with its index and the reason. Rejected records are not failures: see `murmur ledger history`.
            """)

    @OptionGroup var source: LedgerSource

    func run() throws {
        let v = try source.replay(keepOutcomes: false)
        let s = v.ledger.state
        print("ok: \(s.entries) entries (\(s.accepted) accepted, \(s.entries - s.accepted) rejected), checkpoint \(v.checkpoint.size) \(v.checkpoint.root.base64)")
        print(v.digest)
    }
}

struct LedgerStateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "Replay a ledger and print balances, reputation, parameters and the current model CID.")

    @OptionGroup var source: LedgerSource

    @Flag(help: "Print the whole state as canonical JSON, with its digest.")
    var json = false

    func run() throws {
        let v = try source.replay(keepOutcomes: false)
        let s = v.ledger.state
        if json {
            let out = JSONValue.object(["digest": .string(v.digest), "state": try LedgerJSON.value(s)])
            print(String(decoding: CanonicalJSON.encode(out), as: UTF8.self))
            return
        }
        let p = s.parameters
        var lines = [
            "federation  \(s.federation)",
            "round       \(s.round)",
            "model       \(s.model ?? "none")",
            "members     \(s.members.count), voting \(s.voting.rawValue), coordinators \(s.coordinators.count), verifiers \(s.verifiers.count)",
            "privacy     ε spent \(fixed(s.epsilonSpentMicros, 6)) of \(fixed(p.epsilonBudgetMicros, 6)), noise z \(fixed(p.noiseMultiplierMilli, 3)), clip \(fixed(p.clipNormMilli, 3))",
            "rounds      \(p.clientsPerRound) clients per round",
            "rewards     budget \(p.rewardBudget)/round, cap \(p.rewardCapPercent)%, quality ≥ \(fixed(p.qualityThresholdMicros, 6)), excess \(p.capExcess.rawValue); paid \(s.minted), burned \(s.burned)",
            "governance  quorum \(p.quorumPercent)%, threshold \(p.thresholdPercent)%, \(s.proposals.count) proposals, \(s.scheduled.count) scheduled changes",
            "witnesses   \(p.witnesses.isEmpty ? "none" : p.witnesses.joined(separator: ", "))",
            "entries     \(s.entries) (\(s.accepted) accepted\(s.rejections.isEmpty ? "" : ", rejected: " + s.rejections.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))",
            "digest      \(v.digest)",
            "balances:",
        ]
        lines += s.balances.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "  \($0.key)  \($0.value)" }
        if !s.reputation.isEmpty {
            lines.append("reputation:")
            lines += s.reputation.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "  \($0.key)  \($0.value)" }
        }
        print(lines.joined(separator: "\n"))
    }

    /// An integer in 10^-digits units as a decimal.
    func fixed(_ v: Int, _ digits: Int) -> String {
        var unit = 1
        for _ in 0..<digits { unit *= 10 }
        let frac = String(abs(v) % unit)
        return (v < 0 ? "-" : "") + "\(abs(v) / unit).\(String(repeating: "0", count: digits - frac.count) + frac)"
    }
}

struct LedgerHistory: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Replay a ledger and list its records: index, type, author, accepted or rejected with the reason.")

    @OptionGroup var source: LedgerSource

    @Flag(help: "Print a JSON array instead of lines.")
    var json = false

    @Flag(help: "Only rejected records.")
    var rejected = false

    func run() throws {
        let outcomes = try source.replay(keepOutcomes: true).outcomes.filter { !rejected || !$0.accepted }
        if json {
            let items: [JSONValue] = outcomes.map { o in
                var obj: [String: JSONValue] = [
                    "index": .integer(Int64(o.index)), "schema": .string(o.schema),
                    "type": .string(RecordKind(schema: o.schema)?.rawValue ?? "unknown"),
                    "author": .string(o.author), "accepted": .bool(o.accepted),
                ]
                if let r = o.rejection { obj["reason"] = .object(["code": .string(r.code), "message": .string(r.description)]) }
                return .object(obj)
            }
            print(String(decoding: CanonicalJSON.encode(.array(items)), as: UTF8.self))
            return
        }
        let out = FileHandle.standardOutput
        for chunk in stride(from: 0, to: outcomes.count, by: 4096) {
            let text = outcomes[chunk..<min(outcomes.count, chunk + 4096)].map { o -> String in
                let type = RecordKind(schema: o.schema)?.rawValue ?? printable(o.schema)
                let status = o.rejection.map { "rejected \($0.code): \(printable($0.description))" } ?? "accepted"
                return "\(o.index)\t\(type)\t\(printable(o.author))\t\(status)\n"
            }.joined()
            out.write(Data(text.utf8))
        }
    }

    /// A field from a record, safe for one line of a terminal: control characters become '?', at most 120 characters.
    func printable(_ s: String) -> String {
        let cleaned = String(String.UnicodeScalarView(s.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : $0 }))
        return cleaned.count > 120 ? cleaned.prefix(119) + "…" : cleaned
    }
}
