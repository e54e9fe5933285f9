/// Why a privacy computation or DP configuration was refused.
/// Each message names the offending value and the range it must lie in, so a CLI user can fix it.
public enum PrivacyError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A parameter lies outside its valid range.
    case invalidParameter(String)
    /// The accountant cannot analyse this combination (e.g. PLD with sampling without replacement).
    case unsupported(String)
    /// No noise multiplier within the search bounds reaches the target ε.
    case unreachableTarget(String)

    public var description: String {
        switch self {
        case .invalidParameter(let m): return m
        case .unsupported(let m): return m
        case .unreachableTarget(let m): return m
        }
    }
}
