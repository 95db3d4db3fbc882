internal import CHDF5

/// Process-wide facts about the HDF5 C library.
public enum HDF5Library {
    /// The library version, e.g. `(1, 10, 8)`.
    public static var version: (major: Int, minor: Int, release: Int) {
        var major: UInt32 = 0, minor: UInt32 = 0, release: UInt32 = 0
        H5get_libversion(&major, &minor, &release)
        return (Int(major), Int(minor), Int(release))
    }

    /// The number of HDF5 objects (files, groups, datasets, types, attributes) open in
    /// this process. HDF5Kit closes every id it opens; tests check this returns to zero.
    public static func openObjectCount() -> Int {
        Int(H5Fget_obj_count(hid_t(infaas_h5f_obj_all()), infaas_h5f_obj_all()))
    }

    /// Whether `path` starts with the HDF5 signature. `false` for missing or unreadable files.
    public static func isHDF5(path: String) -> Bool {
        infaas_h5_silence_errors()
        let answer = H5Fis_hdf5(path)
        if answer < 0 { takeErrorMessage() ; return false }
        return answer > 0
    }

    /// Captures and clears the calling thread's HDF5 error stack.
    @discardableResult
    static func takeErrorMessage() -> String {
        var buffer = [CChar](repeating: 0, count: 1024)
        buffer.withUnsafeMutableBufferPointer { infaas_h5_take_error($0.baseAddress, $0.count) }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
