import Foundation
import Hummingbird
import MurmurCore
import MurmurML

/// The read-only `/v1` endpoints: status, peers, rounds, models, ledger state, metrics.
extension NodeAPI {
    struct Status: Encodable {
        var peerID: String, roles: [String], version: String, uptimeSeconds: Int, p2pAddresses: [String]
        var peersConnected: Int, roundsCompleted: Int, log: LogInfo, ledgerDigest: String, models: Int, witnessKey: String?
        struct LogInfo: Encodable {
            var origin: String, size: UInt64, verifierKey: String
            enum CodingKeys: String, CodingKey { case origin, size, verifierKey = "verifier_key" }
        }
        enum CodingKeys: String, CodingKey {
            case peerID = "peer_id", roles, version, uptimeSeconds = "uptime_seconds", p2pAddresses = "p2p_addresses"
            case peersConnected = "peers_connected", roundsCompleted = "rounds_completed", log, ledgerDigest = "ledger_digest", models
            case witnessKey = "witness_key"
        }
    }

    /// The software version reported by `/v1/status`.
    public static let version = "murmur-node/0.1"

    static func status(_ s: Services) async -> Response {
        let c = s.context
        do {
            let snap = try await c.ledger.snapshot()
            return json(Status(
                peerID: c.identity.peerID.description, roles: c.config.roles.map(\.rawValue), version: version,
                uptimeSeconds: Int(Date().timeIntervalSince(s.started)), p2pAddresses: c.host.addresses.map(\.description),
                peersConnected: c.host.connectedPeers.count, roundsCompleted: try c.store.completedRounds(),
                log: .init(origin: c.ledger.origin, size: snap.size, verifierKey: c.ledger.verifierKey),
                ledgerDigest: snap.digest, models: try c.store.blocks(kind: "manifest").count, witnessKey: c.witnessKey))
        } catch { return internalError(error) }
    }

    struct Peers: Encodable {
        var connected: [Connected], book: [PeerRecord], scores: [PeerScoreRecord]
        struct Connected: Encodable {
            var peerID: String, connections: Int, addresses: [String], score: Double
            enum CodingKeys: String, CodingKey { case peerID = "peer_id", connections, addresses, score }
        }
    }

    static func peers(_ s: Services) async -> Response {
        let host = s.context.host
        let connected = host.connectedPeers.map { p in
            Peers.Connected(peerID: p.description, connections: host.connections(to: p).count,
                            addresses: host.connections(to: p).compactMap { $0.remoteAddress?.withoutPeer.description },
                            score: s.context.peerGuard.scores.score(p.description))
        }.sorted { $0.peerID < $1.peerID }
        do {
            return json(Peers(connected: connected, book: try s.context.store.peers(), scores: s.context.peerGuard.scores.records()))
        } catch { return internalError(error) }
    }

    static func rounds(_ s: Services, _ req: Request) async -> Response {
        var limit = 100
        if let text = req.uri.queryParameters.get("limit") {
            guard let n = Int(text), (1...1000).contains(n) else { return problem(.badRequest, "invalid_parameter", "limit must be an integer in 1…1000") }
            limit = n
        }
        do { return json(["rounds": try s.context.store.rounds(limit: limit)]) } catch { return internalError(error) }
    }

    struct ModelSummary: Encodable {
        var cid: String, parameterCount: Int, inputShape: [Int], classCount: Int, weights: String
        enum CodingKeys: String, CodingKey {
            case cid, parameterCount = "parameter_count", inputShape = "input_shape", classCount = "class_count", weights
        }
    }

    static func models(_ s: Services) async -> Response {
        do {
            var out = [ModelSummary]()
            for b in try s.context.store.blocks(kind: "manifest") {
                guard let m = try s.context.store.manifest(b.cid) else { continue }
                out.append(ModelSummary(cid: b.cid, parameterCount: m.parameterCount, inputShape: m.config.inputShape,
                                        classCount: m.config.classCount, weights: m.weights.description))
            }
            return json(["models": out])
        } catch { return internalError(error) }
    }

    /// `{"cid", "weights_bytes", "manifest": <the canonical manifest JSON, verbatim>}`: the CID can be recomputed from `manifest`.
    static func model(_ s: Services, cid: String) async -> Response {
        guard (try? CID(cid)) != nil else { return problem(.badRequest, "invalid_cid", "'\(cid)' is not a CID (multibase base32, starting with b)") }
        do {
            guard let manifestBytes = try s.context.store.block(cid), let m = try s.context.store.model(cid) else {
                return problem(.notFound, "unknown_model", "no model \(cid) on this node; GET /v1/models lists them")
            }
            let head = "{\"cid\":\"\(cid)\",\"weights_bytes\":\(m.weights.count),\"manifest\":"
            return raw(Array(head.utf8) + manifestBytes + Array("}".utf8))
        } catch { return internalError(error) }
    }

    /// The model's weights (safetensors), whose raw CID is the manifest's `weights`.
    static func weights(_ s: Services, cid: String) async -> Response {
        guard (try? CID(cid)) != nil else { return problem(.badRequest, "invalid_cid", "'\(cid)' is not a CID (multibase base32, starting with b)") }
        do {
            guard let m = try s.context.store.model(cid) else { return problem(.notFound, "unknown_model", "no model \(cid) on this node") }
            var r = raw(m.weights, type: "application/octet-stream")
            r.headers[.cacheControl] = "public, max-age=31536000, immutable"
            return r
        } catch { return internalError(error) }
    }

    /// `{"size", "head", "digest", "checkpoint", "state": <canonical state JSON>}`.
    static func ledgerState(_ s: Services) async -> Response {
        do {
            let snap = try await s.context.ledger.snapshot()
            var head = "{\"size\":\(snap.size),\"head\":\"\(snap.head)\",\"digest\":\"\(snap.digest)\",\"checkpoint\":"
            head += snap.checkpoint.map { jsonString($0) } ?? "null"
            return raw(Array((head + ",\"state\":").utf8) + snap.state + Array("}".utf8))
        } catch { return internalError(error) }
    }

    static func metrics(_ s: Services) async -> Response {
        let c = s.context
        c.metrics.update(peers: c.host.connectedPeers.count, roundsCompleted: try? c.store.completedRounds(), logEntries: await c.ledger.size)
        return raw(Array(c.metrics.text().utf8), type: "text/plain; version=0.0.4; charset=utf-8")
    }

    static func internalError(_ e: any Error) -> Response {
        problem(.internalServerError, "internal", "\(e)")
    }

    static func jsonString(_ s: String) -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = .withoutEscapingSlashes
        return (try? String(decoding: enc.encode(s), as: UTF8.self)) ?? "null"
    }
}
