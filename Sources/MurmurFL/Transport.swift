/// How the round protocol reaches clients. The simulation implements it with in-memory calls;
/// the network node implements it over libp2p streams. The protocol code in `RoundRunner` is
/// written once against this seam.
public protocol Transport: Sendable {
    /// Clients that can be asked to take part right now.
    func onlineClients() async -> [ClientID]

    /// Sends a fit instruction to one client and waits for its result.
    /// Throws `FLError.clientDropped` or `FLError.clientTimedOut` when no usable answer came.
    func fit(_ instruction: FitInstruction, client: ClientID) async throws -> FitResult

    /// Asks one client to evaluate the global model on its local data.
    func evaluate(_ instruction: EvaluateInstruction, client: ClientID) async throws -> EvaluateResult
}

/// The client side of the round protocol: what a device does when asked.
public protocol ClientApp: Sendable {
    func fit(_ instruction: FitInstruction) throws -> FitResult
    func evaluate(_ instruction: EvaluateInstruction) throws -> EvaluateResult
}

/// Errors of federated rounds, with messages a user can act on.
public enum FLError: Error, Equatable, CustomStringConvertible {
    /// The client left during the round (simulated dropout or lost connection).
    case clientDropped(ClientID)
    /// The client answered after the round's deadline (a straggler); its update is discarded.
    case clientTimedOut(ClientID)
    /// Not enough clients answered to aggregate a round.
    case tooFewResults(round: Int, got: Int, needed: Int)
    /// A configuration value is out of range.
    case invalidConfiguration(String)
    /// A client's update does not fit the model (wrong length).
    case malformedUpdate(client: ClientID, reason: String)
    /// No such client.
    case unknownClient(ClientID)

    public var description: String {
        switch self {
        case .clientDropped(let c): return "client \(c) dropped out of the round"
        case .clientTimedOut(let c): return "client \(c) missed the round deadline"
        case let .tooFewResults(round, got, needed):
            return "round \(round): only \(got) client result(s) arrived, at least \(needed) needed; lower --dropout or raise --fraction"
        case .invalidConfiguration(let m): return "invalid configuration: \(m)"
        case let .malformedUpdate(client, reason): return "client \(client) sent a malformed update: \(reason)"
        case .unknownClient(let c): return "unknown client \(c)"
        }
    }
}
