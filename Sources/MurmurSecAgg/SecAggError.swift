/// Errors raised by SecAgg+ clients and servers, each naming the client and what to do.
///
/// Every rejected message (replayed, forged, malformed, out of order) maps to one case, so a
/// transport can log it and drop the peer instead of aborting the round.
public enum SecAggError: Error, Equatable, CustomStringConvertible {
    /// Parameters are inconsistent (e.g. threshold above degree, ring wider than 32 bits).
    case invalidParameters(String)
    /// A message belongs to another round (a replay from an earlier round, or a misrouted one).
    case wrongRound(expected: UInt64, got: UInt64)
    /// A message arrived in a stage that does not accept it (replay or reordering).
    case unexpectedMessage(kind: String, stage: String)
    /// The same sender already sent this kind of message in this round (replay).
    case duplicateMessage(kind: String, sender: Int)
    /// A client index outside the round's participant list.
    case unknownClient(Int)
    /// A message addressed to another client.
    case wrongRecipient(expected: Int, got: Int)
    /// Two clients are not neighbours in the communication graph but a message pairs them.
    case notNeighbors(Int, Int)
    /// An advertised key set does not verify under the sender's Ed25519 identity (forgery).
    case badSignature(client: Int)
    /// A message is truncated, has the wrong length or an impossible field value.
    case malformed(String)
    /// An encrypted share failed AEAD authentication (tampered or wrong key).
    case decryptionFailed(from: Int)
    /// Fewer clients than the threshold survived a stage: the round must abort.
    case tooFewSurvivors(stage: String, survivors: Int, threshold: Int)
    /// Too few neighbours answered to reconstruct a client's secret: the round must abort.
    case cannotReconstruct(client: Int, shares: Int, threshold: Int)
    /// The server asked for both the self-mask and the mask-key share of one client, or listed
    /// the answering client itself as dropped: an honest client refuses.
    case conflictingUnmaskRequest(client: Int)
    /// Reconstructed shares do not match the advertised public key (a neighbour lied).
    case inconsistentShares(client: Int)

    public var description: String {
        switch self {
        case .invalidParameters(let m): return "invalid SecAgg parameters: \(m)"
        case .wrongRound(let e, let g): return "message for round \(g) but this is round \(e); drop it (replay or misroute)"
        case .unexpectedMessage(let k, let s): return "\(k) is not accepted in stage \(s); drop it (replay or reordering)"
        case .duplicateMessage(let k, let c): return "client \(c) already sent \(k) this round; drop the replay"
        case .unknownClient(let c): return "client \(c) is not a participant of this round"
        case .wrongRecipient(let e, let g): return "message addressed to client \(g) delivered to client \(e); check routing"
        case .notNeighbors(let a, let b): return "clients \(a) and \(b) are not neighbours in the communication graph"
        case .badSignature(let c): return "advertised keys of client \(c) do not verify under its Ed25519 identity (forged)"
        case .malformed(let m): return "malformed SecAgg message: \(m)"
        case .decryptionFailed(let c): return "encrypted share from client \(c) failed authentication"
        case .tooFewSurvivors(let s, let n, let t):
            return "only \(n) clients survived stage \(s), threshold is \(t): abort the round and retry with more clients"
        case .cannotReconstruct(let c, let n, let t):
            return "only \(n) shares of client \(c)'s secret arrived, \(t) needed: abort the round (too many dropouts)"
        case .conflictingUnmaskRequest(let c):
            return "unmask request would reveal both secrets of client \(c); refused"
        case .inconsistentShares(let c): return "reconstructed key of client \(c) does not match its advertised key"
        }
    }
}
