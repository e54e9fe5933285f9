/// Reads image classification data in the IDX format of MNIST and its relatives (LeCun, Cortes &
/// Burges, "The MNIST database", file format section; also Fashion-MNIST, KMNIST).
///
/// Use it to train on MNIST without converting it: pass the images and labels files as
/// downloaded; gzip-compressed files (`.gz`) are decompressed in memory.
public enum IDXLoader {
    /// Magic number of an unsigned-byte, 3-dimensional IDX file (images N × rows × columns).
    public static let imagesMagic: UInt32 = 0x0000_0803
    /// Magic number of an unsigned-byte, 1-dimensional IDX file (labels N).
    public static let labelsMagic: UInt32 = 0x0000_0801

    /// Loads `images` (magic 0x00000803, big-endian u32 N, rows, cols, then N·rows·cols bytes) and
    /// `labels` (magic 0x00000801, big-endian u32 N, then N bytes) as one data set.
    ///
    /// Features are pixel / 255 in [0, 1]; `sampleShape` is `[1, rows, cols]`; `classCount` is
    /// the largest label + 1; the name is the images file's name. Throws `DataError` for a
    /// missing file, a wrong magic number, a truncated file, trailing bytes, or differing counts.
    public static func load(images: String, labels: String) throws -> Dataset {
        let img = try DataFile.bytes(images)
        let lab = try DataFile.bytes(labels)
        let imgDims = try header(img, path: images, magic: imagesMagic, dims: 3)
        let labDims = try header(lab, path: labels, magic: labelsMagic, dims: 1)
        let (n, rows, cols) = (imgDims[0], imgDims[1], imgDims[2])
        guard labDims[0] == n else {
            throw DataError.corrupt(path: labels, reason: "has \(labDims[0]) labels but \(images) has \(n) images")
        }
        guard n > 0, rows > 0, cols > 0 else { throw DataError.empty(path: images) }
        let d = rows * cols
        var features = [Float](repeating: 0, count: n * d)
        img.withUnsafeBufferPointer { src in
            features.withUnsafeMutableBufferPointer { dst in
                let base = 16
                for i in 0..<(n * d) { dst[i] = Float(src[base + i]) / 255 }
            }
        }
        let labelBytes = lab[8...]
        let classCount = Int(labelBytes.max() ?? 0) + 1
        return Dataset(
            name: DataFile.baseName(images), features: features, labels: labelBytes.map { Int32($0) },
            sampleShape: [1, rows, cols], classCount: classCount)
    }

    /// Checks the magic number and exact size of an IDX file; returns its dimensions.
    static func header(_ b: [UInt8], path: String, magic: UInt32, dims: Int) throws -> [Int] {
        let headerBytes = 4 + 4 * dims
        guard b.count >= 4 else { throw DataError.truncated(path: path, expectedBytes: headerBytes, actualBytes: b.count) }
        let found = be32(b, 0)
        guard found == magic else { throw DataError.badMagic(path: path, expected: magic, found: found) }
        guard b.count >= headerBytes else {
            throw DataError.truncated(path: path, expectedBytes: headerBytes, actualBytes: b.count)
        }
        let sizes = (0..<dims).map { Int(be32(b, 4 + 4 * $0)) }
        // Each size is < 2^32, so the product of three fits in Int64 only if checked.
        var expected = headerBytes
        var payload = 1
        for s in sizes {
            let (m, overflow) = payload.multipliedReportingOverflow(by: s)
            guard !overflow, m <= Int(Int32.max) else {
                throw DataError.corrupt(path: path, reason: "header dimensions \(sizes) are implausibly large")
            }
            payload = m
        }
        expected += payload
        guard b.count >= expected else { throw DataError.truncated(path: path, expectedBytes: expected, actualBytes: b.count) }
        guard b.count == expected else {
            throw DataError.corrupt(
                path: path, reason: "\(b.count - expected) bytes after the \(expected) its header describes; is it an IDX file?")
        }
        return sizes
    }

    private static func be32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }
}
