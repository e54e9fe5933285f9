import Foundation
import Hummingbird

/// `GET /v1/spot-checks`: what the verifier role found about each device's receipts (docs/openapi.yaml).
/// Why: anyone can see which devices were checked, how often they lied and their reputation (issue 11, item 1).
extension NodeAPI {
    struct SpotCheckAnswer: Encodable {
        var verifier: Bool
        var intervalSeconds: Int
        var percent: Int
        var devices: [SpotCheckTally]

        enum CodingKeys: String, CodingKey {
            case verifier, intervalSeconds = "interval_seconds", percent, devices
        }
    }

    /// `{"verifier": bool, "interval_seconds": N, "percent": P, "devices": [SpotCheckTally, …]}`, devices sorted by peer id.
    static func spotChecks(_ s: Services) async -> Response {
        let c = s.context.config
        do {
            return json(SpotCheckAnswer(verifier: c.has(.verifier), intervalSeconds: c.spotCheckInterval, percent: c.spotCheckPercent,
                                        devices: try s.context.store.spotChecks()))
        } catch {
            return problem(.internalServerError, "storage", "\(error)")
        }
    }
}
