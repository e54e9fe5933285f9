import Foundation
import Hummingbird
import MurmurCore
import MurmurML
import MurmurVerify

/// Loaded networks by model CID, and the inference and verification that use them.
/// An actor because `Network` is a mutable class: requests take turns on it.
actor ModelCache {
    var networks = LoadedNetworks()

    /// Loads model `cid` from the block index once; nil if the node does not hold it.
    func network(_ cid: String, store: NodeStore) throws -> Network? {
        if let n = networks[cid] { return n }
        guard let m = try store.model(cid) else { return nil }
        let n = try Network(config: m.manifest.config, safetensors: m.weights)
        networks.insert(n, for: cid)
        return n
    }

    /// Runs `features` (count × inputSize) through model `cid`, signing one receipt per sample.
    func infer(_ cid: String, store: NodeStore, features: [Float], count: Int, identity: Identity, k: Int, mode: InferenceMode) throws -> [NodeAPI.Inference] {
        guard let network = try network(cid, store: store) else { throw NodeAPI.APIFailure.unknownModel(cid) }
        guard features.count == count * network.inputSize else { throw NodeAPI.APIFailure.width(network.inputSize) }
        var nonces = SystemRandomNumberGenerator()
        return try InferenceProver(network: network, modelCID: cid, identity: identity, k: k, mode: mode)
            .run(features: features, count: count, nonces: &nonces)
            .enumerated().map { NodeAPI.Inference(index: $0.offset, label: $0.element.label, output: $0.element.logits, receipt: $0.element.receipt.jsonLine) }
    }

    /// Verifies each receipt line against its input with the models it names (loaded from the block index).
    func verify(_ lines: [String], inputs: [[Float]], store: NodeStore) -> [NodeAPI.Verdict] {
        var models = [String: Network]()
        for line in lines {
            if let r = try? Receipt(jsonLine: line), models[r.model] == nil, let n = try? network(r.model, store: store) { models[r.model] = n }
        }
        var verifier = ReceiptVerifier(models: models)
        return lines.enumerated().map { i, line in
            switch verifier.verify(line: line, input: inputs[i]) {
            case .success: NodeAPI.Verdict(index: i, accepted: true, reason: nil, detail: nil)
            case .failure(let r): NodeAPI.Verdict(index: i, accepted: false, reason: r.code, detail: r.description)
            }
        }
    }
}

/// `POST /v1/infer` and `POST /v1/verify`: signed inference receipts (MurmurVerify) over HTTP.
extension NodeAPI {
    /// At most this many samples per request.
    public static let maxSamples = 1024

    enum APIFailure: Error {
        case unknownModel(String)
        case width(Int)
    }

    struct InferRequest: Decodable {
        var model: String?
        var features: [[Float]]
        var k: Int?
        var mode: String?
    }

    struct Inference: Sendable {
        var index: Int, label: Int, output: [Float], receipt: String
    }

    struct Verdict: Encodable, Sendable {
        var index: Int, accepted: Bool, reason: String?, detail: String?
    }

    /// A receipt given as a JSON object (as `/v1/infer` returns it) or as its JSON line.
    struct ReceiptInput: Decodable {
        var line: String
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let s = try? c.decode(String.self) { line = s; return }
            let v = try c.decode(AnyJSON.self)
            line = String(decoding: CanonicalJSON.encode(v.value), as: UTF8.self)
        }
    }

    struct VerifyRequest: Decodable {
        var receipts: [ReceiptInput]
        var features: [[Float]]
    }

    static func infer(_ s: Services, _ req: Request) async -> Response {
        let body: InferRequest
        switch await self.body(req, limit: s.context.config.maxBodyBytes).flatMap({ decode(InferRequest.self, from: $0) }) {
        case .success(let b): body = b
        case .failure(let f): return f.response
        }
        let k = body.k ?? 16
        guard (1...64).contains(k) else { return problem(.badRequest, "invalid_field", "'k' must be in 1…64 (activations committed per input)") }
        guard let mode = InferenceMode(rawValue: body.mode ?? "fast") else { return problem(.badRequest, "invalid_field", "'mode' must be \"fast\" or \"exact\"") }
        if let bad = check(body.features) { return bad }
        let cid: String
        do {
            if let m = body.model {
                cid = m
            } else {
                let all = try s.context.store.blocks(kind: "manifest")
                guard let only = all.last else { return problem(.notFound, "unknown_model", "this node holds no model; start it with models = [\"FOLDER\"]") }
                cid = only.cid
            }
        } catch { return internalError(error) }
        do {
            let computed = try await s.models.infer(cid, store: s.context.store, features: body.features.flatMap { $0 }, count: body.features.count,
                                                    identity: s.context.identity, k: k, mode: mode)
            // Kept with their inputs for verifiers (Verify/ReceiptJournal.swift).
            let results = try s.context.receipts.issue(computed, inputs: body.features, identity: s.context.identity)
            var out = "{\"model\":\"\(cid)\",\"device\":\"\(s.context.identity.peerID)\",\"results\":["
            for (i, r) in results.enumerated() {
                if i > 0 { out += "," }
                out += "{\"index\":\(r.index),\"label\":\(r.label),\"output\":[\(r.output.map { String($0) }.joined(separator: ","))],\"receipt\":\(r.receipt)}"
            }
            return raw(Array((out + "]}").utf8))
        } catch APIFailure.unknownModel(let m) {
            return problem(.notFound, "unknown_model", "no model \(m) on this node; GET /v1/models lists them")
        } catch APIFailure.width(let w) {
            return problem(.unprocessableContent, "wrong_width", "every row of 'features' must have \(w) values for this model")
        } catch { return internalError(error) }
    }

    static func verify(_ s: Services, _ req: Request) async -> Response {
        let body: VerifyRequest
        switch await self.body(req, limit: s.context.config.maxBodyBytes).flatMap({ decode(VerifyRequest.self, from: $0) }) {
        case .success(let b): body = b
        case .failure(let f): return f.response
        }
        guard !body.receipts.isEmpty else { return problem(.badRequest, "invalid_field", "'receipts' must not be empty") }
        guard body.receipts.count == body.features.count else {
            return problem(.badRequest, "invalid_field", "'receipts' has \(body.receipts.count) entries but 'features' has \(body.features.count); give one input row per receipt")
        }
        if let bad = check(body.features) { return bad }
        let verdicts = await s.models.verify(body.receipts.map(\.line), inputs: body.features, store: s.context.store)
        struct Answer: Encodable { var accepted: Int, rejected: Int, verdicts: [Verdict] }
        let ok = verdicts.filter(\.accepted).count
        return json(Answer(accepted: ok, rejected: verdicts.count - ok, verdicts: verdicts))
    }

    /// 1…maxSamples rows of equal, positive width with finite values; else a 400 answer.
    static func check(_ rows: [[Float]]) -> Response? {
        guard !rows.isEmpty else { return problem(.badRequest, "invalid_field", "'features' must hold at least one row") }
        guard rows.count <= maxSamples else { return problem(.contentTooLarge, "too_many_samples", "at most \(maxSamples) rows per request") }
        let w = rows[0].count
        guard w > 0, rows.allSatisfy({ $0.count == w }) else { return problem(.badRequest, "invalid_field", "every row of 'features' must have the same, non-zero number of values") }
        guard rows.allSatisfy({ $0.allSatisfy(\.isFinite) }) else { return problem(.badRequest, "invalid_field", "'features' values must be finite numbers") }
        return nil
    }
}

/// Any JSON value without floats (a receipt has none), for receipts sent as objects.
struct AnyJSON: Decodable {
    let value: JSONValue
    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { value = .null }
        else if let b = try? c.decode(Bool.self) { value = .bool(b) }
        else if let i = try? c.decode(Int64.self) { value = .integer(i) }
        else if let s = try? c.decode(String.self) { value = .string(s) }
        else if let a = try? c.decode([AnyJSON].self) { value = .array(a.map(\.value)) }
        else if let o = try? c.decode([String: AnyJSON].self) { value = .object(o.mapValues(\.value)) }
        else { throw DecodingError.dataCorruptedError(in: c, debugDescription: "a receipt holds strings and integers only") }
    }
}
