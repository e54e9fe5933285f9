/// Errors raised by MurmurML's models and model files, each with a message that says what is
/// wrong and what to do about it.
public enum MLError: Error, Equatable, CustomStringConvertible {
    /// The model configuration cannot produce a working network (the reason names the field).
    case invalidConfig(String)
    /// A parameter vector has the wrong length for the configuration.
    case parameterCountMismatch(expected: Int, actual: Int)
    /// The byte buffer is too short to be a safetensors file (it needs at least the 8-byte
    /// header length and the header).
    case safetensorsTruncated(needed: Int, actual: Int)
    /// The header length field is larger than the rest of the file or than the 100 MB limit of
    /// the reference implementation.
    case safetensorsHeaderLength(declared: UInt64, available: Int)
    /// The header is not a valid JSON object of the shape the format requires.
    case safetensorsInvalidHeader(String)
    /// A tensor's dtype is one this reader does not convert to Float32.
    case safetensorsUnsupportedDType(tensor: String, dtype: String)
    /// A tensor's `data_offsets` are out of range, overlap another tensor, or leave a gap.
    case safetensorsInvalidOffsets(tensor: String, reason: String)
    /// A tensor's byte range does not match its shape × dtype size.
    case safetensorsSizeMismatch(tensor: String, expectedBytes: Int, actualBytes: Int)
    /// The data section is longer or shorter than the tensors the header declares.
    case safetensorsDataLength(declared: Int, actual: Int)
    /// A model file lacks a tensor the configuration needs.
    case missingTensor(name: String, shape: [Int])
    /// A model file has a tensor the configuration does not know.
    case unexpectedTensor(name: String)
    /// A model file's tensor has a different shape from the configuration's.
    case shapeMismatch(name: String, expected: [Int], actual: [Int])

    /// A message that says what is wrong and what to do about it.
    public var description: String {
        switch self {
        case .invalidConfig(let reason):
            return "invalid model config: \(reason)"
        case .parameterCountMismatch(let expected, let actual):
            return "the parameter vector has \(actual) values but this model config needs \(expected); "
                + "check that the parameters were produced for the same architecture, input shape and class count"
        case .safetensorsTruncated(let needed, let actual):
            return "safetensors data is truncated: needs at least \(needed) bytes, got \(actual); the file was cut short"
        case .safetensorsHeaderLength(let declared, let available):
            return "safetensors header length \(declared) is impossible: \(available) bytes follow the length field "
                + "(and headers are limited to \(Safetensors.maxHeaderLength) bytes); the file is corrupt or not safetensors"
        case .safetensorsInvalidHeader(let reason):
            return "safetensors header is invalid: \(reason)"
        case .safetensorsUnsupportedDType(let tensor, let dtype):
            return "tensor '\(tensor)' has dtype \(dtype); only F32, F16 and BF16 can be loaded — convert the file to F32"
        case .safetensorsInvalidOffsets(let tensor, let reason):
            return "tensor '\(tensor)' has invalid data_offsets: \(reason)"
        case .safetensorsSizeMismatch(let tensor, let expected, let actual):
            return "tensor '\(tensor)' spans \(actual) bytes but its shape and dtype need \(expected)"
        case .safetensorsDataLength(let declared, let actual):
            return "safetensors data section is \(actual) bytes but the header declares \(declared); the file is truncated or has trailing bytes"
        case .missingTensor(let name, let shape):
            return "model file has no tensor '\(name)' (shape \(shape)); it was saved for a different architecture"
        case .unexpectedTensor(let name):
            return "model file has tensor '\(name)' that this model config does not use; it was saved for a different architecture"
        case .shapeMismatch(let name, let expected, let actual):
            return "tensor '\(name)' has shape \(actual) but this model config needs \(expected); check hidden widths, input shape and class count"
        }
    }
}
