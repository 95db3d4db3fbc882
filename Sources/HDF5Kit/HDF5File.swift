internal import CHDF5

/// Owns one HDF5 id and closes it exactly once (on ``close()`` or when released).
final class HDF5Handle: @unchecked Sendable {
    enum Kind { case file, group, dataset, attribute, dataspace, datatype }
    private(set) var id: hid_t
    let kind: Kind

    init(id: hid_t, kind: Kind) {
        self.id = id
        self.kind = kind
    }

    func close() {
        guard id >= 0 else { return }
        switch kind {
        case .file: H5Fclose(id)
        case .group: H5Gclose(id)
        case .dataset: H5Dclose(id)
        case .attribute: H5Aclose(id)
        case .dataspace: H5Sclose(id)
        case .datatype: H5Tclose(id)
        }
        id = -1
    }

    deinit { close() }
}

/// An HDF5 file on disk. Groups opened from it keep it alive; everything is closed when the
/// last reference goes away, or at once with ``close()``.
///
/// ```swift
/// let file = try HDF5File.create(at: "profiles.h5")
/// let meta = try file.root.createGroup("meta")
/// try meta.setAttribute("format_version", 1 as Int64)
/// ```
public final class HDF5File: @unchecked Sendable {
    /// The path the file was created or opened at.
    public let path: String
    let handle: HDF5Handle

    private init(path: String, id: hid_t) {
        self.path = path
        self.handle = HDF5Handle(id: id, kind: .file)
    }

    /// Creates a file, replacing an existing one unless `overwrite` is false.
    public static func create(at path: String, overwrite: Bool = true) throws(HDF5Error) -> HDF5File {
        infaas_h5_silence_errors()
        let flags = overwrite ? infaas_h5f_acc_trunc() : infaas_h5f_acc_excl()
        let id = H5Fcreate(path, flags, infaas_h5p_default(), infaas_h5p_default())
        guard id >= 0 else {
            throw HDF5Error(code: .createFile, file: path, object: "/", hdf5Message: HDF5Library.takeErrorMessage())
        }
        return HDF5File(path: path, id: id)
    }

    /// Opens an existing file. A missing file, or one that is not HDF5 (or is truncated),
    /// throws with a message that says which.
    public static func open(at path: String, writable: Bool = false) throws(HDF5Error) -> HDF5File {
        infaas_h5_silence_errors()
        let signature = H5Fis_hdf5(path)
        if signature <= 0 {
            let detail = HDF5Library.takeErrorMessage()
            if signature == 0 {
                throw HDF5Error(code: .notHDF5, file: path, object: "/",
                                hdf5Message: "the file does not start with the HDF5 signature")
            }
            throw HDF5Error(code: .openFile, file: path, object: "/",
                            hdf5Message: detail.isEmpty ? "file missing or unreadable" : detail)
        }
        let id = H5Fopen(path, writable ? infaas_h5f_acc_rdwr() : infaas_h5f_acc_rdonly(), infaas_h5p_default())
        guard id >= 0 else {
            let message = HDF5Library.takeErrorMessage()
            throw HDF5Error(code: .openFile, file: path, object: "/",
                            hdf5Message: message.isEmpty ? "the file is damaged or truncated" : "\(message) (damaged or truncated file?)")
        }
        return HDF5File(path: path, id: id)
    }

    /// The root group `/`.
    public func root() throws(HDF5Error) -> HDF5Group {
        try HDF5Group.open(in: self, parentID: handle.id, parentPath: "", name: "/")
    }

    /// Flushes and closes the file now. Objects still open inside it keep HDF5's file
    /// structure alive until they are released too.
    public func close() { handle.close() }

    /// Writes buffered data to disk.
    public func flush() throws(HDF5Error) {
        infaas_h5_silence_errors()
        if H5Fflush(handle.id, H5F_SCOPE_GLOBAL) < 0 {
            throw HDF5Error(code: .write, file: path, object: "/", hdf5Message: HDF5Library.takeErrorMessage())
        }
    }
}
