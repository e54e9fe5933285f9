/// Participation × samples: every client whose update arrived scores its reported sample count.
///
/// It needs only what a server learns under secure aggregation (who contributed, and the
/// sample counts clients report in the clear), so it always applies. It says nothing about the
/// quality of an update: a free-rider that sends Δ = 0 but claims its samples scores like an
/// honest client. A reward policy therefore pairs it with a quality signal (anomaly flags,
/// or `group` scores under secure aggregation); see docs/contribution.md.
public enum ParticipationScore {
    /// One score per result, in input order: score = samples.
    public static func scores(_ results: [FitResult]) -> [Double] {
        results.map { Double($0.sampleCount) }
    }
}
