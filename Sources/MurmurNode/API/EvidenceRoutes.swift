import Foundation
import Hummingbird

/// `GET /v1/evidence`: the split-view evidence this node holds (docs/openapi.yaml).
/// Why: anyone can see that, and why, the node refuses models from a log (issue 11, items 2 and 6).
extension NodeAPI {
    /// `{"count": N, "evidence": [ {cid, object}, … ]}`, each object the canonical `SplitViewEvidence` JSON.
    static func evidence(_ s: Services) async -> Response {
        do {
            let all = try s.context.store.evidence()
            var out = Array("{\"count\":\(all.count),\"evidence\":[".utf8)
            for (i, e) in all.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out += Array("{\"cid\":\"\(e.cid)\",\"object\":".utf8) + e.json + [UInt8(ascii: "}")]
            }
            out += Array("]}".utf8)
            return raw(out)
        } catch {
            return problem(.internalServerError, "storage", "\(error)")
        }
    }
}
