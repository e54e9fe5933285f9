import MurmurTestSupport
import Testing
@testable import MurmurML

/// IDX files as described on the MNIST page (LeCun, Cortes & Burges): big-endian u32 magic
/// 0x00000803 / 0x00000801 and dimensions, then unsigned bytes.
@Suite(.ownThreads) struct DataIDXLoaderTests {
    static func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

    /// Three 2×3 images with pixels 0, 1, …, 17 and labels 4, 0, 9.
    static let images: [UInt8] = be32(0x803) + be32(3) + be32(2) + be32(3) + (0..<18).map { UInt8($0 * 15) }
    static let labels: [UInt8] = be32(0x801) + be32(3) + [4, 0, 9]

    /// A one-member gzip file holding `data` in a single stored DEFLATE block (RFC 1952, RFC 1951 §3.2.4).
    static func gzipStored(_ data: [UInt8]) -> [UInt8] {
        let n = data.count
        let crc = data.withUnsafeBufferPointer { CRC32.checksum($0) }
        let le32 = { (v: UInt32) in (0..<4).map { UInt8(v >> (8 * UInt32($0)) & 0xFF) } }
        return [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF, 0x01, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            + data + le32(crc) + le32(UInt32(n))
    }

    @Test func roundTrip() throws {
        let dir = try TempFolder()
        defer { dir.remove() }
        let d = try IDXLoader.load(images: try dir.write("img-idx3-ubyte", Self.images), labels: try dir.write("lab-idx1-ubyte", Self.labels))
        #expect(d.count == 3)
        #expect(d.sampleShape == [1, 2, 3])
        #expect(d.labels == [4, 0, 9])
        #expect(d.classCount == 10)
        #expect(d.name == "img-idx3-ubyte")
        #expect(d.features == (0..<18).map { Float($0 * 15) / 255 })
    }

    @Test func gzippedFilesAreRead() throws {
        let dir = try TempFolder()
        defer { dir.remove() }
        let plain = try IDXLoader.load(images: try dir.write("i", Self.images), labels: try dir.write("l", Self.labels))
        let gz = try IDXLoader.load(
            images: try dir.write("i.gz", Self.gzipStored(Self.images)), labels: try dir.write("l.gz", Self.gzipStored(Self.labels)))
        #expect(gz.features == plain.features && gz.labels == plain.labels)
    }

    @Test func brokenFilesAreRejected() throws {
        let dir = try TempFolder()
        defer { dir.remove() }
        let labels = try dir.write("labels", Self.labels)
        let truncated = try dir.write("truncated", Array(Self.images.dropLast()))
        #expect(throws: DataError.truncated(path: truncated, expectedBytes: 34, actualBytes: 33)) {
            try IDXLoader.load(images: truncated, labels: labels)
        }
        let header = try dir.write("header", Array(Self.images.prefix(10)))
        #expect(throws: DataError.truncated(path: header, expectedBytes: 16, actualBytes: 10)) {
            try IDXLoader.load(images: header, labels: labels)
        }
        // Images and labels swapped: the magic says which is which.
        let images = try dir.write("images", Self.images)
        #expect(throws: DataError.badMagic(path: labels, expected: 0x803, found: 0x801)) {
            try IDXLoader.load(images: labels, labels: images)
        }
        let float = try dir.write("float", be32f())
        #expect(throws: DataError.badMagic(path: float, expected: 0x803, found: 0x0D03)) {
            try IDXLoader.load(images: float, labels: labels)
        }
        let extra = try dir.write("extra", Self.images + [0])
        #expect(throws: DataError.self) { try IDXLoader.load(images: extra, labels: labels) }
        let twoLabels = try dir.write("two", Self.be32(0x801) + Self.be32(2) + [1, 2])
        #expect(throws: DataError.self) { try IDXLoader.load(images: images, labels: twoLabels) }
        #expect(throws: DataError.fileNotFound(path: dir.url.path + "/missing")) {
            try IDXLoader.load(images: dir.url.path + "/missing", labels: labels)
        }
        var badGzip = Self.gzipStored(Self.images)
        badGzip[badGzip.count - 6] ^= 1
        let corrupt = try dir.write("corrupt.gz", badGzip)
        #expect(throws: DataError.corrupt(path: corrupt, reason: "gzip CRC-32 check failed: the data is corrupt")) {
            try IDXLoader.load(images: corrupt, labels: labels)
        }
    }

    /// An IDX header for float32 data (type 0x0D), which Murmur does not read.
    func be32f() -> [UInt8] { Self.be32(0x0D03) + Self.be32(1) + Self.be32(1) + Self.be32(1) + [0, 0, 0, 0] }

    @Test func messagesSayWhatToDo() {
        let m = DataError.badMagic(path: "x", expected: 0x803, found: 0x801).description
        #expect(m.contains("0x00000801") && m.contains("0x00000803"))
        #expect(DataError.truncated(path: "x", expectedBytes: 10, actualBytes: 5).description.contains("download it again"))
    }
}
