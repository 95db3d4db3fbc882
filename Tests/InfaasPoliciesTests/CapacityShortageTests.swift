import InfaasCore
import Testing
@testable import InfaasPolicies

/// Queries refused for want of a class of worker (`capacityShortage`) ask the VM autoscaler
/// for one; a worker of that class already booting answers them, and becoming ready clears them.
/// (Found on `queueing-and-zero`: every GPU worker woken from zero was followed by a second,
/// launched by the shortage its own boot left behind.)
@Suite struct CapacityShortageTests {
    static func loop() throws -> ControlLoop {
        let context = PolicyContext(catalogue: try PolicyCatalogue([]),
                                    limits: ClusterLimits(initial: [.cpu: 1], maximum: [.cpu: 1, .gpu: 3]), config: PolicyConfig())
        var loop = ControlLoop(policy: try PolicyRegistry.make("infaas", context), seed: 1)
        loop.addWorker(loop.machineWorker(.cpu, name: "infaas-worker-cpu-0", status: .ready, now: .zero, slack: false))
        loop.snapshot.refreshUtilizationOrder()
        return loop
    }

    /// Runs `ticks` VM-autoscaler ticks 2 s apart from `start`; returns the GPU launches.
    static func gpuLaunches(_ loop: inout ControlLoop, ticks: Int, from start: Double) -> Int {
        var launches = 0
        for i in 0..<ticks {
            for effect in loop.vmTick(now: .seconds(start + 2 * Double(i))) {
                if case .launchWorker(_, _, .gpu, _) = effect { launches += 1 }
            }
        }
        return launches
    }

    @Test func aShortageWithAWorkerOfItsClassBootingLaunchesNoSecond() throws {
        var loop = try Self.loop()
        #expect(Self.gpuLaunches(&loop, ticks: 1, from: 0) == 0, "an idle cluster launches nothing")
        guard case .launchWorker(let booting, _, _, _) = loop.launch(.gpu, slack: false, now: .seconds(2)) else {
            Issue.record("launch returned no launch effect"); return
        }
        loop.snapshot.capacityShortage.insert(.gpu)  // queries refused while it boots
        #expect(Self.gpuLaunches(&loop, ticks: 5, from: 4) == 0, "the booting GPU answers the shortage")
        loop.workerReady(booting)
        #expect(!loop.snapshot.capacityShortage.contains(.gpu), "a ready worker answers the shortage recorded while it booted")
        #expect(Self.gpuLaunches(&loop, ticks: 3, from: 20) == 0)
    }

    @Test func aShortageSeenOnceTheWorkerServesStillLaunchesAnother() throws {
        var loop = try Self.loop()
        guard case .launchWorker(let first, _, _, _) = loop.launch(.gpu, slack: false, now: .zero) else {
            Issue.record("launch returned no launch effect"); return
        }
        loop.workerReady(first)
        loop.snapshot.capacityShortage.insert(.gpu)  // refused with the GPU ready: it is not enough
        #expect(Self.gpuLaunches(&loop, ticks: 1, from: 2) == 1)
    }
}
