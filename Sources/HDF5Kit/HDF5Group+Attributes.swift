internal import CHDF5

/// A scalar attribute value as stored on a group.
public enum HDF5AttributeValue: Sendable, Equatable {
    case string(String)
    case integer(Int64)
    case double(Double)
}

extension HDF5Group {
    /// Sets (or replaces) a string attribute. Written as a fixed-length, NUL-terminated
    /// UTF-8 string, which `h5dump` and h5py both read.
    public func setAttribute(_ name: String, _ value: String) throws(HDF5Error) {
        let bytes = Array(value.utf8)
        infaas_h5_silence_errors()
        let type = HDF5Handle(id: H5Tcopy(infaas_h5t_c_s1()), kind: .datatype)
        guard type.id >= 0 else { throw error(.attribute, attributePath(name)) }
        H5Tset_size(type.id, max(bytes.count, 1))
        H5Tset_strpad(type.id, H5T_STR_NULLTERM)
        H5Tset_cset(type.id, H5T_CSET_UTF8)
        let attribute = try createScalarAttribute(name, typeID: type.id)
        var padded = bytes
        if padded.isEmpty { padded = [0] }
        let status = padded.withUnsafeBytes { H5Awrite(attribute.id, type.id, $0.baseAddress) }
        guard status >= 0 else { throw error(.attribute, attributePath(name)) }
    }

    /// Sets (or replaces) an integer attribute.
    public func setAttribute(_ name: String, _ value: Int64) throws(HDF5Error) {
        let attribute = try createScalarAttribute(name, typeID: infaas_h5t_native_int64())
        var copy = value
        guard H5Awrite(attribute.id, infaas_h5t_native_int64(), &copy) >= 0 else { throw error(.attribute, attributePath(name)) }
    }

    /// Sets (or replaces) a floating-point attribute. `nil` is stored as NaN ("not known").
    public func setAttribute(_ name: String, _ value: Double?) throws(HDF5Error) {
        let attribute = try createScalarAttribute(name, typeID: infaas_h5t_native_double())
        var copy = value ?? .nan
        guard H5Awrite(attribute.id, infaas_h5t_native_double(), &copy) >= 0 else { throw error(.attribute, attributePath(name)) }
    }

    /// The names of this group's attributes.
    public func attributeNames() throws(HDF5Error) -> [String] {
        infaas_h5_silence_errors()
        var info = H5O_info_t()
        guard H5Oget_info2(handle.id, &info, UInt32(H5O_INFO_NUM_ATTRS)) >= 0 else { throw error(.attribute, path) }
        guard UInt64(info.num_attrs) <= HDF5Limits.maxChildren else {
            throw HDF5Error(code: .attribute, file: file.path, object: path,
                            hdf5Message: "the file says the object has \(info.num_attrs) attributes (damaged file?)")
        }
        var names: [String] = []
        for index in 0..<info.num_attrs {
            let length = H5Aget_name_by_idx(handle.id, ".", H5_INDEX_NAME, H5_ITER_INC, index, nil, 0, infaas_h5p_default())
            guard length >= 0 else { throw error(.attribute, path) }
            guard length <= HDF5Limits.maxNameBytes else {
                throw HDF5Error(code: .attribute, file: file.path, object: path,
                                hdf5Message: "an attribute name is \(length) bytes long (damaged file?)")
            }
            var buffer = [CChar](repeating: 0, count: Int(length) + 1)
            H5Aget_name_by_idx(handle.id, ".", H5_INDEX_NAME, H5_ITER_INC, index, &buffer, buffer.count, infaas_h5p_default())
            names.append(String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return names
    }

    /// Whether the group has an attribute of that name.
    public func hasAttribute(_ name: String) -> Bool {
        infaas_h5_silence_errors()
        let answer = H5Aexists(handle.id, name)
        if answer < 0 { HDF5Library.takeErrorMessage() }
        return answer > 0
    }

    /// Reads a scalar attribute of any supported type (fixed or variable-length strings,
    /// integers, floats).
    public func attribute(_ name: String) throws(HDF5Error) -> HDF5AttributeValue {
        guard hasAttribute(name) else {
            throw HDF5Error(code: .attribute, file: file.path, object: attributePath(name), hdf5Message: "no such attribute")
        }
        infaas_h5_silence_errors()
        let attribute = HDF5Handle(id: H5Aopen(handle.id, name, infaas_h5p_default()), kind: .attribute)
        guard attribute.id >= 0 else { throw error(.attribute, attributePath(name)) }
        let type = HDF5Handle(id: H5Aget_type(attribute.id), kind: .datatype)
        switch H5Tget_class(type.id) {
        case H5T_INTEGER:
            var value: Int64 = 0
            guard H5Aread(attribute.id, infaas_h5t_native_int64(), &value) >= 0 else { throw error(.attribute, attributePath(name)) }
            return .integer(value)
        case H5T_FLOAT:
            var value: Double = 0
            guard H5Aread(attribute.id, infaas_h5t_native_double(), &value) >= 0 else { throw error(.attribute, attributePath(name)) }
            return .double(value)
        case H5T_STRING:
            return .string(try readString(attribute: attribute, type: type, name: name))
        default:
            throw HDF5Error(code: .typeMismatch, file: file.path, object: attributePath(name),
                            hdf5Message: "unsupported attribute type (expected string, integer or float)")
        }
    }

    /// Reads a string attribute; a missing or non-string attribute throws.
    public func stringAttribute(_ name: String) throws(HDF5Error) -> String {
        guard case .string(let value) = try attribute(name) else {
            throw HDF5Error(code: .typeMismatch, file: file.path, object: attributePath(name), hdf5Message: "expected a string attribute")
        }
        return value
    }

    /// Reads a numeric attribute as `Double` (integers convert); NaN reads as `nil`.
    public func doubleAttribute(_ name: String) throws(HDF5Error) -> Double? {
        switch try attribute(name) {
        case .double(let value): return value.isNaN ? nil : value
        case .integer(let value): return Double(value)
        case .string:
            throw HDF5Error(code: .typeMismatch, file: file.path, object: attributePath(name), hdf5Message: "expected a number, found a string")
        }
    }

    /// Reads an integer attribute; a float with a fractional part is a type mismatch.
    public func integerAttribute(_ name: String) throws(HDF5Error) -> Int64 {
        switch try attribute(name) {
        case .integer(let value): return value
        case .double(let value) where value.rounded() == value && value.isFinite: return Int64(value)
        default:
            throw HDF5Error(code: .typeMismatch, file: file.path, object: attributePath(name), hdf5Message: "expected an integer")
        }
    }

    func attributePath(_ name: String) -> String { "\(path)@\(name)" }

    private func createScalarAttribute(_ name: String, typeID: hid_t) throws(HDF5Error) -> HDF5Handle {
        guard !name.isEmpty else {
            throw HDF5Error(code: .invalidArgument, file: file.path, object: path, hdf5Message: "attribute name is empty")
        }
        infaas_h5_silence_errors()
        if H5Aexists(handle.id, name) > 0, H5Adelete(handle.id, name) < 0 {
            throw error(.attribute, attributePath(name))
        }
        let space = HDF5Handle(id: H5Screate(H5S_SCALAR), kind: .dataspace)
        let attribute = HDF5Handle(id: H5Acreate2(handle.id, name, typeID, space.id, infaas_h5p_default(), infaas_h5p_default()),
                                   kind: .attribute)
        guard attribute.id >= 0 else { throw error(.attribute, attributePath(name)) }
        return attribute
    }

    private func readString(attribute: HDF5Handle, type: HDF5Handle, name: String) throws(HDF5Error) -> String {
        if H5Tis_variable_str(type.id) > 0 {
            // Variable-length strings, as h5py writes them by default.
            let memType = HDF5Handle(id: H5Tcopy(infaas_h5t_c_s1()), kind: .datatype)
            H5Tset_size(memType.id, Int(bitPattern: UInt(bitPattern: -1)))  // H5T_VARIABLE
            H5Tset_cset(memType.id, H5Tget_cset(type.id))
            var pointer: UnsafeMutablePointer<CChar>? = nil
            guard H5Aread(attribute.id, memType.id, &pointer) >= 0 else { throw error(.attribute, attributePath(name)) }
            defer { if let pointer { H5free_memory(pointer) } }
            return pointer.map { String(cString: $0) } ?? ""
        }
        let size = H5Tget_size(type.id)
        guard size > 0, size <= HDF5Limits.maxNameBytes else {
            throw HDF5Error(code: .attribute, file: file.path, object: attributePath(name),
                            hdf5Message: "the file says the string is \(size) bytes; at most \(HDF5Limits.maxNameBytes) are read (damaged file?)")
        }
        var buffer = [UInt8](repeating: 0, count: size + 1)
        guard H5Aread(attribute.id, type.id, &buffer) >= 0 else { throw error(.attribute, attributePath(name)) }
        return String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
    }
}
