extension ModelVariant {
    /// The checks every way a variant enters the system shares (CSV and `.config` import,
    /// `profiles.h5` reading, registration): names from ``SafeName``'s alphabet, and every number
    /// finite, non-negative where it is a time or a size, and inside ``InputLimits``.
    /// `location` is the file (and line) it came from, for the error.
    public func validate(location: String? = nil) throws(ValidationError) {
        try SafeName.check(name, field: "variant name", location: location)
        try SafeName.check(architecture, field: "architecture of \(name)", location: location)
        try CheckedNumber.int(maxBatch, key: "max_batch of \(name)", range: 1...InputLimits.maxBatch, location: location)
        try CheckedNumber.int(useCase.inputDimension, key: "input dimension of \(name)", range: 1...65_536, location: location)
        let ms = 0...InputLimits.maxLatencyMs
        if let accuracy { _ = try CheckedNumber.double(accuracy, key: "accuracy of \(name)", range: InputLimits.accuracy, unit: " %", location: location) }
        if let loadLatencyMs { _ = try CheckedNumber.double(loadLatencyMs, key: "load_ms of \(name)", range: ms, unit: " ms", location: location) }
        if let memoryMB { _ = try CheckedNumber.double(memoryMB, key: "memory_mb of \(name)", range: 0...1e9, unit: " MB", location: location) }
        if let sizeMB { _ = try CheckedNumber.double(sizeMB, key: "size_mb of \(name)", range: 0...1e9, unit: " MB", location: location) }
        if let cpus { try CheckedNumber.int(cpus, key: "cpus of \(name)", range: 1...4096, location: location) }
        guard !latency.points.isEmpty else {
            throw ValidationError(field: "latency of \(name)", value: "", reason: "no batch was profiled", location: location)
        }
        for point in latency.points {
            let b = try CheckedNumber.int(point.batch, key: "batch of \(name)", range: 1...InputLimits.maxBatch, location: location)
            for (key, value) in [("p50_ms", point.p50Ms), ("p99_ms", point.p99Ms), ("mean_ms", point.meanMs), ("p90_ms", point.p90Ms)] {
                if let value { _ = try CheckedNumber.double(value, key: "\(key) of \(name) at batch \(b)", range: ms, unit: " ms", location: location) }
            }
        }
        let model = latency.model
        _ = try CheckedNumber.double(model.slopeMs, key: "latency slope of \(name)", range: -InputLimits.maxLatencyMs...InputLimits.maxLatencyMs,
                                     unit: " ms", location: location)
        _ = try CheckedNumber.double(model.interceptMs, key: "latency intercept of \(name)", range: -InputLimits.maxLatencyMs...InputLimits.maxLatencyMs,
                                     unit: " ms", location: location)
        if let samples = latency.samplesMs {
            for row in samples {
                for value in row where !value.isNaN {
                    _ = try CheckedNumber.double(value, key: "latency sample of \(name)", range: ms, unit: " ms", location: location)
                }
            }
        }
    }
}
