import Foundation
import MurmurCore
import MurmurVerify
import NIOConcurrencyHelpers

/// The receipts a node issued at `POST /v1/infer`, with the inputs they answer, the newest
/// `capacity` kept in `node.sqlite` and served to verifiers on `/murmur/receipts/1`.
/// Why: a spot check re-executes a receipt, which needs the input (a receipt holds only its digest);
/// issue 10 item 4, issue 11 item 1 (the verifier role).
public final class ReceiptJournal: Sendable {
    /// Receipts kept by default.
    public static let defaultCapacity = 1000
    /// The node's database.
    public let store: NodeStore
    /// Receipts kept; older ones are deleted as new ones arrive.
    public let capacity: Int
    /// Test hook: forge the output of a share of the receipts (see `lie(share:seed:)`).
    let forgery = NIOLockedValueBox<(share: Double, rng: SeededRNG)?>(nil)

    /// A journal over `store` keeping the newest `capacity` receipts.
    public init(store: NodeStore, capacity: Int = ReceiptJournal.defaultCapacity) {
        self.store = store
        self.capacity = max(1, capacity)
    }

    /// Test hook: from now on, each receipt is forged with probability `share` (seeded): its output
    /// is changed and the receipt signed again, so the signature holds but re-execution does not.
    /// Why: the spot-check tests need a device that lies in a given share of its receipts.
    func lie(share: Double, seed: UInt64) {
        forgery.withLockedValue { $0 = share > 0 ? (share, SeededRNG(seed: seed)) : nil }
    }

    /// Records the answers to `inputs` (row i answered by `results[i]`), forging some under the test
    /// hook; returns the answers as issued.
    func issue(_ results: [NodeAPI.Inference], inputs: [[Float]], identity: Identity) throws(NodeError) -> [NodeAPI.Inference] {
        var issued = results
        for i in issued.indices where forgeNext() {
            issued[i] = Self.forged(issued[i], identity: identity) ?? issued[i]
        }
        try store.appendReceipts(zip(issued, inputs).map { (line: $0.receipt, input: $1) }, keep: capacity)
        return issued
    }

    /// Under the test hook: whether to forge the next receipt.
    func forgeNext() -> Bool {
        forgery.withLockedValue { f in
            guard var hook = f else { return false }
            let forge = hook.rng.nextDouble() < hook.share
            f = hook
            return forge
        }
    }

    /// `r` with its first output raised well beyond any tolerance, its label the new argmax, signed again.
    static func forged(_ r: NodeAPI.Inference, identity: Identity) -> NodeAPI.Inference? {
        guard var receipt = try? Receipt(jsonLine: r.receipt), !receipt.output.isEmpty else { return nil }
        receipt.output[0] += 1 + 2 * abs(receipt.output[0])
        receipt.label = receipt.output.indices.max { receipt.output[$0] < receipt.output[$1] } ?? 0
        guard (try? receipt.sign(with: identity)) != nil else { return nil }
        return NodeAPI.Inference(index: r.index, label: receipt.label, output: receipt.output, receipt: receipt.jsonLine)
    }
}
