internal import CHDF5

extension HDF5Group {
    /// Writes a one-dimensional dataset of strings (fixed length: the longest, NUL-padded,
    /// UTF-8), which h5py reads as bytes and `h5dump` prints.
    public func write(strings: [String], to name: String) throws(HDF5Error) {
        try HDF5Group.validate(name: name, file: file.path, parent: path)
        let encoded = strings.map { Array($0.utf8) }
        let width = max(1, encoded.map(\.count).max() ?? 1)
        var flat = [UInt8](repeating: 0, count: width * encoded.count)
        for (i, bytes) in encoded.enumerated() { flat.replaceSubrange((i * width)..<(i * width + bytes.count), with: bytes) }
        infaas_h5_silence_errors()
        let type = HDF5Handle(id: H5Tcopy(infaas_h5t_c_s1()), kind: .datatype)
        H5Tset_size(type.id, width)
        H5Tset_strpad(type.id, H5T_STR_NULLPAD)
        H5Tset_cset(type.id, H5T_CSET_UTF8)
        var dims = [hsize_t(strings.count)]
        let space = HDF5Handle(id: H5Screate_simple(1, &dims, nil), kind: .dataspace)
        let dataset = HDF5Handle(id: H5Dcreate2(handle.id, name, type.id, space.id, infaas_h5p_default(), infaas_h5p_default(), infaas_h5p_default()),
                                 kind: .dataset)
        guard dataset.id >= 0 else { throw error(.createDataset, objectPath(name)) }
        if !strings.isEmpty {
            let status = flat.withUnsafeBytes { H5Dwrite(dataset.id, type.id, infaas_h5s_all(), infaas_h5s_all(), infaas_h5p_default(), $0.baseAddress) }
            guard status >= 0 else { throw error(.write, objectPath(name)) }
        }
    }

    /// Reads a one-dimensional fixed-length string dataset written by ``write(strings:to:)``.
    public func readStrings(from name: String) throws(HDF5Error) -> [String] {
        guard contains(name) else {
            throw HDF5Error(code: .openDataset, file: file.path, object: objectPath(name), hdf5Message: "no such dataset")
        }
        infaas_h5_silence_errors()
        let dataset = HDF5Handle(id: H5Dopen2(handle.id, name, infaas_h5p_default()), kind: .dataset)
        guard dataset.id >= 0 else { throw error(.openDataset, objectPath(name)) }
        let type = HDF5Handle(id: H5Dget_type(dataset.id), kind: .datatype)
        guard H5Tget_class(type.id) == H5T_STRING, H5Tis_variable_str(type.id) <= 0 else {
            throw HDF5Error(code: .typeMismatch, file: file.path, object: objectPath(name), hdf5Message: "expected fixed-length strings")
        }
        let width = H5Tget_size(type.id)
        let space = HDF5Handle(id: H5Dget_space(dataset.id), kind: .dataspace)
        var dims = [hsize_t](repeating: 0, count: 1)
        guard H5Sget_simple_extent_ndims(space.id) == 1 else {
            throw HDF5Error(code: .typeMismatch, file: file.path, object: objectPath(name), hdf5Message: "expected one dimension")
        }
        H5Sget_simple_extent_dims(space.id, &dims, nil)
        let count = Int(dims[0])
        guard count > 0 else { return [] }
        var flat = [UInt8](repeating: 0, count: width * count)
        let status = flat.withUnsafeMutableBytes { H5Dread(dataset.id, type.id, infaas_h5s_all(), infaas_h5s_all(), infaas_h5p_default(), $0.baseAddress) }
        guard status >= 0 else { throw error(.read, objectPath(name)) }
        return (0..<count).map { i in String(decoding: flat[(i * width)..<((i + 1) * width)].prefix { $0 != 0 }, as: UTF8.self) }
    }
}
