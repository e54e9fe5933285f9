import MurmurCore
import MurmurFuzz
import Testing

/// The fuzz harnesses (Sources/MurmurFuzz) over their seeds and seeded random mutations, so that
/// CI checks them on every commit; the long libFuzzer runs are `scripts/fuzz` (docs/p2p.md).
@Suite struct FuzzHarnessTests {
    @Test(arguments: FuzzTarget.allCases) func seedsAreValidAndMutationsNeverTrap(_ target: FuzzTarget) {
        let seeds = target.seeds
        #expect(seeds.count >= 3)
        var rng = SeededRNG(seed: 0xF022)
        for seed in seeds {
            target.run(seed)
            // Byte flips, truncations and insertions of each seed; a broken invariant traps.
            for _ in 0..<300 {
                var m = seed
                switch rng.next() % 3 {
                case 0 where !m.isEmpty: m[Int(rng.next() % UInt64(m.count))] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
                case 1 where !m.isEmpty: m.removeLast(Int(rng.next() % UInt64(m.count)))
                default: m.insert(UInt8(truncatingIfNeeded: rng.next()), at: Int(rng.next() % UInt64(m.count + 1)))
                }
                target.run(m)
            }
        }
        for _ in 0..<300 {
            target.run((0..<Int(rng.next() % 200)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        }
    }
}
