import MurmurTensor

/// The clients' updates of one round as one contiguous n×d row-major matrix (row i = Δ of
/// `clients[i]`), the layout robust aggregators need: coordinate-wise statistics read columns
/// in blocks, and Krum's pairwise distances are one GEMM over it.
public struct ClientUpdates: Sendable {
    /// Client of each row.
    public let clients: [ClientID]
    /// Local sample count of each row (the FedAvg weight).
    public let sampleCounts: [Int]
    /// Parameters per update (d).
    public let dimension: Int
    /// Row-major n×d values.
    public var values: [Float]

    /// Number of updates (n).
    public var count: Int { clients.count }

    /// Packs fit results into a matrix; throws `malformedUpdate` when the lengths differ.
    public init(_ results: [FitResult]) throws {
        let d = results.first?.delta.count ?? 0
        var values = [Float]()
        values.reserveCapacity(results.count * d)
        for r in results {
            guard r.delta.count == d else {
                throw FLError.malformedUpdate(client: r.client, reason: "delta has \(r.delta.count) values, expected \(d)")
            }
            values.append(contentsOf: r.delta)
        }
        self.init(clients: results.map(\.client), sampleCounts: results.map(\.sampleCount), dimension: d, values: values)
    }

    /// Wraps an existing matrix (benchmarks build one directly).
    public init(clients: [ClientID], sampleCounts: [Int], dimension: Int, values: [Float]) {
        precondition(values.count == clients.count * dimension && sampleCounts.count == clients.count, "ClientUpdates: shape mismatch")  // programmer error
        self.clients = clients
        self.sampleCounts = sampleCounts
        self.dimension = dimension
        self.values = values
    }

    /// Row i as an array.
    public func row(_ i: Int) -> [Float] { Array(values[i * dimension..<(i + 1) * dimension]) }

    /// The rows listed, as a new matrix (Bulyan and Multi-Krum aggregate a selection).
    public func rows(_ indices: [Int]) -> ClientUpdates {
        var v = [Float]()
        v.reserveCapacity(indices.count * dimension)
        for i in indices { v.append(contentsOf: values[i * dimension..<(i + 1) * dimension]) }
        return ClientUpdates(clients: indices.map { clients[$0] }, sampleCounts: indices.map { sampleCounts[$0] }, dimension: dimension, values: v)
    }

    /// ‖Δᵢ‖ for every row.
    public func rowNorms() -> [Float] {
        values.withUnsafeBufferPointer { v in
            (0..<count).map { i in Vec.l2Norm(UnsafeBufferPointer(rebasing: v[i * dimension..<(i + 1) * dimension])) }
        }
    }

    /// ‖Δᵢ − c‖ for every row.
    public func distances(to c: [Float]) -> [Float] {
        precondition(c.count == dimension, "distances: length mismatch")  // programmer error
        let d = dimension
        return values.withUnsafeBufferPointer { v in
            c.withUnsafeBufferPointer { cp in
                (0..<count).map { i in Self.distance(v.baseAddress! + i * d, cp.baseAddress!, d) }
            }
        }
    }

    /// ‖a − b‖ over d values, in four SIMD8 accumulators (fixed summation order).
    static func distance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int) -> Float {
        var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), s2 = SIMD8<Float>(), s3 = SIMD8<Float>()
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        var j = 0
        while j + 32 <= d {
            let o = j * 4
            let t0 = ra.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self) - rb.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
            let t1 = ra.loadUnaligned(fromByteOffset: o + 32, as: SIMD8<Float>.self) - rb.loadUnaligned(fromByteOffset: o + 32, as: SIMD8<Float>.self)
            let t2 = ra.loadUnaligned(fromByteOffset: o + 64, as: SIMD8<Float>.self) - rb.loadUnaligned(fromByteOffset: o + 64, as: SIMD8<Float>.self)
            let t3 = ra.loadUnaligned(fromByteOffset: o + 96, as: SIMD8<Float>.self) - rb.loadUnaligned(fromByteOffset: o + 96, as: SIMD8<Float>.self)
            s0 += t0 * t0; s1 += t1 * t1; s2 += t2 * t2; s3 += t3 * t3
            j += 32
        }
        var s = ((s0 + s1) + (s2 + s3)).sum()
        while j < d { let t = a[j] - b[j]; s += t * t; j += 1 }
        return s.squareRoot()
    }

    /// Σᵢ wᵢ·Δᵢ / Σᵢ wᵢ (rows with weight 0 are skipped); zeros when all weights are 0.
    public func weightedMean(_ weights: [Float]) -> [Float] {
        var out = [Float](repeating: 0, count: dimension)
        let total = weights.reduce(0, +)
        guard total > 0 else { return out }
        values.withUnsafeBufferPointer { v in
            out.withUnsafeMutableBufferPointer { o in
                for i in 0..<count where weights[i] != 0 {
                    Vec.axpy(weights[i] / total, UnsafeBufferPointer(rebasing: v[i * dimension..<(i + 1) * dimension]), o)
                }
            }
        }
        return out
    }
}
