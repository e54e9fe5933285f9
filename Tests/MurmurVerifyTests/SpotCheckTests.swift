import MurmurCore
import MurmurML
import MurmurTestSupport
import Testing
@testable import MurmurVerify

@Suite(.ownThreads) struct SpotCheckTests {
    /// Devices that forge the output in a fixed number of their receipts are caught (at least one
    /// re-checked receipt rejected) at the rate 1 − (1 − f)^lies predicts. Real receipts, real
    /// re-execution; over several seeds the observed rate must sit within 4 standard errors.
    @Test func detectionRateMatchesFormula() throws {
        let f = try Fixture(count: 20)
        let honest = try f.receipts()
        let checkFraction = 0.15
        let lies = 5
        let predicted = SpotCheck.detectionProbability(checkFraction: checkFraction, lies: lies)
        var caught = 0
        var trials = 0
        var records = [ReputationRecord]()
        for seed in 0..<200 as Range<UInt64> {
            var rng = SeededRNG(seed: seed)
            // The device lies in `lies` randomly chosen receipts by re-signing a forged output.
            var order = Array(0..<f.count)
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            let lying = Set(order.prefix(lies))
            var verifier = f.verifier()
            var failed = 0, checked = 0
            var reasons = Set<String>()
            for (i, check) in SpotCheck.choose(count: f.count, fraction: checkFraction, rng: &rng).enumerated() where check {
                var r = honest[i]
                if lying.contains(i) {
                    r.output[(r.label + 1) % 10] += 3
                    r.label = (r.label + 1) % 10
                    try r.sign(with: f.device)
                }
                checked += 1
                do { try verifier.verify(r, input: f.input(i)) } catch {
                    failed += 1
                    reasons.insert(error.code)
                }
            }
            if failed > 0 { caught += 1 }
            // Honest receipts are never rejected: every failure is a lie.
            #expect(failed <= lies)
            records.append(ReputationRecord(device: f.device.peerID.description, checked: checked, failed: failed, reasons: reasons.sorted()))
            trials += 1
        }
        let observed = Double(caught) / Double(trials)
        let se = (predicted * (1 - predicted) / Double(trials)).squareRoot()
        #expect(abs(observed - predicted) < 4 * se, "observed \(observed), predicted \(predicted)")
        #expect(records.contains { $0.failed > 0 && $0.delta < 0 })
    }

    @Test func requiredFractionInvertsTheFormula() {
        let f = SpotCheck.requiredCheckFraction(lieFraction: 0.1, receipts: 100, confidence: 0.99)
        #expect(abs(SpotCheck.detectionProbability(checkFraction: f, lies: 10) - 0.99) < 1e-9)
    }
}
