import MurmurCore
import MurmurML
import MurmurTestSupport
import Testing
@testable import MurmurFL

@Suite(.ownThreads) struct AttackTests {
    @Test func maliciousClientsAreASeededFraction() {
        let a = AttackKind.maliciousClients(population: 100, fraction: 0.2, seed: 42)
        #expect(a.count == 20 && a.allSatisfy { (0..<100).contains($0) })
        #expect(a == AttackKind.maliciousClients(population: 100, fraction: 0.2, seed: 42))
        #expect(a != AttackKind.maliciousClients(population: 100, fraction: 0.2, seed: 43))
        #expect(AttackKind.maliciousClients(population: 10, fraction: 0, seed: 1).isEmpty)
    }

    /// Baruch et al. 2019, Alg. 3 with n = 20, m = 4: s = 11 − 4 = 7, z = Φ⁻¹(13/20) = 0.38532.
    @Test func alieZ() {
        #expect(abs(CollusionStrategy.alieZ(n: 20, m: 4) - 0.385_32) < 1e-4)
        #expect(abs(CollusionStrategy.alieZ(n: 50, m: 12) - 0.582_84) < 1e-4)  // s = 14, Φ⁻¹(36/50)
    }

    @Test func craftedUpdatesHandChecked() {
        let honest: [[Float]] = [[1, 0], [3, 4]]  // μ = (2, 2), σ = (1, 2)
        let alie = CollusionStrategy(base: FedAvg(), attack: .alie, malicious: [])
        let z = Float(CollusionStrategy.alieZ(n: 4, m: 2))
        #expect(alie.craft(honest: honest, total: 4, malicious: 2) == [2 - z, 2 - 2 * z])
        let ipm = CollusionStrategy(base: FedAvg(), attack: .ipm, malicious: [])
        #expect(ipm.craft(honest: honest, total: 4, malicious: 2) == [-0.2, -0.2])
    }

    /// The min-max / min-sum update stays within the honest spread, and γ is as large as allowed.
    @Test func minMaxAndMinSumRespectTheirBounds() {
        var rng = MurmurCore.SeededRNG(seed: 3)
        let honest = (0..<8).map { _ in (0..<20).map { _ in Float(rng.nextGaussian()) } }
        func d2(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } }
        let maxPair = honest.flatMap { a in honest.map { d2(a, $0) } }.max()!
        let maxSum = honest.map { a in honest.reduce(Float(0)) { $0 + d2(a, $1) } }.max()!
        for attack in [AttackKind.minMax, .minSum] {
            let m = CollusionStrategy(base: FedAvg(), attack: attack, malicious: []).craft(honest: honest, total: 10, malicious: 2)
            let d = honest.map { d2(m, $0) }
            if attack == .minMax { #expect(d.max()! <= maxPair * 1.0001) } else { #expect(d.reduce(0, +) <= maxSum * 1.0001) }
            let (mu, _) = CollusionStrategy.meanAndStd(honest)
            #expect(d2(m, mu) > 0.01)  // it did move away from the mean
        }
    }

    @Test func poisonedReplacesOnlyMaliciousUpdates() {
        let results = [
            FitResult(client: 0, delta: [1, 1], sampleCount: 1, trainLoss: 0),
            FitResult(client: 1, delta: [3, 3], sampleCount: 1, trainLoss: 0),
            FitResult(client: 2, delta: [9, 9], sampleCount: 1, trainLoss: 0),
        ]
        let out = CollusionStrategy(base: FedAvg(), attack: .ipm, malicious: [2]).poisoned(results)
        #expect(out.map(\.delta) == [[1, 1], [3, 3], [-0.2, -0.2]])
        // Non-colluding attacks are left to the clients.
        #expect(CollusionStrategy(base: FedAvg(), attack: .signFlip, malicious: [2]).poisoned(results).map(\.delta) == results.map(\.delta))
    }

    @Test func triggerStampsTheCornerAndPoisonDoubles() {
        let data = Dataset(name: "t", features: [Float](repeating: 0, count: 2 * 64), labels: [3, 7], sampleShape: [1, 8, 8], classCount: 10)
        let trigger = BackdoorTrigger(target: 0)
        let stamped = trigger.stamp(data)
        #expect(stamped.features.filter { $0 == 1 }.count == 8)
        #expect(stamped.features[63] == 1 && stamped.features[54] == 1 && stamped.features[53] == 0)
        let p = trigger.poison(data)
        #expect(p.count == 4 && p.labels == [3, 7, 0, 0])
    }

    @Test func maliciousClientUpdates() throws {
        let (train, _) = Digits.split()
        let model = ModelConfig(architecture: .logisticRegression, inputShape: [64], classCount: 10)
        let honest = SimulatedClient(id: 1, data: train.subset(Array(0..<40)), model: model)
        let global = try Network(config: model, seed: 1).parameters
        let instruction = FitInstruction(round: 1, parameters: global, plan: LocalTrainingPlan(epochs: 1, batchSize: 8, learningRate: 0.1), seed: 7)
        let h = try honest.fit(instruction).delta
        #expect(try MaliciousClient(honest: honest, attack: .signFlip).fit(instruction).delta == h.map { -$0 })
        #expect(try MaliciousClient(honest: honest, attack: .freeRide).fit(instruction).delta.allSatisfy { $0 == 0 })
        #expect(try MaliciousClient(honest: honest, attack: .labelFlip).fit(instruction).delta != h)
        #expect(try MaliciousClient(honest: honest, attack: .alie).fit(instruction).delta == h)
        let noise = try MaliciousClient(honest: honest, attack: .noise, noiseStd: 0.5).fit(instruction)
        #expect(noise.delta != h && noise.sampleCount == 40)
        let backdoor = try MaliciousClient(honest: honest, attack: .backdoor, boost: 5).fit(instruction)
        #expect(backdoor.sampleCount == 40 && backdoor.delta != h)
    }

    @Test func configurationChecks() {
        var c = SimulationConfig()
        c.attack = .alie
        #expect(throws: FLError.self) { try c.validate() }  // attack without --malicious
        c.malicious = 0.2
        #expect(throws: Never.self) { try c.validate() }
        c.malicious = 1
        #expect(throws: FLError.self) { try c.validate() }
        c.malicious = 0.2
        c.byzantineFraction = 0.5
        #expect(throws: FLError.self) { try c.validate() }
        #expect(!AggregatorKind.krum.worksWithSecureAggregation && AggregatorKind.normBound.worksWithSecureAggregation)
    }
}
