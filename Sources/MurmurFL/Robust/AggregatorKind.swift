import MurmurML

/// The robust aggregators the CLI offers, by name.
public enum AggregatorKind: String, CaseIterable, Sendable, Codable {
    case mean, median
    case trimmedMean = "trimmed-mean"
    case krum
    case multiKrum = "multi-krum"
    case bulyan, geomed
    case centeredClip = "centered-clip"
    case normBound = "norm-bound"
    case fltrust

    /// Whether the aggregator still works when the server only sees the sum of the updates
    /// (secure aggregation): the mean does, norm bounding does when done on the client; the
    /// others need individual updates.
    /// TODO(secagg): `SimulationConfig.validate` must reject the other kinds once `--secagg` exists.
    public var worksWithSecureAggregation: Bool { self == .mean || self == .normBound }

    /// Builds the aggregator. `f` = Byzantine updates assumed per round (Krum, Bulyan),
    /// `beta` = trimmed fraction per end, `root` and `model` = FLTrust's root data set and model.
    public func make(byzantine f: Int, beta: Double, root: Dataset?, model: ModelConfig) throws -> any RobustAggregator {
        switch self {
        case .mean: return Mean()
        case .median: return CoordinateMedian()
        case .trimmedMean: return TrimmedMean(beta: beta)
        case .krum: return Krum(byzantine: f)
        case .multiKrum: return Krum(byzantine: f, multi: nil)
        case .bulyan: return Bulyan(byzantine: f)
        case .geomed: return GeometricMedian()
        case .centeredClip: return CenteredClipping()
        case .normBound: return NormBounding()
        case .fltrust:
            guard let root, root.count > 0 else {
                throw FLError.invalidConfiguration("fltrust needs a server root data set (--root-samples ≥ 1)")
            }
            return FLTrust(root: root, model: model)
        }
    }
}
