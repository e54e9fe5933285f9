import Foundation
import MurmurTestSupport
import Testing

/// `murmur bench p2p` end to end with the real py-libp2p 0.8.1 of the test venv: the JSON keys
/// the issue names, every run reported, and each ratio computed from the figures beside it.
/// Small sizes: this checks the contract, not the speed (speed is for the release benchmark).
@Suite(.serialized) struct BenchP2PCLITests {
    @Test(.timeLimit(.minutes(3))) func jsonHasEveryFigureRunAndRatio() async throws {
        let python = try PythonReference.python()
        let r = try await runProcessAsync(murmurBinary, [
            "bench", "p2p", "--megabytes", "4", "--handshakes", "3", "--py-megabytes", "2", "--py-handshakes", "2",
            "--repeats", "2", "--python", python, "--json",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stdout)")
        func number(_ key: String) throws -> Double { try #require(o[key] as? Double, "\(key) missing in \(o)") }
        let stream = try number("stream_bytes_per_second"), floor = try number("floor_bytes_per_second")
        let limit = try number("chachapoly_bytes_per_second"), py = try number("py_libp2p_stream_bytes_per_second")
        let runs = try #require(o["stream_bytes_per_second_runs"] as? [Double])
        let floorRuns = try #require(o["floor_bytes_per_second_runs"] as? [Double])
        let pyRuns = try #require(o["py_libp2p_stream_bytes_per_second_runs"] as? [Double])
        #expect(runs.count == 2 && floorRuns.count == 2 && pyRuns.count == 2)
        #expect(stream == runs.max() && floor == floorRuns.max() && py == pyRuns.max())
        #expect(stream > 0 && floor > 0 && py > 0 && limit > 0)
        #expect(abs(try number("ratio_vs_chachapoly") - stream / limit) <= 1e-9 * stream / limit)
        #expect(abs(try number("ratio_vs_floor") - stream / floor) <= 1e-9 * stream / floor)
        #expect(abs(try number("ratio_vs_py_libp2p") - stream / py) <= 1e-9 * stream / py)
        #expect(abs(try number("handshake_ratio_vs_py_libp2p") - (try number("handshakes_per_second")) / (try number("py_libp2p_handshakes_per_second"))) < 1e-6 * (try number("handshake_ratio_vs_py_libp2p")))
        #expect(o["write_bytes"] as? Int == 65536 && o["repeats"] as? Int == 2)
        #expect(o["stream_bytes"] as? Int == 4 << 20)
    }

    @Test func badArgumentsAreRefusedWithTheFlagNamed() async throws {
        for (args, flag) in [(["--repeats", "0"], "--repeats"), (["--write-kib", "0"], "--write-kib"), (["--megabytes", "0"], "--megabytes")] {
            let r = try await runProcessAsync(murmurBinary, ["bench", "p2p", "--no-reference"] + args)
            #expect(r.status != 0)
            #expect(r.stderr.contains(flag), "\(args): \(r.stderr)")
        }
    }
}
