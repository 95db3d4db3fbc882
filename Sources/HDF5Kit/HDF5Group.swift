internal import CHDF5

/// A group inside an HDF5 file: create and list children, write and read datasets,
/// set and get attributes.
public final class HDF5Group: @unchecked Sendable {
    /// The file this group belongs to (kept alive by the group).
    public let file: HDF5File
    /// The group's absolute path in the file, e.g. `/variants/resnet50_cpu`.
    public let path: String
    let handle: HDF5Handle

    init(file: HDF5File, path: String, id: hid_t) {
        self.file = file
        self.path = path
        self.handle = HDF5Handle(id: id, kind: .group)
    }

    static func open(in file: HDF5File, parentID: hid_t, parentPath: String, name: String) throws(HDF5Error) -> HDF5Group {
        infaas_h5_silence_errors()
        let id = H5Gopen2(parentID, name, infaas_h5p_default())
        let path = name == "/" ? "/" : HDF5Group.join(parentPath, name)
        guard id >= 0 else {
            throw HDF5Error(code: .openGroup, file: file.path, object: path, hdf5Message: HDF5Library.takeErrorMessage())
        }
        return HDF5Group(file: file, path: path, id: id)
    }

    static func join(_ parent: String, _ child: String) -> String {
        parent == "/" || parent.isEmpty ? "/" + child : parent + "/" + child
    }

    func objectPath(_ name: String) -> String { HDF5Group.join(path, name) }

    func error(_ code: HDF5Error.Code, _ object: String, _ fallback: String = "") -> HDF5Error {
        let message = HDF5Library.takeErrorMessage()
        return HDF5Error(code: code, file: file.path, object: object, hdf5Message: message.isEmpty ? fallback : message)
    }

    static func validate(name: String, file: String, parent: String) throws(HDF5Error) {
        if name.isEmpty || name.contains("/") || name == "." {
            throw HDF5Error(code: .invalidArgument, file: file, object: parent,
                            hdf5Message: "child name \"\(name)\" must be non-empty and contain no '/'")
        }
    }

    // MARK: Children

    /// Creates a child group.
    public func createGroup(_ name: String) throws(HDF5Error) -> HDF5Group {
        try HDF5Group.validate(name: name, file: file.path, parent: path)
        infaas_h5_silence_errors()
        let id = H5Gcreate2(handle.id, name, infaas_h5p_default(), infaas_h5p_default(), infaas_h5p_default())
        guard id >= 0 else { throw error(.createGroup, objectPath(name)) }
        return HDF5Group(file: file, path: objectPath(name), id: id)
    }

    /// Opens a child group.
    public func group(_ name: String) throws(HDF5Error) -> HDF5Group {
        try HDF5Group.validate(name: name, file: file.path, parent: path)
        guard contains(name) else {
            throw HDF5Error(code: .openGroup, file: file.path, object: objectPath(name), hdf5Message: "no such group")
        }
        return try HDF5Group.open(in: file, parentID: handle.id, parentPath: path, name: name)
    }

    /// Whether a child (group or dataset) of that name exists.
    public func contains(_ name: String) -> Bool {
        guard !name.isEmpty, !name.contains("/") else { return false }
        infaas_h5_silence_errors()
        let answer = H5Lexists(handle.id, name, infaas_h5p_default())
        if answer < 0 { HDF5Library.takeErrorMessage() }
        return answer > 0
    }

    /// The names of the group's children, in HDF5's name order.
    public func childNames() throws(HDF5Error) -> [String] {
        infaas_h5_silence_errors()
        var info = H5G_info_t()
        guard H5Gget_info(handle.id, &info) >= 0 else { throw error(.read, path) }
        guard UInt64(info.nlinks) <= HDF5Limits.maxChildren else {
            throw HDF5Error(code: .read, file: file.path, object: path,
                            hdf5Message: "the file says the group has \(info.nlinks) members; at most \(HDF5Limits.maxChildren) are read (damaged file?)")
        }
        var names: [String] = []
        names.reserveCapacity(Int(info.nlinks))
        for index in 0..<info.nlinks {
            let length = H5Lget_name_by_idx(handle.id, ".", H5_INDEX_NAME, H5_ITER_INC, index, nil, 0, infaas_h5p_default())
            guard length >= 0 else { throw error(.read, path) }
            guard length <= HDF5Limits.maxNameBytes else {
                throw HDF5Error(code: .read, file: file.path, object: path,
                                hdf5Message: "a member name is \(length) bytes long; at most \(HDF5Limits.maxNameBytes) are read (damaged file?)")
            }
            var buffer = [CChar](repeating: 0, count: Int(length) + 1)
            let written = H5Lget_name_by_idx(handle.id, ".", H5_INDEX_NAME, H5_ITER_INC, index, &buffer, buffer.count, infaas_h5p_default())
            guard written >= 0 else { throw error(.read, path) }
            names.append(String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return names
    }

    // MARK: Datasets

    /// Writes a dataset of `values` with the given shape (default: one dimension).
    public func write<T: HDF5Scalar>(_ values: [T], to name: String, shape: [Int]? = nil) throws(HDF5Error) {
        try HDF5Group.validate(name: name, file: file.path, parent: path)
        let dims = shape ?? [values.count]
        guard dims.reduce(1, *) == values.count, dims.allSatisfy({ $0 >= 0 }) else {
            throw HDF5Error(code: .invalidArgument, file: file.path, object: objectPath(name),
                            hdf5Message: "shape \(dims) does not hold \(values.count) values")
        }
        infaas_h5_silence_errors()
        var hdims = dims.map { hsize_t($0) }
        let space = HDF5Handle(id: H5Screate_simple(Int32(hdims.count), &hdims, nil), kind: .dataspace)
        guard space.id >= 0 else { throw error(.createDataset, objectPath(name)) }
        let dataset = HDF5Handle(
            id: H5Dcreate2(handle.id, name, hid_t(T.nativeTypeID), space.id,
                           infaas_h5p_default(), infaas_h5p_default(), infaas_h5p_default()),
            kind: .dataset)
        guard dataset.id >= 0 else { throw error(.createDataset, objectPath(name)) }
        let status = values.withUnsafeBytes { bytes in
            H5Dwrite(dataset.id, hid_t(T.nativeTypeID), infaas_h5s_all(), infaas_h5s_all(), infaas_h5p_default(), bytes.baseAddress)
        }
        guard status >= 0 else { throw error(.write, objectPath(name)) }
    }

    /// Reads a whole dataset as `T`. HDF5 converts between numeric types of the same class;
    /// reading a float dataset as an integer type (or the reverse) is a type mismatch.
    public func read<T: HDF5Scalar>(_ type: T.Type, from name: String) throws(HDF5Error) -> HDF5Array<T> {
        try HDF5Group.validate(name: name, file: file.path, parent: path)
        guard contains(name) else {
            throw HDF5Error(code: .openDataset, file: file.path, object: objectPath(name), hdf5Message: "no such dataset")
        }
        infaas_h5_silence_errors()
        let dataset = HDF5Handle(id: H5Dopen2(handle.id, name, infaas_h5p_default()), kind: .dataset)
        guard dataset.id >= 0 else { throw error(.openDataset, objectPath(name)) }
        let fileType = HDF5Handle(id: H5Dget_type(dataset.id), kind: .datatype)
        let actualClass = H5Tget_class(fileType.id)
        let wanted = T.typeClassName == "integer" ? H5T_INTEGER : H5T_FLOAT
        guard actualClass == wanted else {
            throw HDF5Error(code: .typeMismatch, file: file.path, object: objectPath(name),
                            hdf5Message: "expected \(T.typeClassName) data, found HDF5 type class \(actualClass.rawValue)")
        }
        let space = HDF5Handle(id: H5Dget_space(dataset.id), kind: .dataspace)
        let rank = H5Sget_simple_extent_ndims(space.id)
        guard rank >= 0 else { throw error(.read, objectPath(name)) }
        guard rank <= HDF5Limits.maxRank else {
            throw HDF5Error(code: .read, file: file.path, object: objectPath(name),
                            hdf5Message: "the file says the dataset has \(rank) dimensions; at most \(HDF5Limits.maxRank) are read (damaged file?)")
        }
        var hdims = [hsize_t](repeating: 0, count: Int(rank))
        H5Sget_simple_extent_dims(space.id, &hdims, nil)
        let count = try checkedCount(hdims, elementBytes: MemoryLayout<T>.stride, dataset: dataset, name: name)
        let shape = hdims.map { Int($0) }
        var values = [T]()
        if count > 0 {
            var failed = false
            values = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                let status = H5Dread(dataset.id, hid_t(T.nativeTypeID), infaas_h5s_all(), infaas_h5s_all(),
                                     infaas_h5p_default(), UnsafeMutableRawPointer(buffer.baseAddress))
                failed = status < 0
                initialized = failed ? 0 : count
            }
            if failed { throw error(.read, objectPath(name)) }
        }
        return HDF5Array(values: values, shape: shape)
    }

    /// The number of elements a dataset of extent `dims` holds, checked before anything is
    /// allocated: against ``HDF5Limits/maxReadBytes`` and, for data stored contiguously (as
    /// HDF5Kit writes it), against the size of the file — a damaged header cannot make a read
    /// allocate more than the file could hold.
    func checkedCount(_ dims: [hsize_t], elementBytes: Int, dataset: HDF5Handle, name: String) throws(HDF5Error) -> Int {
        var count: UInt64 = 1
        for d in dims {
            let (product, overflow) = count.multipliedReportingOverflow(by: UInt64(d))
            guard !overflow else {
                throw HDF5Error(code: .read, file: file.path, object: objectPath(name), hdf5Message: "the extent \(dims) overflows (damaged file?)")
            }
            count = product
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: UInt64(elementBytes))
        guard !overflow, bytes <= HDF5Limits.maxReadBytes else {
            throw HDF5Error(code: .read, file: file.path, object: objectPath(name),
                            hdf5Message: "the extent \(dims) would need \(overflow ? "more than 2^64" : "\(bytes)") bytes; at most \(HDF5Limits.maxReadBytes) are read (damaged file?)")
        }
        var fileSize: hsize_t = 0
        let plist = H5Dget_create_plist(dataset.id)
        let layout = plist >= 0 ? H5Pget_layout(plist) : H5D_LAYOUT_ERROR
        if plist >= 0 { H5Pclose(plist) }
        if layout == H5D_CONTIGUOUS, H5Fget_filesize(file.handle.id, &fileSize) >= 0, bytes > UInt64(fileSize) {
            throw HDF5Error(code: .read, file: file.path, object: objectPath(name),
                            hdf5Message: "the extent \(dims) needs \(bytes) bytes but the file is \(fileSize) bytes (damaged or truncated file)")
        }
        return Int(count)
    }
}

/// Sizes HDF5Kit reads from a file are compared with these before it allocates.
public enum HDF5Limits {
    /// Largest dataset read, bytes (1 GiB).
    public static let maxReadBytes: UInt64 = 1 << 30
    /// Most dimensions of a dataset.
    public static let maxRank: Int32 = 8
    /// Most members of a group, or attributes of an object.
    public static let maxChildren: UInt64 = 10_000_000
    /// Longest member, attribute or fixed-length string attribute, bytes.
    public static let maxNameBytes = 1 << 20
}
