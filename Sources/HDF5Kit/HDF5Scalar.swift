internal import CHDF5

/// Element types HDF5Kit reads and writes: `Int32`, `Int64` and `Double`.
public protocol HDF5Scalar: Sendable, Equatable {
    /// The HDF5 native type id for this element type.
    static var nativeTypeID: Int64 { get }
    /// The HDF5 type class this element type must be read from.
    static var typeClassName: String { get }
}

extension Int32: HDF5Scalar {
    public static var nativeTypeID: Int64 { infaas_h5t_native_int32() }
    public static var typeClassName: String { "integer" }
}

extension Int64: HDF5Scalar {
    public static var nativeTypeID: Int64 { infaas_h5t_native_int64() }
    public static var typeClassName: String { "integer" }
}

extension Double: HDF5Scalar {
    public static var nativeTypeID: Int64 { infaas_h5t_native_double() }
    public static var typeClassName: String { "float" }
}

/// A dataset's contents: row-major values and the shape they have.
public struct HDF5Array<Element: HDF5Scalar>: Sendable, Equatable {
    public var values: [Element]
    public var shape: [Int]

    public init(values: [Element], shape: [Int]) {
        self.values = values
        self.shape = shape
    }
}
