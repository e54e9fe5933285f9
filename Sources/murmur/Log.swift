import ArgumentParser
import Foundation
import MurmurLog
import MurmurLogHTTP

/// `murmur log`: a tamper-evident Merkle log (RFC 9162, C2SP tlog-tiles, signed-note checkpoints).
struct Log: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A tamper-evident append-only Merkle log with signed checkpoints and proofs.",
        discussion: """
            Start with `murmur log init ./mylog --origin example.com/mylog`, then
            `printf 'a\\nb\\n' | murmur log append ./mylog`, `murmur log checkpoint ./mylog` and
            `murmur log prove ./mylog --index 0`. Serve it with `murmur log serve ./mylog`, verify from
            tiles alone with `murmur log verify --url URL --log-key KEY --index I --entry-file F`, and
            get checkpoints cosigned with `murmur log witness`. Formats are in docs/log.md.
            """,
        subcommands: [LogInit.self, LogAppend.self, LogCheckpoint.self, LogProve.self, LogVerify.self, LogServe.self, LogWitness.self]
    )
}

struct LogInit: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Create a log: DIR/log.db, DIR/log.key (secret), DIR/log.vkey.")

    @Argument(help: "The log directory (created).")
    var dir: String

    @Option(help: "The log's origin line, a schema-less URL such as example.com/mylog; also the key name.")
    var origin: String

    func run() throws {
        let d = try LogDirectory.create(path: dir, origin: origin)
        print(try d.verifierKey())
    }
}

struct LogAppend: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Append entries: one per line of standard input (without its newline), or --file F as one entry.",
        discussion: "Prints each entry's index once it is durable (after the batch's fsync).")

    @Argument(help: "The log directory.")
    var dir: String

    @Option(help: "Append this whole file as one entry instead of reading lines.")
    var file: String?

    @Option(help: "At most this many entries per batch (one transaction and fsync each).")
    var batch = 4096

    @Flag(help: "After each batch, sign and publish a checkpoint and print `checkpoint SIZE ROOT`.")
    var checkpointEachBatch = false

    func run() throws {
        let d = LogDirectory(path: dir)
        let log = try d.open()
        let signer = checkpointEachBatch ? try d.signer() : nil
        let out = FileHandle.standardOutput
        func commit(_ entries: [[UInt8]]) throws {
            guard !entries.isEmpty else { return }
            let r = try log.append(entries)
            var text = r.map { "\($0)\n" }.joined()
            if let signer {
                _ = try log.checkpoint(signer: signer)
                text += "checkpoint \(log.state.size) \(log.state.root.base64)\n"
            }
            out.write(Data(text.utf8))
        }
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
            try commit([Array(data)])
            return
        }
        var pending: [UInt8] = []
        let input = FileHandle.standardInput
        while true {
            let chunk = input.availableData
            if chunk.isEmpty { break }
            pending += chunk
            var entries: [[UInt8]] = []
            var start = 0
            for i in pending.indices where pending[i] == 0x0A {
                entries.append(Array(pending[start..<i]))
                start = i + 1
                if entries.count == batch { try commit(entries); entries.removeAll() }
            }
            try commit(entries)
            pending.removeFirst(start)
        }
        if !pending.isEmpty { try commit([pending]) }
    }
}

struct LogCheckpoint: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "checkpoint", abstract: "Sign the current tree head and print the checkpoint note.")

    @Argument(help: "The log directory.")
    var dir: String

    func run() throws {
        let d = LogDirectory(path: dir)
        print(try d.open().checkpoint(signer: d.signer()).serialized, terminator: "")
    }
}

struct LogProve: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prove", abstract: "Print an inclusion proof (and with --from, a consistency proof) as base64 lines.")

    @Argument(help: "The log directory.")
    var dir: String

    @Option(help: "The entry's index.")
    var index: UInt64

    @Option(help: "The tree size to prove against (default: the current size).")
    var size: UInt64?

    func run() throws {
        let log = try LogDirectory(path: dir).open()
        let n = size ?? log.size
        let proof = try log.inclusionProof(index: index, size: n)
        let leaf = RFC9162.leafHash(try log.entry(at: index))
        print("index \(index)\nsize \(n)\nroot \(try log.rootHash(size: n).base64)\nleaf \(leaf.base64)")
        proof.forEach { print($0.base64) }
    }
}

struct LogVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a log directory end to end, a proof file offline, or an entry against a served log from its tiles alone.",
        discussion: """
            `murmur log verify DIR` recomputes every tile, bundle and published checkpoint.
            `murmur log verify --log-key KEY --checkpoint NOTE --proof PROOF` checks an inclusion proof offline.
            `murmur log verify --url URL --log-key KEY --index I [--entry-file F]` fetches only the
            checkpoint and tiles, checks the log's signature (and, with --witness-key/--quorum, cosignatures),
            builds the proof itself and checks entry I (the file's bytes, or the served entry) against the
            signed root; a lying server is an error. Without --entry-file the verified entry is printed.
            """)

    @Argument(help: "A log directory to check completely.")
    var dir: String?

    @Option(name: [.customLong("log-key"), .customLong("vkey")], help: "The log's verifier key (name+id+key) or a file holding it.")
    var vkey: String?

    @Option(help: "A file with the signed checkpoint note.")
    var checkpoint: String?

    @Option(help: "A file with the output of `murmur log prove`.")
    var proof: String?

    @Option(help: "A served log's URL prefix (from `murmur log serve`): verify over HTTP from tiles only.")
    var url: String?

    @Option(help: "With --url: the entry's index.")
    var index: UInt64?

    @Option(help: "With --url: a file whose whole content is the entry expected at --index.")
    var entryFile: String?

    @Option(name: .customLong("witness-key"), help: "With --url: a trusted witness's key (or file); repeat for several.")
    var witnessKeys: [String] = []

    @Option(help: "With --url: how many of the --witness-key witnesses must have cosigned (default: all named).")
    var quorum: Int?

    func run() async throws {
        if let url {
            try await verifyRemote(url)
            return
        }
        try verifyLocal()
    }

    func verifyRemote(_ url: String) async throws {
        guard let base = URL(string: url), base.scheme != nil else { throw ValidationError("--url must be a URL such as http://127.0.0.1:8080") }
        guard let vkey, let index else { throw ValidationError("--url needs --log-key KEY and --index I") }
        let witnesses = try witnessKeys.map(readVerifierKey)
        let policy = try WitnessPolicy(logKey: readVerifierKey(vkey), witnesses: witnesses, quorum: quorum ?? witnesses.count)
        let client = TileClient(baseURL: base, policy: policy)
        let (_, cp) = try await client.checkpoint()
        if let entryFile {
            guard let data = FileManager.default.contents(atPath: entryFile) else { throw ValidationError("cannot read \(entryFile)") }
            try await client.verifyInclusion(index: index, leaf: RFC9162.leafHash(Array(data)), checkpoint: cp)
            print("ok: \(entryFile) is entry \(index) of \(cp.origin) at size \(cp.size) (verified from tiles)")
        } else {
            let entry = try await client.entry(at: index, checkpoint: cp)
            FileHandle.standardError.write(Data("ok: entry \(index) of \(cp.origin) at size \(cp.size) (verified from tiles)\n".utf8))
            FileHandle.standardOutput.write(Data(entry))
        }
    }

    func verifyLocal() throws {
        if let dir {
            let log = try LogDirectory(path: dir).open()
            try log.verifyIntegrity()
            print("ok: \(log.size) entries, root \(log.state.root.base64), \(try log.publishedCheckpoints().count) checkpoints consistent")
            return
        }
        guard let vkey, let checkpoint, let proof else { throw ValidationError("pass DIR; or --log-key, --checkpoint and --proof; or --url, --log-key and --index") }
        let note = try Note(parsing: String(contentsOfFile: checkpoint, encoding: .utf8))
        let cp = try Checkpoint.open(note, verifiers: [readVerifierKey(vkey).verifier()])
        let lines = try String(contentsOfFile: proof, encoding: .utf8).split(separator: "\n").map(String.init)
        func field(_ name: String) throws -> String {
            guard let l = lines.first(where: { $0.hasPrefix(name + " ") }) else { throw ValidationError("proof file lacks a '\(name)' line") }
            return String(l.dropFirst(name.count + 1))
        }
        guard let index = UInt64(try field("index")), let size = UInt64(try field("size")), let leaf = LogHash(base64: try field("leaf")) else {
            throw ValidationError("malformed proof file")
        }
        guard size == cp.size else { throw ValidationError("the proof is for size \(size) but the checkpoint is for \(cp.size); prove with --size \(cp.size)") }
        let hashes = try lines.filter { !$0.contains(" ") }.map { l in
            guard let h = LogHash(base64: l) else { throw ValidationError("'\(l)' is not a base64 hash") }
            return h
        }
        try MerkleProof.verifyInclusion(index: index, size: size, leaf: leaf, proof: hashes, root: cp.root)
        print("ok: entry \(index) is in \(cp.origin) at size \(cp.size)")
    }
}
