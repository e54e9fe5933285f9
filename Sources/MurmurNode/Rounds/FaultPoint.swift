import MurmurFL
import MurmurSecAgg

/// A crash to inject on a node at a chosen point of a round: when a client node receives the
/// named message of round `round` — or, for `fit-result`, when the aggregator receives the
/// round's first fit result — `action` runs (`murmur node` SIGKILLs its own process).
///
/// For fault tests and `murmur cluster --kill-clients` (docs/node.md, "Faults"): it makes a
/// client die at an exact protocol step — during local training, or between two SecAgg+ stages —
/// so dropout recovery is exercised deterministically (Bonawitz et al. CCS 2017 §4).
public struct FaultPoint: Sendable {
    /// The round (1-based) whose message triggers the action.
    public var round: Int
    /// On a client: `fit` (the fit request), or a SecAgg+ message the aggregator sends:
    /// `KeyRoster`, `ShareBundle` (before the client's masked input) or `UnmaskRequest` (after it).
    /// On the aggregator: `fit-result` (mid-round: clients have trained, nothing is aggregated).
    public var message: String
    /// What happens then.
    public var action: @Sendable () -> Void

    /// The messages a fault can be tied to.
    public static let messages = ["fit", "KeyRoster", "ShareBundle", "UnmaskRequest", "fit-result"]

    /// A fault at `message` of `round`.
    public init(round: Int, message: String, action: @escaping @Sendable () -> Void) throws {
        guard round >= 1, Self.messages.contains(message) else {
            throw FederationEngineError.unsupported(
                "a fault point is ROUND:MESSAGE with ROUND ≥ 1 and MESSAGE one of \(Self.messages.joined(separator: ", ")); got \(round):\(message)")
        }
        self.round = round
        self.message = message
        self.action = action
    }

    /// Parses `ROUND:MESSAGE`, e.g. `2:ShareBundle`.
    public init(parsing text: String, action: @escaping @Sendable () -> Void) throws {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let round = Int(parts[0]) else {
            throw FederationEngineError.unsupported("a fault point is ROUND:MESSAGE, e.g. 2:ShareBundle; got '\(text)'")
        }
        try self.init(round: round, message: parts[1], action: action)
    }

    /// Runs `action` if `message` of `round` is this point.
    func check(round: Int, message: String) {
        if round == self.round && message == self.message { action() }
    }
}

/// A client app that runs a fault point's action on the matching fit request.
struct FaultingClientApp: ClientApp {
    let base: any ClientApp
    let fault: FaultPoint

    func fit(_ instruction: FitInstruction) throws -> FitResult {
        fault.check(round: instruction.round, message: "fit")
        return try base.fit(instruction)
    }

    func evaluate(_ instruction: EvaluateInstruction) throws -> EvaluateResult { try base.evaluate(instruction) }
}

/// The aggregator's transport with a fault point: `fit-result` of its round fires when the first
/// fit result of that round arrives.
struct FaultingTransport: Transport {
    let base: any Transport
    let fault: FaultPoint

    func onlineClients() async -> [ClientID] { await base.onlineClients() }

    func fit(_ instruction: FitInstruction, client: ClientID) async throws -> FitResult {
        let result = try await base.fit(instruction, client: client)
        fault.check(round: instruction.round, message: "fit-result")
        return result
    }

    func evaluate(_ instruction: EvaluateInstruction, client: ClientID) async throws -> EvaluateResult {
        try await base.evaluate(instruction, client: client)
    }
}
