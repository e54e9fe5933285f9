import ArgumentParser
import MurmurLog
import MurmurLedger
import Foundation
import MurmurCore
import MurmurML
import MurmurVerify

/// Reads the numeric rows of a CSV file (one sample per line; a non-numeric first line is a
/// header and skipped). Every row must have `width` values.
func readSamples(_ path: String, width: Int) throws -> [Float] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw ValidationError("cannot read input file '\(path)'")
    }
    var out = [Float]()
    var lineNumber = 0
    for raw in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false) {
        lineNumber += 1
        let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        if line.isEmpty { continue }
        let cells = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let values = cells.map { Float($0) }
        if lineNumber == 1, values.contains(where: { $0 == nil }) { continue }  // header
        guard values.count == width else {
            throw ValidationError("\(path):\(lineNumber): \(values.count) values, the model takes \(width)")
        }
        for (i, v) in values.enumerated() {
            guard let v, v.isFinite else {
                throw ValidationError("\(path):\(lineNumber): column \(i + 1) ('\(cells[i])') is not a number")
            }
            out.append(v)
        }
    }
    return out
}

/// Loads `DIR/model.json` + `DIR/model.safetensors`, checking the weights against the manifest.
func loadModel(_ dir: String) throws -> (network: Network, cid: String) {
    do {
        let (artifact, network) = try ModelArtifact.read(from: URL(fileURLWithPath: dir))
        return (network, try artifact.manifest.cid().description)
    } catch let e as ManifestError {
        throw ValidationError("--model: \(e)")
    } catch {
        throw ValidationError("--model: cannot load '\(dir)': \(error)")
    }
}

/// The device key: a hex Ed25519 seed in a file, created (mode 600) when missing.
func loadIdentity(_ path: String) throws -> Identity {
    let fm = FileManager.default
    if let data = fm.contents(atPath: path) {
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let seed = try? Multibase.decodeHex(text) else { throw ValidationError("--key '\(path)' is not a hex seed") }
        do { return try Identity(seed: seed) } catch { throw ValidationError("--key '\(path)': \(error)") }
    }
    let id = Identity()
    let hex = Multibase.hex(Array(id.privateKey.rawRepresentation))
    try fm.createDirectory(at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true)
    guard fm.createFile(atPath: path, contents: Data((hex + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
        throw ValidationError("cannot create key file '\(path)'")
    }
    FileHandle.standardError.write(Data("murmur: created device key \(path) (peer id \(id.peerID))\n".utf8))
    return id
}

/// `murmur infer`: run a model on inputs and sign a receipt for each.
struct Infer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a model on CSV inputs; print one JSON line per input with its signed receipt.",
        discussion: """
            Each output line is {"index", "label", "output", "receipt"}; the receipt binds the
            output to the model CID, the input digest and this device's key, with a 64-byte
            activation proof another peer can re-check (`murmur verify`).
              murmur simulate --out run1
              murmur infer --model run1 --input samples.csv --receipts receipts.jsonl
            """)

    @Option(help: "Model folder (model.json + model.safetensors, as `murmur simulate --out` writes).")
    var model: String

    @Option(help: "CSV file: one sample per line, as many values as the model's inputs (a header line is skipped).")
    var input: String

    @Option(help: "Also write the receipts, one per line, to this file.")
    var receipts: String?

    @Option(help: "Device key file (hex Ed25519 seed; created if missing).")
    var key: String = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".murmur/device.key").path

    @Flag(help: "Use the bit-exact inference path (slower; verification is exact equality).")
    var exact = false

    @Option(help: "Activations committed per input (proof bytes = 4·k).")
    var k: Int = 16

    func run() async throws {
        guard (1...64).contains(k) else { throw ValidationError("--k must be in 1…64") }
        let (network, cid) = try loadModel(model)
        let features = try readSamples(input, width: network.inputSize)
        let count = features.count / network.inputSize
        guard count > 0 else { throw ValidationError("'\(input)' has no samples") }
        let identity = try loadIdentity(key)
        var nonces = SystemRandomNumberGenerator()
        let results = try InferenceProver(network: network, modelCID: cid, identity: identity, k: k, mode: exact ? .exact : .fast)
            .run(features: features, count: count, nonces: &nonces)
        var receiptLines = ""
        for (i, r) in results.enumerated() {
            let outs = r.logits.map { String($0) }.joined(separator: ",")
            print("{\"index\":\(i),\"label\":\(r.label),\"output\":[\(outs)],\"receipt\":\(r.receipt.jsonLine)}")
            receiptLines += r.receipt.jsonLine + "\n"
        }
        if let receipts {
            do {
                try Data(receiptLines.utf8).write(to: URL(fileURLWithPath: receipts), options: .atomic)
            } catch {
                throw ValidationError("cannot write --receipts '\(receipts)': \(error.localizedDescription)")
            }
        }
    }
}

/// `murmur verify`: re-check receipts by re-execution.
struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check receipts against the inputs and the model; exit 0 only if all are accepted.",
        discussion: """
            Line i of --receipts is checked against sample i of --input: signature, model CID,
            input digest, nonce freshness, then re-execution (output, label, activation proof).
              murmur verify --receipts receipts.jsonl --input samples.csv --model run1
            With --ledger DIR --key FILE the verifier (a verifier or coordinator of that ledger)
            appends, per device, a reputation record (checked, failed, the rejection reasons) and
            a receipt-digest record (SHA-256 over the device's receipt lines, each followed by a
            newline). Only receipts whose signature verified count against a device: anyone can
            write a malformed or forged line naming someone else.
            """)

    @Option(help: "Receipts file, one JSON receipt per line (as `murmur infer --receipts` writes).")
    var receipts: String

    @Option(help: "The CSV inputs the receipts are about, in the same order.")
    var input: String

    @Option(help: "Model folder.")
    var model: String

    @Flag(help: "Print one JSON object: accepted, rejected, and a verdict per receipt.")
    var json = false

    @Option(help: "Record the outcome in this ledger (reputation and receipt-digest records per device); needs --key.")
    var ledger: String?

    @Option(help: "With --ledger: the verifier's key file (hex Ed25519 seed), a verifier or coordinator of the ledger.")
    var key: String?

    func validate() throws {
        if (ledger == nil) != (key == nil) { throw ValidationError("--ledger and --key go together") }
    }

    func run() async throws {
        // Open the ledger first: a bad directory or key fails before any work.
        let writer = try ledger.map { path -> LedgerWriter in
            do { return try LedgerWriter(path: path) } catch { throw ValidationError("--ledger '\(path)': \(error)") }
        }
        let signer = try key.map { path -> Identity in
            guard FileManager.default.fileExists(atPath: path) else { throw ValidationError("--key '\(path)' does not exist") }
            return try loadIdentity(path)
        }
        let (network, cid) = try loadModel(model)
        let features = try readSamples(input, width: network.inputSize)
        let d = network.inputSize
        guard let data = FileManager.default.contents(atPath: receipts) else {
            throw ValidationError("cannot read --receipts '\(receipts)'")
        }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        var verifier = ReceiptVerifier(models: [cid: network])
        var verdicts = [[String: Any]]()
        var rejected = 0
        var byDevice = [String: DeviceTally]()
        for (i, line) in lines.enumerated() {
            var verdict: [String: Any] = ["index": i]
            let result: Result<Receipt, MurmurVerify.RejectionReason>
            if (i + 1) * d <= features.count {
                result = verifier.verify(line: line, input: Array(features[(i * d)..<((i + 1) * d)]))
            } else {
                result = .failure(.malformed("no input sample \(i + 1) in '\(input)'"))
            }
            // Only receipts whose signature verified count for or against the device they name.
            switch result {
            case .success(let receipt):
                byDevice[receipt.device, default: DeviceTally()].add(line: line, failure: nil)
            case .failure(let reason) where reason.signatureVerified:
                if let device = try? Receipt(jsonLine: line).device {
                    byDevice[device, default: DeviceTally()].add(line: line, failure: reason)
                }
            case .failure:
                break
            }
            switch result {
            case .success:
                verdict["accepted"] = true
                if !json { print("receipt \(i + 1): accept") }
            case .failure(let reason):
                rejected += 1
                verdict["accepted"] = false
                verdict["reason"] = reason.code
                verdict["detail"] = reason.description
                if !json { print("receipt \(i + 1): reject — \(reason)") }
            }
            verdicts.append(verdict)
        }
        var recorded = [String]()
        if let writer, let signer {
            recorded = try Self.record(byDevice, in: writer, by: signer)
            if !json { for line in recorded { print(line) } }
        }
        if json {
            var obj: [String: Any] = ["accepted": lines.count - rejected, "rejected": rejected, "receipts": verdicts]
            if let writer {
                obj["ledger"] = ["records": recorded.count, "checkpoint": try writer.latestCheckpoint(), "state_digest": try writer.state.digest()]
            }
            print(String(decoding: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print("\(lines.count - rejected) accepted, \(rejected) rejected")
        }
        if rejected > 0 || lines.isEmpty { throw ExitCode(1) }
    }

    /// Appends one reputation and one receipt-digest record per device; returns a line per record.
    static func record(_ tallies: [String: DeviceTally], in writer: LedgerWriter, by signer: Identity) throws -> [String] {
        var records = [LedgerRecord]()
        var lines = [String]()
        for (device, t) in tallies.sorted(by: { $0.key < $1.key }) where t.checked > 0 {
            let rep = Reputation(device: device, checked: t.checked, failed: t.failed, reasons: t.reasons.sorted())
            let digest = ReceiptDigest(device: device, count: t.checked, digest: RFC9162.sha256(t.bytes).hex)
            records += [try LedgerRecord.sign(rep, by: signer), try LedgerRecord.sign(digest, by: signer)]
            lines.append("ledger: \(device): \(t.checked) checked, \(t.failed) failed\(t.reasons.isEmpty ? "" : " (" + t.reasons.sorted().joined(separator: ", ") + ")"), reputation \(rep.delta >= 0 ? "+" : "")\(rep.delta), receipts digest \(digest.digest)")
        }
        guard !records.isEmpty else { return [] }
        let outcomes = try writer.append(records)
        if let bad = outcomes.first(where: { !$0.accepted }) {
            throw ValidationError("the ledger rejected the \(bad.schema) record: \(bad.rejection.map { "\($0)" } ?? "") — is --key a verifier or coordinator of this ledger?")
        }
        return lines
    }
}

/// What one device's receipts came to (the caller passes receipts with a valid signature only).
struct DeviceTally {
    var checked = 0
    var failed = 0
    var reasons = Set<String>()
    var bytes = [UInt8]()

    mutating func add(line: String, failure: MurmurVerify.RejectionReason?) {
        checked += 1
        bytes += Array(line.utf8) + [0x0A]
        if let failure {
            failed += 1
            reasons.insert(failure.code)
        }
    }
}
