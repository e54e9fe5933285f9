import Foundation
import Hummingbird
import MurmurLog
import MurmurP2P

/// `/v1/admin/*`: need `Authorization: Bearer <token>` (401 without credentials, 403 with a wrong token).
extension NodeAPI {
    /// nil if the request carries the admin token; else the 401 or 403 answer.
    static func authorize(_ s: Services, _ req: Request) -> Response? {
        let challenge: HTTPFields = [.wwwAuthenticate: "Bearer realm=\"murmur-node\""]
        guard let header = req.headers[.authorization] else {
            return problem(.unauthorized, "unauthorized", "admin endpoints need 'Authorization: Bearer <token>'; the token is in DATA_DIR/admin.token", headers: challenge)
        }
        guard header.hasPrefix("Bearer ") else {
            return problem(.unauthorized, "unauthorized", "use the Bearer scheme: 'Authorization: Bearer <token>'", headers: challenge)
        }
        guard constantTimeEqual(Array(header.dropFirst("Bearer ".count).utf8), Array(s.adminToken.utf8)) else {
            return problem(.forbidden, "forbidden", "wrong admin token")
        }
        return nil
    }

    /// Equality whose time does not depend on where the first difference is (only on the lengths).
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in a.indices { diff |= a[i] ^ b[i] }
        return diff == 0
    }

    struct AddPeerRequest: Decodable { var address: String }

    struct AddPeerAnswer: Encodable {
        var peerID: String, address: String, connected: Bool
        enum CodingKeys: String, CodingKey { case peerID = "peer_id", address, connected }
    }

    /// Dials a peer (`{"address": "/ip4/…/tcp/…/p2p/<id>"}`) and adds it to the peer book; 502 if it cannot be reached.
    static func addPeer(_ s: Services, _ req: Request) async -> Response {
        if let denied = authorize(s, req) { return denied }
        let body: AddPeerRequest
        switch await self.body(req, limit: s.context.config.maxBodyBytes).flatMap({ decode(AddPeerRequest.self, from: $0) }) {
        case .success(let b): body = b
        case .failure(let f): return f.response
        }
        let addr: Multiaddr
        do { addr = try Multiaddr(body.address) } catch {
            return problem(.badRequest, "invalid_field", "'address' is not a multiaddr: \(error)")
        }
        guard addr.peerID != nil, (try? addr.tcpEndpoint()) != nil else {
            return problem(.badRequest, "invalid_field", "'address' must be /ip4|ip6|dns/…/tcp/PORT/p2p/<peer id>")
        }
        do {
            let peer = try await Node.connect(addr, source: "admin", s.context)
            s.context.logger.info("admin: added peer \(peer)")
            return json(AddPeerAnswer(peerID: peer.description, address: addr.withoutPeer.description, connected: true))
        } catch {
            return NodeAPI.problem(.badGateway, "unreachable", "cannot connect to \(addr): \(error)")
        }
    }

    struct CosignRequest: Decodable { var witness: String; var key: String }

    /// Gets the node log's current checkpoint cosigned by a tlog-witness (`{"witness": URL, "key": verifier key}`)
    /// and stores the cosignature, so `GET /checkpoint` carries it; 502 if the witness refuses or cannot be reached.
    static func cosign(_ s: Services, _ req: Request) async -> Response {
        if let denied = authorize(s, req) { return denied }
        let body: CosignRequest
        switch await self.body(req, limit: s.context.config.maxBodyBytes).flatMap({ decode(CosignRequest.self, from: $0) }) {
        case .success(let b): body = b
        case .failure(let f): return f.response
        }
        guard let url = URL(string: body.witness), url.scheme == "http" || url.scheme == "https", url.host != nil else {
            return problem(.badRequest, "invalid_field", "'witness' must be an http(s) URL such as http://127.0.0.1:8081")
        }
        let key: VerifierKey
        do { key = try VerifierKey(body.key) } catch {
            return NodeAPI.problem(.badRequest, "invalid_field", "'key' is not a verifier key (name+hex(id)+base64): \(error)")
        }
        do {
            let note = try await s.context.ledger.cosign(witness: url, key: key)
            s.context.logger.info("admin: checkpoint cosigned by \(key.name)")
            return json(["checkpoint": note])
        } catch {
            return NodeAPI.problem(.badGateway, "witness_failed", "\(error)")
        }
    }

    /// Answers 202, then stops the node gracefully (in-flight requests finish, the process exits 0).
    static func shutdown(_ s: Services, _ req: Request) async -> Response {
        if let denied = authorize(s, req) { return denied }
        s.context.logger.info("admin: shutdown requested")
        let sw = s.switchboard
        Task {
            try? await Task.sleep(for: .milliseconds(100))  // let this answer go out first
            await sw.trigger()
        }
        return json(["status": "shutting down"], status: .accepted)
    }
}
